// Polynomial cutoff envelope of NequIP/MACE (Klicpera et al., DimeNet):
//   u(x) = 1 - (p+1)(p+2)/2 x^p + p(p+2) x^(p+1) - p(p+1)/2 x^(p+2),  x = r / r_cut < 1;  u = 0 for x >= 1.
// Then du/dx = -p(p+1)(p+2)/2 x^(p-1) (1-x)^2 <= 0, and u, u', u'' vanish at r_cut, so the envelope is C2.
// Usable in Kokkos kernels. Requires p >= 2.
#pragma once

#include "core/host_device.hpp"

namespace facet {

template <class T>
struct PolynomialEnvelope {
  T r_cut;
  int p = 6;

  // u(r), du/dr and d2u/dr2.
  FACET_INLINE void evaluate(T r, T& value, T& derivative, T& second) const {
    const T x = r / r_cut;
    if (x >= T(1)) {
      value = derivative = second = T(0);
      return;
    }
    T x_pm2 = T(1);  // x^(p-2), p >= 2
    for (int k = 0; k < p - 2; ++k) x_pm2 *= x;
    const T pp = T(p);
    const T c = pp * (pp + T(1)) * (pp + T(2)) / T(2);
    const T one_minus_x = T(1) - x;
    value = T(1) - x_pm2 * x * x *
                       ((pp + T(1)) * (pp + T(2)) / T(2) - pp * (pp + T(2)) * x + pp * (pp + T(1)) / T(2) * x * x);
    derivative = -c * x_pm2 * x * one_minus_x * one_minus_x / r_cut;
    second = -c * x_pm2 * one_minus_x * ((pp - T(1)) - (pp + T(1)) * x) / (r_cut * r_cut);
  }

  FACET_INLINE T value(T r) const {
    T u, du, d2u;
    evaluate(r, u, du, d2u);
    return u;
  }
};

}  // namespace facet
