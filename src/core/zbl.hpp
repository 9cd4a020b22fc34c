// Short-range repulsion: the Ziegler-Biersack-Littmark (ZBL) universal screened nuclear repulsion,
// switched off by the polynomial envelope of core/envelope.hpp (p = 6) at a pair distance r_max:
//   E(r) = Z_i Z_j e^2 / (4 pi eps0 r) * phi(r / a) * u(r / r_max),
//   phi(x) = 0.18175 e^{-3.19980 x} + 0.50986 e^{-0.94229 x} + 0.28022 e^{-0.40290 x} + 0.02817 e^{-0.20162 x},
//   a = 0.46850 Å / (Z_i^0.23 + Z_j^0.23)
// (the constants of LAMMPS's pair_style zbl). E, E' and E'' vanish at r_max, so the pair term is C2.
// MACE and NequIP add the same kind of term so that atoms cannot fuse where the training data has no pairs.
// Usable in Kokkos kernels.
#pragma once

#include <cmath>

#include "core/envelope.hpp"
#include "core/host_device.hpp"

namespace facet {

// e^2 / (4 pi eps0) in eV Å (CODATA 2018: 14.3996454784).
constexpr double kCoulombEvAngstrom = 14.3996454784;
// The envelope exponent of the switching function.
constexpr int kRepulsionEnvelopeP = 6;

template <class T>
struct ZblPair {
  T charge_product = 0;  // Z_i Z_j e^2 / (4 pi eps0), eV Å
  T inv_screening = 0;   // 1 / a, 1/Å
  T r_max = 0;           // switched off at and beyond this distance, Å

  static ZblPair make(int z_i, int z_j, T r_max) {
    ZblPair p;
    p.charge_product = static_cast<T>(kCoulombEvAngstrom * z_i * z_j);
    p.inv_screening = static_cast<T>((std::pow(double(z_i), 0.23) + std::pow(double(z_j), 0.23)) / 0.46850);
    p.r_max = r_max;
    return p;
  }

  // E(r) and dE/dr for r > 0.
  FACET_INLINE void evaluate(T r, T& energy, T& derivative) const {
    if (r >= r_max) {
      energy = derivative = T(0);
      return;
    }
    const T c[4] = {T(0.18175), T(0.50986), T(0.28022), T(0.02817)};
    const T d[4] = {T(3.19980), T(0.94229), T(0.40290), T(0.20162)};
    const T x = r * inv_screening;
    T phi = 0, dphi = 0;  // phi(x) and d phi / dr
    for (int k = 0; k < 4; ++k) {
      const T term = c[k] * exp(-d[k] * x);
      phi += term;
      dphi -= d[k] * inv_screening * term;
    }
    const T coulomb = charge_product / r;
    const PolynomialEnvelope<T> envelope{r_max, kRepulsionEnvelopeP};
    T u, du, d2u;
    envelope.evaluate(r, u, du, d2u);
    energy = coulomb * phi * u;
    derivative = coulomb * (dphi * u + phi * du - phi * u / r);
  }
};

}  // namespace facet
