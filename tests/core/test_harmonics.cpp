// Real spherical harmonics: normalisation, e3nn values, gradients, and equivariance with Wigner D.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/s2_grid.hpp"
#include "core/spherical_harmonics.hpp"
#include "core/wigner_d.hpp"
#include "test_utils.hpp"

namespace facet {
namespace {

constexpr int kLmax = 8;

std::vector<double> harmonics(int lmax, const double r[3]) {
  std::vector<double> Y(sh_size(lmax));
  spherical_harmonics(lmax, r, Y.data());
  return Y;
}

std::vector<double> block(const std::vector<double>& Y, int l) {
  return std::vector<double>(Y.begin() + sh_index(l, -l), Y.begin() + sh_index(l, l) + 1);
}

TEST(SphericalHarmonics, IndexingHelpers) {
  EXPECT_EQ(sh_size(0), 1);
  EXPECT_EQ(sh_size(2), 9);
  EXPECT_EQ(sh_index(0, 0), 0);
  EXPECT_EQ(sh_index(1, -1), 1);
  EXPECT_EQ(sh_index(2, 2), 8);
  EXPECT_EQ(sh_index(3, -3), 9);
}

TEST(SphericalHarmonics, OrthonormalByQuadrature) {
  // (1/4pi) int Y_i Y_j = delta_ij; the grid integrates these degree-16 products exactly.
  const S2Grid grid = make_s2_grid(kLmax, grid_size_for_projection(kLmax));
  const DenseMatrix gram = test::multiply(grid.from_grid, grid.to_grid);
  for (int i = 0; i < sh_size(kLmax); ++i)
    for (int j = 0; j < sh_size(kLmax); ++j) EXPECT_NEAR(gram(i, j), i == j ? 1.0 : 0.0, 1e-13) << i << " " << j;
}

TEST(SphericalHarmonics, ComponentNormalisation) {
  for (int trial = 0; trial < 50; ++trial) {
    const auto u = test::random_unit_vector();
    const std::vector<double> Y = harmonics(kLmax, u.data());
    for (int l = 0; l <= kLmax; ++l) {
      double sum = 0.0;
      for (double v : block(Y, l)) sum += v * v;
      EXPECT_NEAR(sum, 2 * l + 1, 1e-12) << "l=" << l;
    }
  }
}

TEST(SphericalHarmonics, MatchesE3nnFormulasForL1AndL2) {
  const double s3 = std::sqrt(3.0), s5 = std::sqrt(5.0), s15 = std::sqrt(15.0);
  for (int trial = 0; trial < 50; ++trial) {
    const auto u = test::random_unit_vector();
    const double x = u[0], y = u[1], z = u[2];
    const std::vector<double> Y = harmonics(2, u.data());
    const double expected[9] = {1.0,           s3 * x,
                                s3 * y,        s3 * z,
                                s15 * x * z,   s15 * x * y,
                                s5 * (y * y - 0.5 * (x * x + z * z)), s15 * y * z,
                                0.5 * s15 * (z * z - x * x)};
    for (int i = 0; i < 9; ++i) EXPECT_NEAR(Y[i], expected[i], 1e-14) << "index " << i;
  }
}

TEST(SphericalHarmonics, MatchesE3nnReferenceValuesUpToL8) {
  // e3nn 0.6 o3.spherical_harmonics(l, x, normalize=True, normalization='component') at
  // x = (0.3, -0.5, 0.7), evaluated from the polynomials in e3nn/o3/_spherical_harmonics.py
  // (e.g. sh_3_0 = sqrt(42)/6 (sh_2_0 z + sh_2_4 x)), for l = 3..8.
  const double reference[] = {
      // l = 3
      1.1451759828808297e+00, -1.4228752004520044e+00, 2.6997158757581868e-01, 1.0846598768733127e+00,
      6.2993370434357687e-01, -1.3551192385257183e+00, 4.2598333662716842e-01,
      // l = 4
      1.0820526239955752e+00, -1.8854909147832091e+00, 9.4064813453249996e-01, 3.8214489070840141e-01,
      -1.0727972129481786e+00, 8.9167141165293651e-01, 8.9585536622142836e-01, -7.0136618569230436e-01,
      -5.2814473314069896e-02,
      // l = 5
      8.5373408798693406e-01, -1.9695893318558784e+00, 1.6244967038800853e+00, 2.2742858618800149e-01,
      -6.9351240076621612e-01, 8.3890898449804796e-02, -1.6181956017878374e+00, 2.1659865351238228e-01,
      6.0428138260273689e-01, 9.6134717388204019e-02, -4.1626395431289298e-01,
      // l = 6
      5.4008170510520737e-01, -1.6893718630993495e+00, 2.0180326905542407e+00, -3.0737656798123170e-01,
      -1.1796817981406800e+00, 3.8902074632427380e-01, 9.8268955182315887e-01, 9.0771507475663882e-01,
      -1.1235064744196950e+00, -1.1433814364519257e-01, -9.8499214658004958e-02, 8.2370450229631342e-01,
      -6.2550400126997507e-01,
      // l = 7
      2.1633320256361294e-01, -1.1479845779525677e+00, 1.9678858574337479e+00, -9.0173969410269106e-01,
      -1.1860793243728920e+00, 1.1237861912070477e+00, 2.6121059309461248e-01, -1.1598554415525064e+00,
      6.0949138388742896e-01, 1.0702725630543310e+00, -4.4119858925948124e-01, 4.4013485069298031e-02,
      -9.5950244950782237e-01, 1.3295561395949813e+00, -6.8156142548456888e-01,
      // l = 8
      -6.0005287135253410e-02, -4.8952919570140568e-01, 1.4805042901009400e+00, -1.2461660686204052e+00,
      -7.7277675006696200e-01, 1.7013891495210727e+00, -1.0319513488724547e-01, -6.7672506780580099e-01,
      2.8733783964826060e-01, -1.5790251582135357e+00, -9.8281080844995872e-02, 6.3288388653682381e-01,
      3.7718865181840144e-02, 6.0760607167230829e-01, -1.7146690002674800e+00, 1.5422700375383025e+00,
      -6.1322389249361675e-01};
  const double r[3] = {0.3, -0.5, 0.7};
  const std::vector<double> Y = harmonics(kLmax, r);
  for (int i = sh_index(3, -3); i < sh_size(kLmax); ++i)
    EXPECT_NEAR(Y[i], reference[i - sh_index(3, -3)], 1e-14) << "index " << i;
}

TEST(SphericalHarmonics, PolarAxisIsY) {
  // On the polar axis only m = 0 survives, with Y_l0(+y) = sqrt(2l+1) and Y_l0(-y) = (-1)^l sqrt(2l+1).
  for (double sign : {1.0, -1.0}) {
    const double r[3] = {0.0, 2.0 * sign, 0.0};
    const std::vector<double> Y = harmonics(kLmax, r);
    for (int l = 0; l <= kLmax; ++l)
      for (int m = -l; m <= l; ++m) {
        const double expected = m == 0 ? std::pow(sign, l) * std::sqrt(2.0 * l + 1) : 0.0;
        EXPECT_NEAR(Y[sh_index(l, m)], expected, 1e-14) << l << " " << m;
      }
  }
}

TEST(SphericalHarmonics, ScaleInvarianceAndZeroVector) {
  const double r[3] = {0.4, -1.3, 2.2};
  const double u[3] = {r[0] / std::sqrt(6.69), r[1] / std::sqrt(6.69), r[2] / std::sqrt(6.69)};
  std::vector<double> Y_unit(sh_size(kLmax));
  spherical_harmonics_unit(kLmax, u, Y_unit.data());
  EXPECT_LT(test::max_abs_diff(harmonics(kLmax, r), Y_unit), 1e-13);

  const double zero[3] = {0.0, 0.0, 0.0};
  std::vector<double> Y(sh_size(kLmax)), dY(3 * sh_size(kLmax), 1.0);
  spherical_harmonics_with_gradient(kLmax, zero, Y.data(), dY.data());
  for (int i = 0; i < sh_size(kLmax); ++i) EXPECT_EQ(Y[i], i == 0 ? 1.0 : 0.0);
  for (double d : dY) EXPECT_EQ(d, 0.0);
}

TEST(SphericalHarmonics, FloatAgreesWithDouble) {
  for (int trial = 0; trial < 20; ++trial) {
    const auto u = test::random_unit_vector();
    const double r[3] = {2 * u[0], 2 * u[1], 2 * u[2]};
    const float rf[3] = {float(r[0]), float(r[1]), float(r[2])};
    std::vector<double> Y(sh_size(kLmax)), dY(3 * sh_size(kLmax));
    std::vector<float> Yf(sh_size(kLmax)), dYf(3 * sh_size(kLmax));
    spherical_harmonics_with_gradient(kLmax, r, Y.data(), dY.data());
    spherical_harmonics_with_gradient(kLmax, rf, Yf.data(), dYf.data());
    for (int i = 0; i < sh_size(kLmax); ++i) EXPECT_NEAR(Yf[i], Y[i], 2e-5);
    for (int i = 0; i < 3 * sh_size(kLmax); ++i) EXPECT_NEAR(dYf[i], dY[i], 2e-4);
  }
}

TEST(SphericalHarmonics, GradientMatchesFiniteDifferences) {
  // Fourth-order central differences with step h = 3e-4 |r|, compared after scaling the gradient by |r|
  // (which makes it scale-free). For l <= 8 the truncation error h^4/30 |d5Y| stays below ~1e-10 and the
  // rounding error ~1e-16 |Y| / h below ~1e-11 (measured worst case over these points: 4e-11), so 1e-9
  // leaves a wide margin, while a wrong term in the recursion or in the projection step is O(1).
  std::vector<std::array<double, 3>> points = {
      {0.0, 1.0, 0.0}, {0.0, -0.7, 0.0}, {1e-3, 1.2, -2e-3}, {0.0, 0.0, 1.5}, {-0.8, 0.0, 0.0}, {1e-7, -1.0, 1e-7}};
  for (int trial = 0; trial < 20; ++trial) {
    const auto u = test::random_unit_vector();
    const double scale = test::uniform(0.5, 2.0);
    points.push_back({scale * u[0], scale * u[1], scale * u[2]});
  }
  const int n = sh_size(kLmax);
  for (const auto& r : points) {
    const double norm = std::sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
    std::vector<double> Y(n), dY(3 * n);
    spherical_harmonics_with_gradient(kLmax, r.data(), Y.data(), dY.data());
    EXPECT_LT(test::max_abs_diff(Y, harmonics(kLmax, r.data())), 1e-14);
    const double h = 3e-4 * norm;
    for (int k = 0; k < 3; ++k) {
      auto shifted = [&](double offset) {
        auto q = r;
        q[k] += offset;
        return harmonics(kLmax, q.data());
      };
      const std::vector<double> p1 = shifted(h), m1 = shifted(-h), p2 = shifted(2 * h), m2 = shifted(-2 * h);
      for (int i = 0; i < n; ++i) {
        const double finite_difference = (8 * (p1[i] - m1[i]) - (p2[i] - m2[i])) / (12 * h);
        EXPECT_NEAR(norm * dY[3 * i + k], norm * finite_difference, 1e-9)
            << "index " << i << " component " << k << " at (" << r[0] << ", " << r[1] << ", " << r[2] << ")";
      }
    }
  }
}

TEST(WignerD, L1IsTheRotationItself) {
  // Y_1 = sqrt(3) u, so D^1(R) = R in (x, y, z) order.
  const Matrix3 R = test::random_rotation();
  const DenseMatrix D = wigner_d_from_harmonics(1, R);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(D(i, j), R[i][j], 1e-14);
}

TEST(WignerD, HarmonicsAreEquivariant) {
  for (int trial = 0; trial < 3; ++trial) {
    const Matrix3 R = test::random_rotation();
    for (int l = 0; l <= kLmax; ++l) {
      const DenseMatrix D = wigner_d_from_harmonics(l, R);
      for (int point = 0; point < 5; ++point) {
        const auto u = test::random_unit_vector();
        double Ru[3];
        for (int a = 0; a < 3; ++a) Ru[a] = R[a][0] * u[0] + R[a][1] * u[1] + R[a][2] * u[2];
        const std::vector<double> lhs = block(harmonics(l, Ru), l);
        const std::vector<double> rhs = test::multiply(D, block(harmonics(l, u.data()), l));
        EXPECT_LT(test::max_abs_diff(lhs, rhs), 1e-12) << "l=" << l;
      }
    }
  }
}

TEST(WignerD, OrthogonalAndHomomorphism) {
  const Matrix3 R1 = test::random_rotation(), R2 = test::random_rotation();
  for (int l = 0; l <= kLmax; ++l) {
    const DenseMatrix D1 = wigner_d_from_harmonics(l, R1), D2 = wigner_d_from_harmonics(l, R2);
    const DenseMatrix D12 = wigner_d_from_harmonics(l, test::multiply(R1, R2));
    DenseMatrix D1T(D1.cols, D1.rows);
    for (int i = 0; i < D1.rows; ++i)
      for (int j = 0; j < D1.cols; ++j) D1T(j, i) = D1(i, j);
    const DenseMatrix gram = test::multiply(D1, D1T);
    for (int i = 0; i < gram.rows; ++i)
      for (int j = 0; j < gram.cols; ++j) EXPECT_NEAR(gram(i, j), i == j ? 1.0 : 0.0, 1e-12) << "l=" << l;
    EXPECT_LT(test::max_abs_diff(test::multiply(D1, D2).values, D12.values), 1e-12) << "l=" << l;
  }
}

}  // namespace
}  // namespace facet
