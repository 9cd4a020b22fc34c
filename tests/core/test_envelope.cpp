// Polynomial cutoff envelope: endpoint conditions, derivatives, monotonicity.
#include <gtest/gtest.h>

#include <cmath>

#include "core/envelope.hpp"

namespace facet {
namespace {

TEST(PolynomialEnvelope, ExplicitValueForDefaultP) {
  // p = 6 at x = 1/2: 1 - 28/64 + 48/128 - 21/256.
  const PolynomialEnvelope<double> envelope{4.0};
  EXPECT_EQ(envelope.p, 6);
  EXPECT_NEAR(envelope.value(2.0), 1.0 - 28.0 / 64 + 48.0 / 128 - 21.0 / 256, 1e-15);
}

TEST(PolynomialEnvelope, EndpointConditions) {
  for (int p : {2, 3, 5, 6, 9}) {
    const PolynomialEnvelope<double> envelope{5.0, p};
    double u, du, d2u;
    envelope.evaluate(0.0, u, du, d2u);
    EXPECT_NEAR(u, 1.0, 1e-15) << p;
    EXPECT_NEAR(du, 0.0, 1e-15) << p;
    // Approach r_cut from below: the polynomial itself has a triple root structure at x = 1.
    envelope.evaluate(5.0 * (1 - 1e-12), u, du, d2u);
    EXPECT_NEAR(u, 0.0, 1e-12) << p;
    EXPECT_NEAR(du, 0.0, 1e-12) << p;
    EXPECT_NEAR(d2u, 0.0, 1e-10) << p;
    for (double r : {5.0, 5.5, 100.0}) {
      envelope.evaluate(r, u, du, d2u);
      EXPECT_EQ(u, 0.0);
      EXPECT_EQ(du, 0.0);
      EXPECT_EQ(d2u, 0.0);
    }
  }
}

TEST(PolynomialEnvelope, DerivativesMatchFiniteDifferences) {
  // Central differences, step 1e-6 on r in (0, 5): truncation ~1e-12 |u'''|, rounding ~1e-10.
  const double step = 1e-6;
  for (int p : {3, 6}) {
    const PolynomialEnvelope<double> envelope{5.0, p};
    for (int i = 1; i < 100; ++i) {
      const double r = 5.0 * i / 100.0;
      double u, du, d2u, up, dup, d2up, um, dum, d2um;
      envelope.evaluate(r, u, du, d2u);
      envelope.evaluate(r + step, up, dup, d2up);
      envelope.evaluate(r - step, um, dum, d2um);
      EXPECT_NEAR(du, (up - um) / (2 * step), 1e-8) << r;
      EXPECT_NEAR(d2u, (dup - dum) / (2 * step), 1e-8) << r;
    }
  }
}

TEST(PolynomialEnvelope, MonotoneDecreasing) {
  const PolynomialEnvelope<double> envelope{5.0};
  double previous = envelope.value(0.0);
  for (int i = 1; i <= 2000; ++i) {
    const double r = 5.0 * i / 2000.0;
    double u, du, d2u;
    envelope.evaluate(r, u, du, d2u);
    EXPECT_LE(u, previous) << r;
    EXPECT_LE(du, 0.0) << r;
    previous = u;
  }
}

TEST(PolynomialEnvelope, FloatInstantiation) {
  const PolynomialEnvelope<float> envelope{5.0f};
  EXPECT_NEAR(envelope.value(2.5f), 1.0f - 28.0f / 64 + 48.0f / 128 - 21.0f / 256, 1e-6f);
}

}  // namespace
}  // namespace facet
