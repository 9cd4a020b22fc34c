// Shared helpers for the core tests: reproducible random vectors and rotations, small dense algebra.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "core/dense_matrix.hpp"
#include "core/wigner_d.hpp"

namespace facet::test {

inline std::mt19937_64& rng() {
  static std::mt19937_64 engine(20250914);
  return engine;
}

inline double gaussian() { return std::normal_distribution<double>(0.0, 1.0)(rng()); }

inline double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng()); }

inline std::array<double, 3> random_unit_vector() {
  std::array<double, 3> v{gaussian(), gaussian(), gaussian()};
  const double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  for (double& c : v) c /= n;
  return v;
}

// Uniformly distributed rotation from a normalised Gaussian quaternion.
inline Matrix3 random_rotation() {
  double q[4] = {gaussian(), gaussian(), gaussian(), gaussian()};
  const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  for (double& c : q) c /= n;
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  return {{{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
           {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
           {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)}}};
}

inline Matrix3 multiply(const Matrix3& a, const Matrix3& b) {
  Matrix3 c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) c[i][j] += a[i][k] * b[k][j];
  return c;
}

inline DenseMatrix multiply(const DenseMatrix& a, const DenseMatrix& b) {
  DenseMatrix c(a.rows, b.cols);
  for (int i = 0; i < a.rows; ++i)
    for (int k = 0; k < a.cols; ++k)
      for (int j = 0; j < b.cols; ++j) c(i, j) += a(i, k) * b(k, j);
  return c;
}

inline std::vector<double> multiply(const DenseMatrix& a, const std::vector<double>& x) {
  std::vector<double> y(a.rows, 0.0);
  for (int i = 0; i < a.rows; ++i)
    for (int j = 0; j < a.cols; ++j) y[i] += a(i, j) * x[j];
  return y;
}

inline double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

inline std::vector<double> random_vector(int n) {
  std::vector<double> v(n);
  for (double& c : v) c = gaussian();
  return v;
}

}  // namespace facet::test
