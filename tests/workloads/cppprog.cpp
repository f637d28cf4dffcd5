// SPDX-License-Identifier: GPL-2.0-only
// C++ with templates, libstdc++ containers and exceptions: main -> run -> Worker<int>::work.
#include <chrono>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

template <typename T> struct Worker {
	std::map<std::string, T> m;

	__attribute__((noinline)) T work(int n)
	{
		T acc = 0;
		for (int i = 0; i < n; i++) {
			m[std::to_string(i % 64)] += i;
			acc += m.begin()->second;
		}
		if (acc == 42)
			throw std::runtime_error("unlikely");
		return acc;
	}
};

__attribute__((noinline)) long run(double secs)
{
	auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(secs);
	Worker<long> w;
	long total = 0;

	while (std::chrono::steady_clock::now() < end) {
		try {
			total += w.work(2000);
		} catch (const std::exception &) {
			total--;
		}
	}
	return total;
}

int main(int argc, char **argv)
{
	return run(argc > 1 ? std::atof(argv[1]) : 2.0) == 1 ? 1 : 0;
}
