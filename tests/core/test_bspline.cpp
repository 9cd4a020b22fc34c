// Uniform cubic B-spline basis: partition of unity, derivatives, C2 continuity, cubic reproduction.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "core/bspline.hpp"
#include "test_utils.hpp"

namespace facet {
namespace {

const CubicBSplineBasis<double> kBasis{5.0, 10};  // h = 5/7

// All K basis values (or derivatives of the given order) at r.
std::vector<double> dense_basis(const CubicBSplineBasis<double>& basis, double r, int order = 0) {
  double v[3][4];
  const int first = basis.evaluate(r, v[0], v[1], v[2]);
  std::vector<double> out(basis.n_basis, 0.0);
  for (int j = 0; j < 4; ++j) out[first + j] = v[order][j];
  return out;
}

TEST(CubicBSpline, PartitionOfUnityOnWholeRange) {
  for (int i = 0; i <= 1000; ++i) {
    const double r = kBasis.r_cut * i / 1000.0;  // includes 0, every knot and r_cut
    double value[4], derivative[4], second[4];
    const int first = kBasis.evaluate(r, value, derivative, second);
    EXPECT_GE(first, 0);
    EXPECT_LE(first, kBasis.n_basis - 4);
    EXPECT_NEAR(value[0] + value[1] + value[2] + value[3], 1.0, 1e-14) << r;
    EXPECT_NEAR(derivative[0] + derivative[1] + derivative[2] + derivative[3], 0.0, 1e-13) << r;
    EXPECT_NEAR(second[0] + second[1] + second[2] + second[3], 0.0, 1e-12) << r;
    for (double v : value) EXPECT_GE(v, 0.0);
  }
}

TEST(CubicBSpline, KnotValuesAndEndpoints) {
  // At a knot the nonzero values are 1/6, 2/3, 1/6 (and 0 for the function that starts there).
  const double h = kBasis.knot_spacing();
  EXPECT_DOUBLE_EQ(h, 5.0 / 7.0);
  double value[4], derivative[4];
  EXPECT_EQ(kBasis.evaluate(0.0, value, derivative), 0);
  EXPECT_NEAR(value[0], 1.0 / 6, 1e-15);
  EXPECT_NEAR(value[1], 2.0 / 3, 1e-15);
  EXPECT_NEAR(value[2], 1.0 / 6, 1e-15);
  EXPECT_EQ(value[3], 0.0);
  EXPECT_NEAR(derivative[0], -0.5 / h, 1e-14);
  EXPECT_NEAR(derivative[2], 0.5 / h, 1e-14);
  EXPECT_EQ(kBasis.evaluate(3 * h, value, derivative), 3);
  EXPECT_EQ(kBasis.evaluate(kBasis.r_cut, value, derivative), kBasis.n_basis - 4);
  EXPECT_EQ(value[0], 0.0);
  EXPECT_NEAR(value[1], 1.0 / 6, 1e-15);
  EXPECT_NEAR(value[2], 2.0 / 3, 1e-15);
  EXPECT_NEAR(value[3], 1.0 / 6, 1e-15);
}

TEST(CubicBSpline, ZeroOutsideRange) {
  for (double r : {-1e-12, -1.0, 5.0 + 1e-12, 7.0, std::numeric_limits<double>::quiet_NaN()}) {
    double value[4], derivative[4];
    EXPECT_EQ(kBasis.evaluate(r, value, derivative), 0);
    for (int j = 0; j < 4; ++j) {
      EXPECT_EQ(value[j], 0.0);
      EXPECT_EQ(derivative[j], 0.0);
    }
  }
}

TEST(CubicBSpline, DerivativesMatchFiniteDifferences) {
  // Central differences with h = 1e-6 on a cubic: truncation h^2/6 |f'''| <~ 1e-11, rounding ~1e-10.
  const std::vector<double> coefficients = test::random_vector(kBasis.n_basis);
  const double step = 1e-6;
  for (int i = 0; i < 200; ++i) {
    const double r = test::uniform(step, kBasis.r_cut - step);
    double f, df, fp, dfp, fm, dfm;
    kBasis.spline(coefficients.data(), r, f, df);
    kBasis.spline(coefficients.data(), r + step, fp, dfp);
    kBasis.spline(coefficients.data(), r - step, fm, dfm);
    EXPECT_NEAR(df, (fp - fm) / (2 * step), 1e-8) << r;
    const std::vector<double> d1p = dense_basis(kBasis, r + step, 1), d1m = dense_basis(kBasis, r - step, 1);
    const std::vector<double> d2 = dense_basis(kBasis, r, 2);
    for (int k = 0; k < kBasis.n_basis; ++k) EXPECT_NEAR(d2[k], (d1p[k] - d1m[k]) / (2 * step), 1e-7) << r;
  }
}

TEST(CubicBSpline, TwiceContinuouslyDifferentiableAcrossKnots) {
  // Left and right limits at each interior knot: with offset eps = 1e-9 h the continuous parts differ by
  // O(eps |next derivative|) <~ 1e-7, whereas a jump in a piece would be O(1) (in units of h^-order).
  const double h = kBasis.knot_spacing();
  const double eps = 1e-9 * h;
  for (int knot = 1; knot <= kBasis.n_basis - 4; ++knot) {
    const double r = knot * h;
    for (int order = 0; order <= 2; ++order) {
      const std::vector<double> left = dense_basis(kBasis, r - eps, order), right = dense_basis(kBasis, r + eps, order);
      EXPECT_LT(test::max_abs_diff(left, right) * std::pow(h, order), 1e-7) << "knot " << knot << " order " << order;
    }
  }
  // The third derivative does jump (the basis is exactly C2): the second derivative has a kink.
  const double r = 2 * h, delta = 1e-3 * h;
  const std::vector<double> below = dense_basis(kBasis, r - delta, 2), at = dense_basis(kBasis, r, 2),
                            above = dense_basis(kBasis, r + delta, 2);
  double kink = 0.0;
  for (int k = 0; k < kBasis.n_basis; ++k) kink = std::max(kink, std::abs(above[k] - 2 * at[k] + below[k]) / delta);
  EXPECT_GT(kink * std::pow(h, 3), 0.5);
}

// Solves A x = b (n x n, row-major) by Gaussian elimination with partial pivoting.
std::vector<double> solve(std::vector<double> A, std::vector<double> b) {
  const int n = static_cast<int>(b.size());
  for (int col = 0; col < n; ++col) {
    int pivot = col;
    for (int row = col + 1; row < n; ++row)
      if (std::abs(A[row * n + col]) > std::abs(A[pivot * n + col])) pivot = row;
    for (int j = 0; j < n; ++j) std::swap(A[col * n + j], A[pivot * n + j]);
    std::swap(b[col], b[pivot]);
    for (int row = col + 1; row < n; ++row) {
      const double factor = A[row * n + col] / A[col * n + col];
      for (int j = col; j < n; ++j) A[row * n + j] -= factor * A[col * n + j];
      b[row] -= factor * b[col];
    }
  }
  std::vector<double> x(n);
  for (int row = n - 1; row >= 0; --row) {
    double sum = b[row];
    for (int j = row + 1; j < n; ++j) sum -= A[row * n + j] * x[j];
    x[row] = sum / A[row * n + row];
  }
  return x;
}

TEST(CubicBSpline, LeastSquaresReproducesCubic) {
  auto cubic = [](double r) { return 1.0 - 2.0 * r + 0.5 * r * r - 0.3 * r * r * r; };
  auto cubic_derivative = [](double r) { return -2.0 + r - 0.9 * r * r; };
  const int K = kBasis.n_basis;
  std::vector<double> normal(K * K, 0.0), rhs(K, 0.0);
  for (int i = 0; i <= 300; ++i) {
    const double r = kBasis.r_cut * i / 300.0;
    const std::vector<double> b = dense_basis(kBasis, r);
    for (int j = 0; j < K; ++j) {
      rhs[j] += b[j] * cubic(r);
      for (int k = 0; k < K; ++k) normal[j * K + k] += b[j] * b[k];
    }
  }
  const std::vector<double> coefficients = solve(normal, rhs);
  for (int i = 0; i <= 1000; ++i) {
    const double r = kBasis.r_cut * i / 1000.0;
    double f, df;
    kBasis.spline(coefficients.data(), r, f, df);
    EXPECT_NEAR(f, cubic(r), 1e-10) << r;
    EXPECT_NEAR(df, cubic_derivative(r), 1e-9) << r;
  }
}

TEST(CubicBSpline, FloatInstantiation) {
  const CubicBSplineBasis<float> basis{5.0f, 10};
  float value[4], derivative[4];
  const int first = basis.evaluate(5.0f, value, derivative);
  EXPECT_EQ(first, 6);
  EXPECT_NEAR(value[0] + value[1] + value[2] + value[3], 1.0f, 1e-6f);
}

}  // namespace
}  // namespace facet
