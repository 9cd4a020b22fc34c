// Gauss-Legendre x uniform-phi grids: quadrature, layout, and the exactness bounds (which must be tight).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/clebsch_gordan.hpp"
#include "core/s2_grid.hpp"
#include "test_utils.hpp"

namespace facet {
namespace {

const double kPi = std::acos(-1.0);

TEST(GaussLegendre, KnownThreePointRule) {
  const GaussLegendreRule rule = gauss_legendre(3);
  EXPECT_NEAR(rule.nodes[0], -std::sqrt(0.6), 1e-16);
  EXPECT_EQ(rule.nodes[1], 0.0);
  EXPECT_NEAR(rule.nodes[2], std::sqrt(0.6), 1e-16);
  EXPECT_NEAR(rule.weights[0], 5.0 / 9.0, 1e-15);
  EXPECT_NEAR(rule.weights[1], 8.0 / 9.0, 1e-15);
  EXPECT_NEAR(rule.weights[2], 5.0 / 9.0, 1e-15);
}

TEST(GaussLegendre, ExactUpToDegreeTwoNMinusOneOnly) {
  for (int n : {1, 2, 5, 12, 40, 101}) {
    const GaussLegendreRule rule = gauss_legendre(n);
    for (int i = 0; i + 1 < n; ++i) EXPECT_LT(rule.nodes[i], rule.nodes[i + 1]);
    auto integrate_power = [&](int k) {
      double sum = 0.0;
      for (int i = 0; i < n; ++i) sum += rule.weights[i] * std::pow(rule.nodes[i], k);
      return sum;
    };
    for (int k = 0; k <= 2 * n - 1; ++k) EXPECT_NEAR(integrate_power(k), k % 2 ? 0.0 : 2.0 / (k + 1), 1e-14) << n << " " << k;
    // The error for x^(2n) is about pi 4^-n: large enough to see for small n.
    if (n <= 5) {
      EXPECT_GT(std::abs(integrate_power(2 * n) - 2.0 / (2 * n + 1)), 1e-4) << n;
    }
  }
}

TEST(S2Grid, LayoutAndWeights) {
  const S2Grid grid = make_s2_grid(2, {4, 7});
  ASSERT_EQ(grid.size(), 28);
  double total = 0.0;
  for (double w : grid.weights) total += w;
  EXPECT_NEAR(total, 4 * kPi, 1e-13);
  const GaussLegendreRule rule = gauss_legendre(4);
  for (int i_theta = 0; i_theta < 4; ++i_theta)
    for (int i_phi = 0; i_phi < 7; ++i_phi) {
      const auto& p = grid.points[i_theta * 7 + i_phi];
      EXPECT_NEAR(p[0] * p[0] + p[1] * p[1] + p[2] * p[2], 1.0, 1e-15);
      EXPECT_NEAR(p[1], rule.nodes[i_theta], 1e-15);  // cos(theta) along +y
      EXPECT_NEAR(std::atan2(p[0], p[2]), std::remainder(2 * kPi * i_phi / 7, 2 * kPi), 1e-14);  // phi from +z to +x
    }
  EXPECT_EQ(grid.to_grid.rows, 28);
  EXPECT_EQ(grid.to_grid.cols, 9);
  EXPECT_EQ(grid.from_grid.rows, 9);
  EXPECT_EQ(grid.from_grid.cols, 28);
}

TEST(S2Grid, SizeHelpers) {
  EXPECT_EQ(grid_size_for_projection(4).n_theta, 5);
  EXPECT_EQ(grid_size_for_projection(4).n_phi, 9);
  EXPECT_EQ(grid_size_for_product(2, 2, 2).n_theta, 4);  // ceil(7/2)
  EXPECT_EQ(grid_size_for_product(2, 2, 2).n_phi, 7);
  EXPECT_EQ(grid_size_for_product(2, 1, 2).n_theta, 3);  // ceil(6/2)
  EXPECT_EQ(grid_size_for_product(2, 1, 2).n_phi, 6);
}

// Max error of coefficients -> grid -> coefficients for a random function of degree <= L.
double round_trip_error(int L, S2GridSize size) {
  const S2Grid grid = make_s2_grid(L, size);
  const std::vector<double> c = test::random_vector(sh_size(L));
  return test::max_abs_diff(test::multiply(grid.from_grid, test::multiply(grid.to_grid, c)), c);
}

TEST(S2Grid, RoundTripExactExactlyWhenResolved) {
  for (int L = 0; L <= 8; ++L) {
    const S2GridSize size = grid_size_for_projection(L);
    EXPECT_LT(round_trip_error(L, size), 1e-12) << "L=" << L;
    if (L == 0) continue;
    EXPECT_GT(round_trip_error(L, {size.n_theta - 1, size.n_phi}), 1e-6) << "L=" << L;
    EXPECT_GT(round_trip_error(L, {size.n_theta, size.n_phi - 1}), 1e-6) << "L=" << L;
  }
}

// Max error of the grid product (project a (deg <= L1) * b (deg <= L2) to degrees <= L3) against the
// product computed with Gaunt coefficients.
double grid_product_error(int L1, int L2, int L3, S2GridSize size) {
  const int lmax = std::max({L1, L2, L3});
  const S2Grid grid = make_s2_grid(lmax, size);
  std::vector<double> a(sh_size(lmax), 0.0), b(sh_size(lmax), 0.0);
  for (int i = 0; i < sh_size(L1); ++i) a[i] = test::gaussian();
  for (int i = 0; i < sh_size(L2); ++i) b[i] = test::gaussian();

  const std::vector<double> fa = test::multiply(grid.to_grid, a), fb = test::multiply(grid.to_grid, b);
  std::vector<double> product(grid.size());
  for (int p = 0; p < grid.size(); ++p) product[p] = fa[p] * fb[p];
  std::vector<double> on_grid = test::multiply(grid.from_grid, product);
  on_grid.resize(sh_size(L3));

  std::vector<double> exact(sh_size(L3), 0.0);
  for (int l1 = 0; l1 <= L1; ++l1)
    for (int l2 = 0; l2 <= L2; ++l2)
      for (int l3 = 0; l3 <= L3; ++l3) {
        const CouplingTensor G = gaunt(l1, l2, l3);
        for (int m1 = -l1; m1 <= l1; ++m1)
          for (int m2 = -l2; m2 <= l2; ++m2)
            for (int m3 = -l3; m3 <= l3; ++m3)
              exact[sh_index(l3, m3)] += G(m1 + l1, m2 + l2, m3 + l3) * a[sh_index(l1, m1)] * b[sh_index(l2, m2)];
      }
  return test::max_abs_diff(on_grid, exact);
}

TEST(S2Grid, GauntProductExactExactlyWhenResolved) {
  const int cases[][3] = {{1, 1, 2}, {2, 2, 2}, {2, 1, 2}, {2, 2, 4}, {3, 3, 4}, {4, 4, 4}};
  for (const auto& c : cases) {
    const S2GridSize size = grid_size_for_product(c[0], c[1], c[2]);
    EXPECT_LT(grid_product_error(c[0], c[1], c[2], size), 1e-12) << c[0] << c[1] << c[2];
    EXPECT_GT(grid_product_error(c[0], c[1], c[2], {size.n_theta - 1, size.n_phi}), 1e-6) << c[0] << c[1] << c[2];
    EXPECT_GT(grid_product_error(c[0], c[1], c[2], {size.n_theta, size.n_phi - 1}), 1e-6) << c[0] << c[1] << c[2];
  }
}

}  // namespace
}  // namespace facet
