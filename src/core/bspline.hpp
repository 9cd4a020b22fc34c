// Uniform cubic B-spline basis for radial functions on [0, r_cut]. Usable in Kokkos kernels.
//
// K = n_basis >= 4 functions, knot spacing h = r_cut / (K - 3), extended (unclamped) knots
// t_j = (j - 3) h for j = 0..K+3, and B_k(r) = B((r - t_k) / h) with the cardinal cubic B-spline B
// supported on [0, 4]. So B_k lives on [(k-3) h, (k+1) h]: the first three and the last three functions
// stick out of [0, r_cut], and on [0, r_cut] the K functions are C2 piecewise cubics forming a partition
// of unity. On the interval [i h, (i+1) h] (i = 0..K-4) exactly B_i..B_{i+3} are nonzero; r = r_cut
// belongs to the last interval i = K-4.
// Outside [0, r_cut] (and for NaN) every value and derivative is zero and the first index is 0, so that
// callers can accumulate without branching (radial functions are multiplied by a cutoff envelope anyway).
#pragma once

#include "core/host_device.hpp"

namespace facet {

template <class T>
struct CubicBSplineBasis {
  T r_cut;
  int n_basis;

  FACET_INLINE T knot_spacing() const { return r_cut / T(n_basis - 3); }

  // Index of the first nonzero basis function at r, its four values B_first..B_first+3, and their
  // first derivatives d/dr.
  FACET_INLINE int evaluate(T r, T value[4], T derivative[4]) const {
    T second[4];
    return evaluate(r, value, derivative, second);
  }

  // As above, plus second derivatives d2/dr2.
  FACET_INLINE int evaluate(T r, T value[4], T derivative[4], T second[4]) const {
    if (!(r >= T(0) && r <= r_cut)) {
      for (int j = 0; j < 4; ++j) value[j] = derivative[j] = second[j] = T(0);
      return 0;
    }
    const T h = knot_spacing();
    const T s = r / h;
    int first = static_cast<int>(s);
    if (first > n_basis - 4) first = n_basis - 4;
    // Local coordinate x in [0, 1]; B_first is in its last polynomial piece, B_first+3 in its first.
    const T x = s - T(first);
    const T y = T(1) - x;
    const T sixth = T(1) / T(6);
    value[0] = sixth * y * y * y;
    value[1] = sixth * ((T(3) * x - T(6)) * x * x + T(4));
    value[2] = sixth * (((T(-3) * x + T(3)) * x + T(3)) * x + T(1));
    value[3] = sixth * x * x * x;
    const T inv_h = T(1) / h;
    derivative[0] = T(-0.5) * y * y * inv_h;
    derivative[1] = (T(1.5) * x - T(2)) * x * inv_h;
    derivative[2] = ((T(-1.5) * x + T(1)) * x + T(0.5)) * inv_h;
    derivative[3] = T(0.5) * x * x * inv_h;
    const T inv_h2 = inv_h * inv_h;
    second[0] = y * inv_h2;
    second[1] = (T(3) * x - T(2)) * inv_h2;
    second[2] = (T(1) - T(3) * x) * inv_h2;
    second[3] = x * inv_h2;
    return first;
  }

  // f(r) = sum_k coefficients[k] B_k(r) and f'(r); coefficients holds n_basis values.
  FACET_INLINE void spline(const T* coefficients, T r, T& value, T& derivative) const {
    T b[4], db[4];
    const int first = evaluate(r, b, db);
    value = derivative = T(0);
    for (int j = 0; j < 4; ++j) {
      value += coefficients[first + j] * b[j];
      derivative += coefficients[first + j] * db[j];
    }
  }
};

}  // namespace facet
