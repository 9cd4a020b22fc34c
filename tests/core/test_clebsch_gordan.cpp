// Real Clebsch-Gordan tensors (e3nn's wigner_3j) and Gaunt coefficients.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/clebsch_gordan.hpp"
#include "core/s2_grid.hpp"
#include "core/spherical_harmonics.hpp"
#include "core/wigner_d.hpp"
#include "test_utils.hpp"

namespace facet {
namespace {

double frobenius_norm(const CouplingTensor& C) {
  double sum = 0.0;
  for (double v : C.values) sum += v * v;
  return std::sqrt(sum);
}

// (D1 (x) D2 (x) D3) C, contracting one index at a time.
CouplingTensor rotate(const CouplingTensor& C, const DenseMatrix& D1, const DenseMatrix& D2, const DenseMatrix& D3) {
  const int n1 = 2 * C.l1 + 1, n2 = 2 * C.l2 + 1, n3 = 2 * C.l3 + 1;
  CouplingTensor a(C.l1, C.l2, C.l3), b(C.l1, C.l2, C.l3), c(C.l1, C.l2, C.l3);
  for (int i = 0; i < n1; ++i)
    for (int j = 0; j < n2; ++j)
      for (int k = 0; k < n3; ++k)
        for (int q = 0; q < n3; ++q) a(i, j, k) += D3(k, q) * C(i, j, q);
  for (int i = 0; i < n1; ++i)
    for (int j = 0; j < n2; ++j)
      for (int q = 0; q < n2; ++q)
        for (int k = 0; k < n3; ++k) b(i, j, k) += D2(j, q) * a(i, q, k);
  for (int i = 0; i < n1; ++i)
    for (int q = 0; q < n1; ++q)
      for (int j = 0; j < n2; ++j)
        for (int k = 0; k < n3; ++k) c(i, j, k) += D1(i, q) * b(q, j, k);
  return c;
}

TEST(ComplexClebschGordan, KnownValues) {
  // Condon-Shortley values from standard tables.
  EXPECT_NEAR(complex_clebsch_gordan(1, 1, 1, -1, 0, 0), 1 / std::sqrt(3.0), 1e-15);
  EXPECT_NEAR(complex_clebsch_gordan(1, 0, 1, 0, 0, 0), -1 / std::sqrt(3.0), 1e-15);
  EXPECT_NEAR(complex_clebsch_gordan(1, 1, 1, 0, 1, 1), 1 / std::sqrt(2.0), 1e-15);
  EXPECT_NEAR(complex_clebsch_gordan(1, -1, 1, 1, 1, 0), -1 / std::sqrt(2.0), 1e-15);
  EXPECT_NEAR(complex_clebsch_gordan(1, 0, 1, 0, 2, 0), std::sqrt(2.0 / 3.0), 1e-15);
  EXPECT_NEAR(complex_clebsch_gordan(2, 1, 1, -1, 1, 0), std::sqrt(3.0 / 10.0), 1e-15);
  EXPECT_EQ(complex_clebsch_gordan(1, 1, 1, 1, 1, 1), 0.0);  // m1 + m2 != M
  EXPECT_EQ(complex_clebsch_gordan(1, 0, 1, 0, 3, 0), 0.0);  // triangle
}

TEST(ClebschGordan, E3nnValuesForL1) {
  const CouplingTensor C110 = clebsch_gordan(1, 1, 0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(C110(i, j, 0), i == j ? 1 / std::sqrt(3.0) : 0.0, 1e-15);
  const CouplingTensor C111 = clebsch_gordan(1, 1, 1);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) {
        const int epsilon = (i - j) * (j - k) * (k - i) / 2;  // Levi-Civita for indices 0, 1, 2
        EXPECT_NEAR(C111(i, j, k), epsilon / std::sqrt(6.0), 1e-15) << i << j << k;
      }
}

TEST(ClebschGordan, MatchesE3nnReferenceEntries) {
  // Entries of e3nn 0.6 o3.wigner_3j(l1, l2, l3) (e3nn/o3/_wigner.py: _so3_clebsch_gordan), indexed by
  // m + l, recomputed from its definition at double precision.
  struct Entry {
    int l1, l2, l3, i1, i2, i3;
    double value;
  };
  const Entry reference[] = {
      {2, 1, 1, 0, 0, 2, 3.1622776601683794e-01},  {2, 1, 1, 1, 1, 0, 3.1622776601683794e-01},
      {2, 1, 1, 3, 1, 2, 3.1622776601683794e-01},  {2, 1, 1, 4, 2, 2, 3.1622776601683794e-01},
      {1, 2, 3, 0, 0, 4, -6.9006555934235422e-02}, {1, 2, 3, 0, 4, 2, 6.9006555934235422e-02},
      {1, 2, 3, 2, 0, 2, -6.9006555934235422e-02}, {1, 2, 3, 2, 4, 6, 2.6726124191242440e-01},
      {2, 2, 2, 0, 0, 2, -2.3904572186687872e-01}, {2, 2, 2, 1, 3, 0, 2.0701966780270628e-01},
      {2, 2, 2, 3, 1, 0, 2.0701966780270628e-01},  {2, 2, 2, 4, 4, 2, -2.3904572186687872e-01},
      {3, 2, 1, 0, 0, 2, 2.6726124191242440e-01},  {3, 2, 1, 2, 2, 0, 2.3904572186687870e-01},
      {3, 2, 1, 4, 3, 1, 2.7602622373694169e-01},  {3, 2, 1, 6, 4, 2, 2.6726124191242440e-01},
      {2, 3, 4, 0, 0, 3, 4.8795003647426650e-02},  {2, 3, 4, 1, 4, 4, -1.9920476822239891e-01},
      {2, 3, 4, 3, 2, 6, 4.4543540318737390e-02},  {2, 3, 4, 4, 6, 3, 4.8795003647426650e-02},
      {3, 3, 3, 0, 1, 2, 1.5430334996209188e-01},  {3, 3, 3, 2, 3, 4, 1.5430334996209186e-01},
      {3, 3, 3, 4, 5, 0, 1.5430334996209188e-01},  {3, 3, 3, 6, 5, 2, 1.5430334996209188e-01},
      {4, 4, 4, 0, 0, 4, 1.0429770312912398e-01},  {4, 4, 4, 3, 1, 8, 1.1660837704690688e-01},
      {4, 4, 4, 5, 7, 6, 4.4073823778995429e-02},  {4, 4, 4, 8, 8, 4, 1.0429770312912398e-01},
  };
  for (const Entry& e : reference)
    EXPECT_NEAR(clebsch_gordan(e.l1, e.l2, e.l3)(e.i1, e.i2, e.i3), e.value, 1e-14)
        << e.l1 << e.l2 << e.l3 << " at " << e.i1 << e.i2 << e.i3;
}

TEST(ClebschGordan, HarmonicsRecursionHasPositiveConstant) {
  // e3nn generates its harmonics as Y^{l+1}_i = c_l sum_jk wigner_3j(l+1, 1, l)_{ikj} x_k Y^l_j with c_l > 0
  // (e3nn/o3/_spherical_harmonics_generator.py). This ties the CG sign of every (l+1, 1, l) to the harmonics.
  const auto u = test::random_unit_vector();
  std::vector<double> Y(sh_size(8));
  spherical_harmonics_unit(8, u.data(), Y.data());
  for (int l = 0; l < 8; ++l) {
    const CouplingTensor C = clebsch_gordan(l + 1, 1, l);
    double ratio = 0.0;
    for (int i = 0; i < 2 * l + 3; ++i) {
      double contracted = 0.0;
      for (int k = 0; k < 3; ++k)
        for (int j = 0; j < 2 * l + 1; ++j) contracted += C(i, k, j) * u[k] * Y[sh_index(l, j - l)];
      const double target = Y[sh_index(l + 1, i - l - 1)];
      if (i == 0) ratio = contracted / target;
      EXPECT_NEAR(contracted, ratio * target, 1e-13) << "l=" << l << " i=" << i;
    }
    EXPECT_GT(ratio, 0.1) << "l=" << l;
  }
}

TEST(ClebschGordan, NormAndSelectionRules) {
  for (int l1 = 0; l1 <= 5; ++l1)
    for (int l2 = 0; l2 <= 5; ++l2)
      for (int l3 = 0; l3 <= 11; ++l3) {
        const double norm = frobenius_norm(clebsch_gordan(l1, l2, l3));
        if (std::abs(l1 - l2) <= l3 && l3 <= l1 + l2)
          EXPECT_NEAR(norm, 1.0, 1e-14) << l1 << l2 << l3;
        else
          EXPECT_EQ(norm, 0.0) << l1 << l2 << l3;
      }
}

TEST(ClebschGordan, PermutationSymmetry) {
  // Like the 3j symbols (and e3nn's wigner_3j): cyclic permutations leave C unchanged, a swap of two
  // (l, index) pairs multiplies it by (-1)^(l1+l2+l3).
  for (int l1 = 0; l1 <= 4; ++l1)
    for (int l2 = 0; l2 <= 4; ++l2)
      for (int l3 = std::abs(l1 - l2); l3 <= l1 + l2; ++l3) {
        const CouplingTensor C = clebsch_gordan(l1, l2, l3), swapped = clebsch_gordan(l2, l1, l3),
                             cycled = clebsch_gordan(l2, l3, l1);
        const double sign = (l1 + l2 + l3) % 2 ? -1.0 : 1.0;
        for (int i = 0; i < 2 * l1 + 1; ++i)
          for (int j = 0; j < 2 * l2 + 1; ++j)
            for (int k = 0; k < 2 * l3 + 1; ++k) {
              EXPECT_NEAR(swapped(j, i, k), sign * C(i, j, k), 1e-15) << l1 << l2 << l3;
              EXPECT_NEAR(cycled(j, k, i), C(i, j, k), 1e-15) << l1 << l2 << l3;
            }
      }
}

TEST(ClebschGordan, InvariantUnderRotations) {
  const int lmax = 5;
  for (int trial = 0; trial < 2; ++trial) {
    const Matrix3 R = test::random_rotation();
    std::vector<DenseMatrix> D;
    for (int l = 0; l <= 8; ++l) D.push_back(wigner_d_from_harmonics(l, R));
    auto check = [&](int l1, int l2, int l3) {
      const CouplingTensor C = clebsch_gordan(l1, l2, l3);
      EXPECT_LT(test::max_abs_diff(rotate(C, D[l1], D[l2], D[l3]).values, C.values), 1e-12) << l1 << l2 << l3;
    };
    for (int l1 = 0; l1 <= lmax; ++l1)
      for (int l2 = 0; l2 <= lmax; ++l2)
        for (int l3 = std::abs(l1 - l2); l3 <= std::min(l1 + l2, lmax); ++l3) check(l1, l2, l3);
    check(8, 8, 8);
    check(8, 7, 1);
    check(4, 8, 6);
  }
}

TEST(ClebschGordan, Orthogonality) {
  // sum_{m1 m2} C[l1 l2 l3]_{m1 m2 m3} C[l1 l2 l3']_{m1 m2 m3'} = delta_{l3 l3'} delta_{m3 m3'} / (2 l3 + 1).
  for (int l1 = 0; l1 <= 4; ++l1)
    for (int l2 = 0; l2 <= 4; ++l2)
      for (int l3 = std::abs(l1 - l2); l3 <= l1 + l2; ++l3)
        for (int l3p = std::abs(l1 - l2); l3p <= l1 + l2; ++l3p) {
          const CouplingTensor A = clebsch_gordan(l1, l2, l3), B = clebsch_gordan(l1, l2, l3p);
          for (int i3 = 0; i3 < 2 * l3 + 1; ++i3)
            for (int i3p = 0; i3p < 2 * l3p + 1; ++i3p) {
              double sum = 0.0;
              for (int i1 = 0; i1 < 2 * l1 + 1; ++i1)
                for (int i2 = 0; i2 < 2 * l2 + 1; ++i2) sum += A(i1, i2, i3) * B(i1, i2, i3p);
              const double expected = (l3 == l3p && i3 == i3p) ? 1.0 / (2 * l3 + 1) : 0.0;
              EXPECT_NEAR(sum, expected, 1e-14) << l1 << l2 << l3 << l3p;
            }
        }
}

TEST(Gaunt, EqualsQuadratureOfThreeHarmonics) {
  const int lmax = 5;
  const S2Grid grid = make_s2_grid(lmax, grid_size_for_product(lmax, lmax, lmax));
  for (int l1 = 0; l1 <= lmax; ++l1)
    for (int l2 = 0; l2 <= lmax; ++l2)
      for (int l3 = 0; l3 <= lmax; ++l3) {
        const CouplingTensor G = gaunt(l1, l2, l3);
        double worst = 0.0;
        for (int m1 = -l1; m1 <= l1; ++m1)
          for (int m2 = -l2; m2 <= l2; ++m2)
            for (int m3 = -l3; m3 <= l3; ++m3) {
              double integral = 0.0;  // (1/4pi) sum_p w_p Y1 Y2 Y3
              for (int p = 0; p < grid.size(); ++p)
                integral += grid.from_grid(sh_index(l1, m1), p) * grid.to_grid(p, sh_index(l2, m2)) *
                            grid.to_grid(p, sh_index(l3, m3));
              worst = std::max(worst, std::abs(integral - G(m1 + l1, m2 + l2, m3 + l3)));
            }
        EXPECT_LT(worst, 1e-13) << l1 << l2 << l3;
      }
}

TEST(Gaunt, VanishesForOddDegreeSum) {
  for (int l1 = 0; l1 <= 4; ++l1)
    for (int l2 = 0; l2 <= 4; ++l2)
      for (int l3 = 0; l3 <= 8; ++l3)
        if ((l1 + l2 + l3) % 2 == 1) {
          for (double v : gaunt(l1, l2, l3).values) EXPECT_EQ(v, 0.0) << l1 << l2 << l3;
        }
}

TEST(Gaunt, PositiveMultipleOfClebschGordan) {
  // G = sqrt((2l1+1)(2l2+1)(2l3+1)) |(l1 l2 l3; 0 0 0)| C, with (l1 l2 l3; 0 0 0) =
  // (-1)^(l1-l2) <l1 0 l2 0 | l3 0> / sqrt(2l3+1). The factor is positive: with e3nn's phases
  // C_{000} > 0 for every triple with l1+l2+l3 even. G[0, l, l] is the identity.
  for (int l1 = 0; l1 <= 6; ++l1)
    for (int l2 = 0; l2 <= 6; ++l2)
      for (int l3 = std::abs(l1 - l2); l3 <= l1 + l2; l3 += 2) {
        const CouplingTensor G = gaunt(l1, l2, l3), C = clebsch_gordan(l1, l2, l3);
        const double three_j = complex_clebsch_gordan(l1, 0, l2, 0, l3, 0) / std::sqrt(2.0 * l3 + 1);
        const double factor = std::sqrt(double((2 * l1 + 1) * (2 * l2 + 1) * (2 * l3 + 1))) * std::abs(three_j);
        ASSERT_GT(factor, 1e-3);
        for (std::size_t i = 0; i < G.values.size(); ++i)
          EXPECT_NEAR(G.values[i], factor * C.values[i], 1e-14) << l1 << l2 << l3;
      }
  for (int l = 0; l <= 4; ++l) {
    const CouplingTensor G = gaunt(0, l, l);
    for (int i = 0; i < 2 * l + 1; ++i)
      for (int j = 0; j < 2 * l + 1; ++j) EXPECT_NEAR(G(0, i, j), i == j ? 1.0 : 0.0, 1e-14);
  }
}

}  // namespace
}  // namespace facet
