# SPDX-License-Identifier: GPL-2.0-only
# Known Ruby chains for flamed's Ruby frames (tests/e2e/test_ruby.sh reads the lines from here by
# their marks): <main> -> main -> Outer#mid -> leaf, whose loop is one line; with "digest"
# Outer#mid -> digest, a loop of Digest::SHA256.digest calls (native code under a Ruby caller);
# with "block" Outer#mid -> Integer#times (C) -> block in mid -> leaf (a block yielded from C:
# a second entry into the VM); with "threads" a second thread spins in <main> -> worker -> leaf
# while the main thread spins in main -> Outer#mid -> leaf (they take turns holding the GVL),
# and the worker's thread id is printed first; with "nogvl" the worker compresses with zlib,
# whose deflate runs with the GVL released, while the main thread runs Ruby code; with "classes"
# Outer#mid -> Shapes::Box.build (def self.) -> Shapes::Util.twice (class << self of a module)
# -> Shapes::Fill#fill (a module's method, included) -> matchy (whose =~ gives its frame an
# svar in place of the method entry) -> leaf; with "many" Outer#mid -> Many#mK -> ... ->
# Many#m(K+63) -> leaf, through 64 of 20,000 methods, more than flamed's BPF keeps the method
# entries of (16,384).
# Runs for CPU time, not wall time: a loaded machine still gets its samples.
#   ruby rbchain.rb [chain|digest|block|threads|nogvl|classes|many] [SECONDS] [wall]
require 'digest'
require 'zlib'

def leaf(n)
  x = 0
  i = 0
  while i < n; x += i * i; i += 1; end # L-LEAF
  x
end

def digest(n)
  h = 'a' * 65536
  n.times { h = Digest::SHA256.digest(h) * 2048 } # L-DIGEST
  h
end

def matchy(n)
  return 0 unless 'abc' =~ /b/
  leaf(n)
end

module Shapes
  module Fill
    def fill(n)
      matchy(n)
    end
  end

  module Util
    class << self
      def twice(n)
        Box.new.fill(n)
      end
    end
  end

  class Box
    include Fill

    def self.build(n)
      Util.twice(n)
    end
  end
end

MANY = 20_000
MANY_DEPTH = 64

class Many
  # Each mK calls m(K+1) until d runs out; the last ones call leaf. Defined for "many" only:
  # compiling them is a second of start-up.
  def self.define
    MANY.times do |k|
      class_eval("def m#{k}(n, d) d > 0 ? m#{k + 1}(n, d - 1) : leaf(n) end", __FILE__, __LINE__)
    end
  end
end

class Outer
  def mid(mode, n)
    return digest(n / 2000) if mode == 'digest' # L-MID-DIGEST
    if mode == 'many'
      @k = ((@k || 0) + MANY_DEPTH) % (MANY - MANY_DEPTH)
      @many ||= Many.new
      return @many.public_send(:"m#{@k}", n / 100, MANY_DEPTH - 1) # L-MID-MANY
    end
    return Shapes::Box.build(n) if mode == 'classes' # L-MID-CLASSES
    if mode == 'block'
      r = 0
      4.times { r += leaf(n / 4) } # L-MID-BLOCK
      return r
    end
    leaf(n) # L-MID
  end
end

def cpu_seconds
  Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
end

# ARGV[2] "wall": seconds of wall time (a process that lives that long however busy the
# machine), else of CPU time.
def wall_seconds
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

def main(mode, seconds, clock = :cpu_seconds)
  o = Outer.new
  t_end = send(clock) + seconds
  while send(clock) < t_end
    o.mid(mode, 20000) # L-MAIN
  end
end

def worker(t_end)
  leaf(20000) while cpu_seconds < t_end # L-WORKER
end

def compress(t_end)
  data = Random.new(1).bytes(1 << 20)
  Zlib::Deflate.new(9).deflate(data, Zlib::FINISH) while cpu_seconds < t_end
end

mode = ARGV[0] || 'chain'
seconds = (ARGV[1] || 3).to_f
if mode == 'threads' || mode == 'nogvl'
  q = Queue.new
  t = Thread.new do
    q << Thread.current.native_thread_id
    mode == 'nogvl' ? compress(cpu_seconds + 2 * seconds) : worker(cpu_seconds + 2 * seconds)
  end
  $stdout.puts q.pop
  $stdout.flush
  main('chain', 2 * seconds)
  t.join
else
  Many.define if mode == 'many'
  main(mode, seconds, ARGV[2] == 'wall' ? :wall_seconds : :cpu_seconds) # L-TOP
end
