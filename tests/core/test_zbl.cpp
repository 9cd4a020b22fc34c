// The switched ZBL repulsion: its Coulomb limit, derivative, smooth switch-off and monotone repulsion.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/zbl.hpp"

namespace facet {
namespace {

TEST(ZblPair, CoulombLimitAndScreeningLength) {
  // phi(0) = sum of the four coefficients = 1: at r -> 0 the pair energy is the bare Coulomb repulsion.
  const auto si_si = ZblPair<double>::make(14, 14, 2.22);
  const double r = 1e-6;
  double e, de;
  si_si.evaluate(r, e, de);
  EXPECT_NEAR(e * r / (14.0 * 14.0 * kCoulombEvAngstrom), 1.0, 1e-5);
  // a = 0.46850 / (2 * 14^0.23) Å for Si-Si: 0.12766 Å.
  EXPECT_NEAR(1.0 / si_si.inv_screening, 0.46850 / (2 * std::pow(14.0, 0.23)), 1e-15);
  EXPECT_NEAR(1.0 / si_si.inv_screening, 0.12766, 5e-5);
}

TEST(ZblPair, DerivativeMatchesFiniteDifferences) {
  // Central differences with step 1e-6 Å: truncation ~1e-12 |E'''|, rounding ~1e-16 |E| / 1e-6; both far
  // below 1e-6 relative for E of order 1-100 eV on 0.3-2.2 Å.
  const auto pair = ZblPair<double>::make(14, 8, 1.77);
  const double h = 1e-6;
  for (int k = 1; k < 60; ++k) {
    const double r = 0.3 + (1.77 - 0.3) * k / 60.0;
    double e, de, ep, dep, em, dem;
    pair.evaluate(r, e, de);
    pair.evaluate(r + h, ep, dep);
    pair.evaluate(r - h, em, dem);
    EXPECT_NEAR(de, (ep - em) / (2 * h), 1e-6 * std::max(1.0, std::abs(de))) << r;
  }
}

TEST(ZblPair, SwitchesOffSmoothlyAndRepelsBelow) {
  const double r_max = 2.22;
  const auto pair = ZblPair<double>::make(14, 14, r_max);
  double e, de;
  for (double r : {r_max, r_max + 1e-9, 3.0, 10.0}) {
    pair.evaluate(r, e, de);
    EXPECT_EQ(e, 0.0) << r;
    EXPECT_EQ(de, 0.0) << r;
  }
  // E and E' vanish continuously at r_max (the envelope's triple root): E ~ 56 E_c (1 - r/r_max)^3 and
  // E' ~ -168 E_c (1 - r/r_max)^2 / r_max with E_c = 1.4 eV the screened Coulomb energy at r_max.
  pair.evaluate(r_max * (1 - 1e-5), e, de);
  EXPECT_LT(e, 1e-12);
  EXPECT_LT(std::abs(de), 2e-8);
  EXPECT_GT(std::abs(de), 0.0);
  // Positive and decreasing on (0, r_max): a pure repulsion, steepening towards r = 0.
  double previous = std::numeric_limits<double>::infinity();
  for (int k = 1; k < 400; ++k) {
    const double r = r_max * k / 400.0;
    pair.evaluate(r, e, de);
    EXPECT_GT(e, 0.0) << r;
    EXPECT_LT(de, 0.0) << r;
    EXPECT_LT(e, previous) << r;
    previous = e;
  }
  // Where bonded Si atoms never go (1 Å) it costs tens of eV; near the bond length almost nothing.
  pair.evaluate(1.0, e, de);
  EXPECT_GT(e, 30.0);
  pair.evaluate(2.1, e, de);
  EXPECT_LT(e, 0.05);
}

TEST(ZblPair, FloatInstantiation) {
  const auto d = ZblPair<double>::make(14, 14, 2.22);
  const auto f = ZblPair<float>::make(14, 14, 2.22f);
  double e, de;
  float ef, def;
  d.evaluate(1.3, e, de);
  f.evaluate(1.3f, ef, def);
  EXPECT_NEAR(ef, e, 1e-5 * e);
}

}  // namespace
}  // namespace facet
