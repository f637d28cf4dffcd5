// SPDX-License-Identifier: GPL-2.0-only
// Template-heavy C++ whose hot function demangles to ns::Matrix<double, 96>::operator*.
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace ns {
template <typename T, int N> struct Matrix {
	T v[N][N];

	__attribute__((noinline)) Matrix operator*(const Matrix &o) const
	{
		Matrix r;

		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				T s = 0;

				for (int k = 0; k < N; k++)
					s += v[i][k] * o.v[k][j];
				r.v[i][j] = s;
			}
		return r;
	}
};
} // namespace ns

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double dur = argc > 1 ? atof(argv[1]) : 1, t0 = seconds();
	static ns::Matrix<double, 96> a, b, c;

	for (int i = 0; i < 96; i++)
		for (int j = 0; j < 96; j++)
			a.v[i][j] = b.v[i][j] = (i + j) % 7 / 7.0;
	while (seconds() - t0 < dur)
		c = a * b;
	printf("%f\n", c.v[1][2]);
	return 0;
}
