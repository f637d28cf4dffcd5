# SPDX-License-Identifier: GPL-2.0-only
# Known Ruby chains for flamed's Ruby frames (tests/e2e/test_ruby.sh reads the lines from here by
# their marks): <main> -> main -> Outer#mid -> leaf, whose loop is one line; with "digest"
# Outer#mid -> digest, a loop of Digest::SHA256.digest calls (native code under a Ruby caller);
# with "block" Outer#mid -> Integer#times (C) -> block in mid -> leaf (a block yielded from C:
# a second entry into the VM).
# Runs for CPU time, not wall time: a loaded machine still gets its samples.
#   ruby rbchain.rb [chain|digest|block] [SECONDS]
require 'digest'

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

class Outer
  def mid(mode, n)
    return digest(n / 2000) if mode == 'digest' # L-MID-DIGEST
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

def main(mode, seconds)
  o = Outer.new
  t_end = cpu_seconds + seconds
  while cpu_seconds < t_end
    o.mid(mode, 20000) # L-MAIN
  end
end

main(ARGV[0] || 'chain', (ARGV[1] || 3).to_f) # L-TOP
