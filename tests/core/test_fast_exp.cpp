// fast_exp against the C library's exp: relative error over the whole range the clamps allow, saturation
// beyond it, NaN, and that SIMD loops give the same values as scalar calls.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/fast_exp.hpp"

using facet::fast_exp;

namespace {

// Worst relative error against std::exp (computed in long double) at n points spread over [lo, hi].
template <class T>
double worst_relative_error(T lo, T hi, int n) {
  double worst = 0;
  for (int i = 0; i <= n; ++i) {
    const T x = lo + (hi - lo) * static_cast<T>(i) / static_cast<T>(n);
    const long double exact = std::exp(static_cast<long double>(x));
    worst = std::max(worst, static_cast<double>(std::fabs((fast_exp(x) - exact) / exact)));
  }
  return worst;
}

}  // namespace

// The Taylor truncation is below 1e-17 (double) and 6e-9 (float) relative; what remains is rounding in
// the reduction and Horner steps, a few units of the last place: bounds of 4 ulp (eps 2.2e-16 and 1.2e-7).
TEST(FastExp, DoubleIsAccurateToAFewUlp) {
  EXPECT_LT(worst_relative_error<double>(-708.0, 708.0, 2000003), 4 * 2.2e-16);
  EXPECT_LT(worst_relative_error<double>(-1.0, 1.0, 200001), 4 * 2.2e-16);
}

TEST(FastExp, FloatIsAccurateToAFewUlp) {
  EXPECT_LT(worst_relative_error<float>(-87.0f, 87.0f, 2000003), 4 * 1.2e-7);
  EXPECT_LT(worst_relative_error<float>(-1.0f, 1.0f, 200001), 4 * 1.2e-7);
}

TEST(FastExp, ExactPointsAndSaturation) {
  EXPECT_EQ(fast_exp(0.0), 1.0);
  EXPECT_EQ(fast_exp(0.0f), 1.0f);
  EXPECT_NEAR(fast_exp(1.0), std::exp(1.0), 2.2e-16 * std::exp(1.0));
  // Beyond the clamps: the bound's value (finite, normal), which silu(x) = x / (1 + exp(-x)) cannot tell
  // from 0 or infinity.
  EXPECT_EQ(fast_exp(-1000.0), fast_exp(-708.0));
  EXPECT_TRUE(std::isnan(fast_exp(-std::numeric_limits<double>::infinity())));
  EXPECT_GT(fast_exp(-1000.0), 0.0);
  EXPECT_LT(fast_exp(-1000.0), 1e-307);
  EXPECT_EQ(fast_exp(1000.0), fast_exp(708.0));
  EXPECT_TRUE(std::isfinite(fast_exp(1000.0)));
  EXPECT_GT(fast_exp(1000.0), 1e307);
  EXPECT_TRUE(std::isnan(fast_exp(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_TRUE(std::isnan(fast_exp(std::numeric_limits<float>::quiet_NaN())));
}

TEST(FastExp, SimdLoopGivesTheScalarValues) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-50.0, 50.0);
  std::vector<double> x(1003), y(x.size());
  for (double& v : x) v = u(rng);
#pragma omp simd
  for (size_t i = 0; i < x.size(); ++i) y[i] = fast_exp(x[i]);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], fast_exp(x[i])) << x[i];
}
