// Real Wigner D-matrices in the basis of core/spherical_harmonics.hpp. Host-side; used by tests and by
// anything that must rotate coefficient vectors.
#pragma once

#include <array>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/dense_matrix.hpp"
#include "core/s2_grid.hpp"
#include "core/spherical_harmonics.hpp"

namespace facet {

using Matrix3 = std::array<std::array<double, 3>, 3>;

// The (2l+1) x (2l+1) matrix D(R) with Y_l(R u) = D(R) Y_l(u) for every unit vector u, rows and columns
// indexed by m + l. Exact up to rounding: D_mn = (1/4pi) int Y_lm(R u) Y_ln(u) du, and the integrand has
// degree 2l, which the grid of grid_size_for_projection(l) integrates exactly. D is orthogonal and
// D(R1 R2) = D(R1) D(R2) when R is a rotation.
inline DenseMatrix wigner_d_from_harmonics(int l, const Matrix3& R) {
  if (l < 0) throw std::invalid_argument("wigner_d_from_harmonics: need l >= 0");
  const S2Grid grid = make_s2_grid(l, grid_size_for_projection(l));
  const int offset = sh_index(l, -l);
  const int dim = 2 * l + 1;
  DenseMatrix D(dim, dim);
  std::vector<double> Y_rotated(sh_size(l));
  for (int p = 0; p < grid.size(); ++p) {
    const auto& u = grid.points[p];
    double Ru[3];
    for (int a = 0; a < 3; ++a) Ru[a] = R[a][0] * u[0] + R[a][1] * u[1] + R[a][2] * u[2];
    spherical_harmonics(l, Ru, Y_rotated.data());
    for (int m = 0; m < dim; ++m)
      for (int n = 0; n < dim; ++n) D(m, n) += Y_rotated[offset + m] * grid.from_grid(offset + n, p);
  }
  return D;
}

}  // namespace facet
