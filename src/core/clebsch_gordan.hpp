// Real Clebsch-Gordan tensors (e3nn's wigner_3j) and real Gaunt coefficients in the basis of
// core/spherical_harmonics.hpp. Host-side: engines tabulate them once. Conventions in docs/conventions.md.
#pragma once

#include <cmath>
#include <complex>
#include <cstddef>
#include <cstdlib>
#include <vector>

namespace facet {

// A real tensor of shape (2l1+1, 2l2+1, 2l3+1), indexed by i_k = m_k + l_k, row-major.
struct CouplingTensor {
  int l1 = 0;
  int l2 = 0;
  int l3 = 0;
  std::vector<double> values;

  CouplingTensor(int l1_, int l2_, int l3_)
      : l1(l1_), l2(l2_), l3(l3_),
        values(static_cast<std::size_t>(2 * l1_ + 1) * (2 * l2_ + 1) * (2 * l3_ + 1), 0.0) {}

  std::size_t offset(int i1, int i2, int i3) const {
    return (static_cast<std::size_t>(i1) * (2 * l2 + 1) + i2) * (2 * l3 + 1) + i3;
  }
  double operator()(int i1, int i2, int i3) const { return values[offset(i1, i2, i3)]; }
  double& operator()(int i1, int i2, int i3) { return values[offset(i1, i2, i3)]; }
};

inline bool satisfies_triangle(int l1, int l2, int l3) {
  return l1 >= 0 && l2 >= 0 && l3 >= 0 && std::abs(l1 - l2) <= l3 && l3 <= l1 + l2;
}

namespace detail {

inline long double factorial(int n) {
  long double result = 1.0L;
  for (int k = 2; k <= n; ++k) result *= k;
  return result;
}

// The complex harmonic components of e3nn's real basis vector (l, m): at most two (mu, coefficient)
// pairs, returned in mu[] / coefficient[], and their count. With the phase (-i)^l, which e3nn
// introduces to make the coupling tensors real:
//   m = 0:  |l,0>
//   m > 0:  ((-1)^m |l,m> + |l,-m>) / sqrt2
//   m < 0:  i ((-1)^m |l,|m|> - |l,-|m|>) / sqrt2
inline int real_basis_components(int l, int m, int mu[2], std::complex<long double> coefficient[2]) {
  const std::complex<long double> powers_of_minus_i[4] = {{1.0L, 0.0L}, {0.0L, -1.0L}, {-1.0L, 0.0L}, {0.0L, 1.0L}};
  const std::complex<long double> minus_i_to_l = powers_of_minus_i[l % 4];
  const long double inv_sqrt2 = 1.0L / std::sqrt(2.0L);
  const long double sign = (m % 2 == 0) ? 1.0L : -1.0L;
  if (m == 0) {
    mu[0] = 0;
    coefficient[0] = minus_i_to_l;
    return 1;
  }
  const std::complex<long double> i_unit(0.0L, 1.0L);
  const std::complex<long double> factor = (m > 0) ? minus_i_to_l * inv_sqrt2 : minus_i_to_l * i_unit * inv_sqrt2;
  mu[0] = std::abs(m);
  coefficient[0] = factor * sign;
  mu[1] = -std::abs(m);
  coefficient[1] = (m > 0) ? factor : -factor;
  return 2;
}

}  // namespace detail

// Standard (Condon-Shortley) Clebsch-Gordan coefficient <j1 m1 j2 m2 | J M> for integer angular
// momenta, by Racah's formula. Long double keeps the alternating sum accurate: orthogonality holds to
// 1e-15 up to j = 20.
inline double complex_clebsch_gordan(int j1, int m1, int j2, int m2, int J, int M) {
  if (!satisfies_triangle(j1, j2, J) || m1 + m2 != M || std::abs(m1) > j1 || std::abs(m2) > j2 ||
      std::abs(M) > J)
    return 0.0;
  using detail::factorial;
  const long double prefactor =
      std::sqrt((2 * J + 1) * factorial(J + j1 - j2) * factorial(J - j1 + j2) * factorial(j1 + j2 - J) /
                factorial(j1 + j2 + J + 1)) *
      std::sqrt(factorial(J + M) * factorial(J - M) * factorial(j1 - m1) * factorial(j1 + m1) *
                factorial(j2 - m2) * factorial(j2 + m2));
  long double sum = 0.0L;
  for (int k = 0; k <= j1 + j2 - J; ++k) {
    const int d[6] = {k, j1 + j2 - J - k, j1 - m1 - k, j2 + m2 - k, J - j2 + m1 + k, J - j1 - m2 + k};
    bool valid = true;
    long double denominator = 1.0L;
    for (int n : d) {
      valid = valid && n >= 0;
      denominator *= factorial(n);
    }
    if (valid) sum += ((k % 2 == 0) ? 1.0L : -1.0L) / denominator;
  }
  return static_cast<double>(prefactor * sum);
}

// Real Clebsch-Gordan tensor C[l1, l2, l3], equal to e3nn's o3.wigner_3j(l1, l2, l3) (same construction):
//   C_{m1 m2 m3} proportional to Re sum_{mu} q1(mu1, m1) q2(mu2, m2) conj(q3(mu3, m3)) <l1 mu1 l2 mu2 | l3 mu3>
// with q(mu, m) the components listed in detail::real_basis_components, normalised to Frobenius norm 1.
// Invariant under D_l1 (x) D_l2 (x) D_l3; zero tensor unless |l1 - l2| <= l3 <= l1 + l2.
// Examples: C[1,1,0] = delta / sqrt3, C[1,1,1]_{xyz} = +1/sqrt6 (Levi-Civita). Like the 3j symbols, C is
// unchanged by cyclic permutations of (l_k, index) pairs and changes by (-1)^(l1+l2+l3) under a swap.
inline CouplingTensor clebsch_gordan(int l1, int l2, int l3) {
  CouplingTensor C(l1, l2, l3);
  if (!satisfies_triangle(l1, l2, l3)) return C;
  double norm2 = 0.0;
  for (int m1 = -l1; m1 <= l1; ++m1) {
    int mu1[2], mu2[2], mu3[2];
    std::complex<long double> q1[2], q2[2], q3[2];
    const int n1 = detail::real_basis_components(l1, m1, mu1, q1);
    for (int m2 = -l2; m2 <= l2; ++m2) {
      const int n2 = detail::real_basis_components(l2, m2, mu2, q2);
      for (int m3 = -l3; m3 <= l3; ++m3) {
        const int n3 = detail::real_basis_components(l3, m3, mu3, q3);
        std::complex<long double> sum = 0.0L;
        for (int a = 0; a < n1; ++a)
          for (int b = 0; b < n2; ++b)
            for (int c = 0; c < n3; ++c)
              sum += q1[a] * q2[b] * std::conj(q3[c]) *
                     static_cast<long double>(complex_clebsch_gordan(l1, mu1[a], l2, mu2[b], l3, mu3[c]));
        // The imaginary part vanishes identically thanks to the (-i)^l phases.
        const double value = static_cast<double>(sum.real());
        C(m1 + l1, m2 + l2, m3 + l3) = value;
        norm2 += value * value;
      }
    }
  }
  const double inv_norm = 1.0 / std::sqrt(norm2);
  for (double& v : C.values) v *= inv_norm;
  return C;
}

// Real Gaunt coefficients G_{m1 m2 m3} = (1/4pi) int Y_l1m1 Y_l2m2 Y_l3m3 dOmega for component-normalised
// harmonics (so G[0,l,l]_{0 m n} = delta_mn). G is the invariant tensor C[l1,l2,l3] scaled by
// sqrt((2l1+1)(2l2+1)(2l3+1)) C_{000}: contracting G with C gives the rotation-invariant
// sum_m C_m Y(u) Y(u) Y(u), evaluated at u = +y where only m = 0 survives. With e3nn's phases C_{000} =
// |(l1 l2 l3; 0 0 0)| > 0 for every even triple, so G is a positive multiple of C. Zero unless l1+l2+l3 is
// even and the triangle rule holds.
inline CouplingTensor gaunt(int l1, int l2, int l3) {
  CouplingTensor G = clebsch_gordan(l1, l2, l3);
  const bool even = (l1 + l2 + l3) % 2 == 0;
  const double scale =
      even ? std::sqrt(double((2 * l1 + 1) * (2 * l2 + 1) * (2 * l3 + 1))) * G(l1, l2, l3) : 0.0;
  for (double& v : G.values) v *= scale;
  return G;
}

}  // namespace facet
