// Spherical grids for Gaunt-style products: Gauss-Legendre nodes in cos(theta) times uniform phi, with the
// dense transforms between harmonic coefficients (degrees 0..lmax, component normalisation) and grid
// values. Host-side; engines copy the matrices to the device. Conventions in docs/conventions.md.
#pragma once

#include <array>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/dense_matrix.hpp"
#include "core/spherical_harmonics.hpp"

namespace facet {

// Gauss-Legendre rule on [-1, 1]: n nodes in ascending order, weights summing to 2; integrates
// polynomials of degree <= 2n-1 exactly.
struct GaussLegendreRule {
  std::vector<double> nodes;
  std::vector<double> weights;
};

namespace detail {

// P_n(x) and P_n'(x) by the three-term recurrence (|x| < 1).
inline void legendre_with_derivative(int n, double x, double& value, double& derivative) {
  double p_k = x;  // P_1
  double p_km1 = 1.0;  // P_0
  for (int k = 2; k <= n; ++k) {
    const double p_next = ((2 * k - 1) * x * p_k - (k - 1) * p_km1) / k;
    p_km1 = p_k;
    p_k = p_next;
  }
  value = p_k;
  derivative = n * (x * p_k - p_km1) / (x * x - 1.0);
}

}  // namespace detail

inline GaussLegendreRule gauss_legendre(int n) {
  if (n < 1) throw std::invalid_argument("gauss_legendre: need n >= 1");
  const double pi = std::acos(-1.0);
  GaussLegendreRule rule{std::vector<double>(n), std::vector<double>(n)};
  // Newton iteration on P_n from the asymptotic guess cos(pi (i + 3/4) / (n + 1/2)) for the i-th largest
  // root; the roots are symmetric, so only the non-negative half is computed.
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double x = std::cos(pi * (i + 0.75) / (n + 0.5));
    double value = 0.0;
    double derivative = 0.0;
    for (int iteration = 0; iteration < 100; ++iteration) {
      detail::legendre_with_derivative(n, x, value, derivative);
      const double step = value / derivative;
      x -= step;
      if (std::abs(step) <= 1e-15) break;  // quadratic convergence: x is now exact to rounding
    }
    if (2 * i + 1 == n) x = 0.0;  // the middle root of an odd rule
    detail::legendre_with_derivative(n, x, value, derivative);
    const double weight = 2.0 / ((1.0 - x * x) * derivative * derivative);
    rule.nodes[n - 1 - i] = x;
    rule.nodes[i] = -x;
    rule.weights[n - 1 - i] = weight;
    rule.weights[i] = weight;
  }
  return rule;
}

struct S2GridSize {
  int n_theta;
  int n_phi;
};

// Smallest grid on which projecting a function of degree <= L to the grid and back is exact:
// the integrands Y_lm Y_l'm' have degree <= 2L in cos(theta) and azimuthal frequency <= 2L.
inline S2GridSize grid_size_for_projection(int L) { return {L + 1, 2 * L + 1}; }

// Smallest grid on which the pointwise product of functions of degrees <= L1 and <= L2, projected back to
// degrees <= L3, is exact: the integrands have degree <= L1+L2+L3 in cos(theta) and frequency <= L1+L2+L3.
inline S2GridSize grid_size_for_product(int L1, int L2, int L3) {
  const int degree = L1 + L2 + L3;
  return {(degree + 2) / 2, degree + 1};
}

// Point p = i_theta * n_phi + i_phi, i_theta over the Gauss-Legendre nodes cos(theta) in ascending order
// (theta measured from the +y axis), phi = 2 pi i_phi / n_phi measured from +z towards +x:
//   point = (sin(theta) sin(phi), cos(theta), sin(theta) cos(phi)),  weight = w_GL * 2 pi / n_phi.
struct S2Grid {
  int lmax = 0;
  int n_theta = 0;
  int n_phi = 0;
  std::vector<std::array<double, 3>> points;  // unit vectors
  std::vector<double> weights;  // sum to 4 pi
  DenseMatrix to_grid;  // size() x sh_size(lmax): F(p) = sum_i Y_i(p) c_i
  DenseMatrix from_grid;  // sh_size(lmax) x size(): c_i = (1/4pi) sum_p w_p F(p) Y_i(p)

  int size() const { return n_theta * n_phi; }
};

inline S2Grid make_s2_grid(int lmax, S2GridSize grid_size) {
  if (lmax < 0 || grid_size.n_theta < 1 || grid_size.n_phi < 1)
    throw std::invalid_argument("make_s2_grid: need lmax >= 0, n_theta >= 1, n_phi >= 1");
  const double pi = std::acos(-1.0);
  S2Grid grid;
  grid.lmax = lmax;
  grid.n_theta = grid_size.n_theta;
  grid.n_phi = grid_size.n_phi;
  const int n_points = grid.size();
  const int n_harmonics = sh_size(lmax);
  grid.points.resize(n_points);
  grid.weights.resize(n_points);
  grid.to_grid = DenseMatrix(n_points, n_harmonics);
  grid.from_grid = DenseMatrix(n_harmonics, n_points);

  const GaussLegendreRule rule = gauss_legendre(grid.n_theta);
  std::vector<double> Y(n_harmonics);
  for (int i_theta = 0; i_theta < grid.n_theta; ++i_theta) {
    const double cos_theta = rule.nodes[i_theta];
    const double sin_theta = std::sqrt(1.0 - cos_theta * cos_theta);
    for (int i_phi = 0; i_phi < grid.n_phi; ++i_phi) {
      const int p = i_theta * grid.n_phi + i_phi;
      const double phi = 2.0 * pi * i_phi / grid.n_phi;
      grid.points[p] = {sin_theta * std::sin(phi), cos_theta, sin_theta * std::cos(phi)};
      grid.weights[p] = rule.weights[i_theta] * 2.0 * pi / grid.n_phi;
      spherical_harmonics_unit(lmax, grid.points[p].data(), Y.data());
      for (int i = 0; i < n_harmonics; ++i) {
        grid.to_grid(p, i) = Y[i];
        grid.from_grid(i, p) = grid.weights[p] * Y[i] / (4.0 * pi);
      }
    }
  }
  return grid;
}

}  // namespace facet
