# SPDX-License-Identifier: GPL-2.0-only
# Ruby frames at a known depth, for bench/runtime/php_cost.sh (RUNTIME=ruby): recurses ARGV[1]
# Ruby frames deep (<main> included), then spins in pure Ruby for ARGV[0] seconds of CPU time.

def cpu_seconds
  Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
end

def spin(seconds)
  t_end = cpu_seconds + seconds
  x = 0
  while cpu_seconds < t_end
    i = 0
    while i < 2000
      x += i
      i += 1
    end
  end
  x
end

def down(n, seconds)
  return spin(seconds) if n <= 1

  down(n - 1, seconds)
end

down((ARGV[1] || 20).to_i - 2, (ARGV[0] || 5).to_f)
