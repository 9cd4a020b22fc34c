// Real spherical harmonics in e3nn's conventions (see docs/conventions.md):
//   * index l*l + l + m, m = -l..l, all degrees 0..lmax (>= 0) in one flat array of (lmax+1)^2 values;
//   * 'component' normalisation: sum_m Y_lm(u)^2 = 2l+1 on the unit sphere, Y_00 = 1;
//   * y is the polar axis: Y_1 = sqrt(3) (x, y, z).
// Y_lm(u) = sqrt(2l+1) S_lm(u) where S_lm are the Racah-normalised real regular solid harmonics of the
// standard (z-polar) frame evaluated at the cyclically permuted point (z, x, y). The recursion below is
// written directly in that permuted frame: y plays the role of the standard z, z of x, and x of y.
//
// Gradients are stored as dY[3 * (l*l + l + m) + k], k = 0, 1, 2 for d/dx, d/dy, d/dz.
// All functions are usable in Kokkos kernels (FACET_INLINE, no allocation); T is float or double.
#pragma once

#include <cmath>

#include "core/host_device.hpp"

namespace facet {

// Number of harmonics of degrees 0..lmax.
FACET_INLINE constexpr int sh_size(int lmax) { return (lmax + 1) * (lmax + 1); }

// Flat index of (l, m), m = -l..l.
FACET_INLINE constexpr int sh_index(int l, int m) { return l * l + l + m; }

namespace detail {

// Racah-normalised real regular solid harmonics S_lm(x, y, z) for l <= lmax, written to S, and, when
// WithGradient, their Cartesian gradients written to dS. They are homogeneous polynomials of degree l
// with sum_m S_lm^2 = (x^2 + y^2 + z^2)^l. Upward recursion in l (Helgaker, Jorgensen & Olsen,
// "Molecular Electronic-Structure Theory", eqs. 6.4.70-6.4.73), stable for any l; the gradient is its
// forward derivative, so both are exact polynomial evaluations.
template <bool WithGradient, class T>
FACET_INLINE void solid_harmonics(int lmax, T x, T y, T z, T* S, T* dS) {
  using std::sqrt;
  S[0] = T(1);
  if constexpr (WithGradient) {
    for (int k = 0; k < 3; ++k) dS[k] = T(0);
  }
  if (lmax < 1) return;
  // m = -1, 0, 1 <-> x, y, z.
  S[1] = x;
  S[2] = y;
  S[3] = z;
  if constexpr (WithGradient) {
    for (int i = 1; i <= 3; ++i)
      for (int k = 0; k < 3; ++k) dS[3 * i + k] = (k == i - 1) ? T(1) : T(0);
  }
  const T r2 = x * x + y * y + z * z;
  for (int l = 1; l < lmax; ++l) {
    const int centre_lm1 = sh_index(l - 1, 0);
    const int centre_l = sh_index(l, 0);
    const int centre_lp1 = sh_index(l + 1, 0);

    // Sectoral terms m = +-(l+1): a rotation of (S_{l,l}, S_{l,-l}) by the azimuth of (z, x).
    const T sectoral = sqrt(T(2 * l + 1) / T(2 * l + 2));
    const T cos_part = S[centre_l + l];
    const T sin_part = S[centre_l - l];
    S[centre_lp1 + l + 1] = sectoral * (z * cos_part - x * sin_part);
    S[centre_lp1 - l - 1] = sectoral * (x * cos_part + z * sin_part);
    if constexpr (WithGradient) {
      const T* dcos = dS + 3 * (centre_l + l);
      const T* dsin = dS + 3 * (centre_l - l);
      T* dpos = dS + 3 * (centre_lp1 + l + 1);
      T* dneg = dS + 3 * (centre_lp1 - l - 1);
      for (int k = 0; k < 3; ++k) {
        dpos[k] = sectoral * (z * dcos[k] - x * dsin[k]);
        dneg[k] = sectoral * (x * dcos[k] + z * dsin[k]);
      }
      dpos[2] += sectoral * cos_part;
      dpos[0] -= sectoral * sin_part;
      dneg[0] += sectoral * cos_part;
      dneg[2] += sectoral * sin_part;
    }

    // |m| <= l: three-term recursion along the polar axis y.
    for (int m = -l; m <= l; ++m) {
      const bool has_lm1 = m > -l && m < l;  // S_{l-1,m} exists
      const T inv_norm = T(1) / sqrt(T((l + m + 1) * (l - m + 1)));
      const T a = T(2 * l + 1) * inv_norm;
      const T b = has_lm1 ? sqrt(T((l + m) * (l - m))) * inv_norm : T(0);
      const T s_l = S[centre_l + m];
      const T s_lm1 = has_lm1 ? S[centre_lm1 + m] : T(0);
      S[centre_lp1 + m] = a * y * s_l - b * r2 * s_lm1;
      if constexpr (WithGradient) {
        const T* ds_l = dS + 3 * (centre_l + m);
        T* out = dS + 3 * (centre_lp1 + m);
        for (int k = 0; k < 3; ++k) out[k] = a * y * ds_l[k];
        out[1] += a * s_l;
        if (has_lm1) {
          const T* ds_lm1 = dS + 3 * (centre_lm1 + m);
          const T r[3] = {x, y, z};
          for (int k = 0; k < 3; ++k) out[k] -= b * (r2 * ds_lm1[k] + T(2) * r[k] * s_lm1);
        }
      }
    }
  }
}

}  // namespace detail

// Y_lm(u) for l <= lmax at a unit vector u, which is used as given (not normalised): for grids and other
// callers whose points are unit vectors by construction. Y must hold sh_size(lmax) values.
template <class T>
FACET_INLINE void spherical_harmonics_unit(int lmax, const T u[3], T* Y) {
  using std::sqrt;
  detail::solid_harmonics<false>(lmax, u[0], u[1], u[2], Y, static_cast<T*>(nullptr));
  for (int l = 1; l <= lmax; ++l) {
    const T scale = sqrt(T(2 * l + 1));
    for (int i = sh_index(l, -l); i <= sh_index(l, l); ++i) Y[i] *= scale;
  }
}

// Y_lm(r / |r|) for l <= lmax. For r = 0 the direction is taken as the zero vector, which gives Y_00 = 1
// and all other values 0 (e3nn's behaviour).
template <class T>
FACET_INLINE void spherical_harmonics(int lmax, const T r[3], T* Y) {
  using std::sqrt;
  const T norm = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
  const T inv_norm = norm > T(0) ? T(1) / norm : T(0);
  const T u[3] = {r[0] * inv_norm, r[1] * inv_norm, r[2] * inv_norm};
  spherical_harmonics_unit(lmax, u, Y);
}

// Y_lm(r / |r|) and its gradient with respect to r (not necessarily a unit vector). Because S_lm is a
// homogeneous polynomial of degree l, d/dr [S(r/|r|)] = (grad S(u) - l S(u) u) / |r|. For r = 0 the
// values are as in spherical_harmonics() and the gradient is set to zero.
// Y holds sh_size(lmax) values, dY holds 3 * sh_size(lmax).
template <class T>
FACET_INLINE void spherical_harmonics_with_gradient(int lmax, const T r[3], T* Y, T* dY) {
  using std::sqrt;
  const T norm = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
  const T inv_norm = norm > T(0) ? T(1) / norm : T(0);
  const T u[3] = {r[0] * inv_norm, r[1] * inv_norm, r[2] * inv_norm};
  detail::solid_harmonics<true>(lmax, u[0], u[1], u[2], Y, dY);
  for (int l = 0; l <= lmax; ++l) {
    const T scale = sqrt(T(2 * l + 1));
    for (int i = sh_index(l, -l); i <= sh_index(l, l); ++i) {
      for (int k = 0; k < 3; ++k) dY[3 * i + k] = scale * inv_norm * (dY[3 * i + k] - T(l) * Y[i] * u[k]);
      Y[i] *= scale;
    }
  }
}

}  // namespace facet
