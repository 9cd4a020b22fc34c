// exp(x) that vectorises: the C library's exp is a scalar call that GCC vectorises only under -ffast-math,
// and the silu activations of the grid MLP take one exp per hidden unit and grid point. In host code this
// is a branch-free polynomial (SIMD loops run it 4 or 8 lanes wide); in GPU device code it is the
// device's own exp.
//
// x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2 (Cody-Waite: ln2 in two parts so that n ln2 is
// exact), e^r by its Taylor polynomial (degree 13 for double: truncation < 2e-16 relative; degree 7 for
// float: < 6e-9), times 2^n built in the exponent bits. n comes from adding 1.5 * 2^52 (2^23 for float),
// which leaves it in the low mantissa bits without a float-to-integer conversion (none vectorises on AVX2).
// |x| is clamped to where 2^n is a normal number (708 in double, 87 in float): exp(x) beyond saturates at
// the bound's value (about 3e-308 / 3e307 in double), which no caller here can tell from 0 or infinity;
// NaN and infinite arguments give NaN.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/host_device.hpp"

namespace facet {

namespace detail {

// Host code only (fast_exp's device branch does not use it). Always inlined: a call would keep the caller's
// SIMD loop from vectorising.
#if defined(__GNUC__) || defined(__clang__)
#define FACET_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define FACET_ALWAYS_INLINE inline
#endif

template <class To, class From>
FACET_ALWAYS_INLINE To bit_cast_value(From from) {
  static_assert(sizeof(To) == sizeof(From), "same size");
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_bit_cast(To, from);
#else
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
#endif
}

template <class T>
struct ExpConstants;

template <>
struct ExpConstants<double> {
  using Bits = std::uint64_t;
  static constexpr double bound = 708.0;  // |x| <= bound: 2^n stays normal, |n| <= 1021
  static constexpr double log2e = 1.4426950408889634074;
  static constexpr double ln2_hi = 6.93147180369123816490e-01;  // 32 significant bits: n ln2_hi is exact
  static constexpr double ln2_lo = 1.90821492927058770002e-10;
  static constexpr double shifter = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr int mantissa_bits = 52, bias = 1023, degree = 13;
};

template <>
struct ExpConstants<float> {
  using Bits = std::uint32_t;
  static constexpr float bound = 87.0f;  // |n| <= 126
  static constexpr float log2e = 1.44269504088896341f;
  static constexpr float ln2_hi = 0.693359375f;  // 9 significant bits
  static constexpr float ln2_lo = -2.12194440e-4f;
  static constexpr float shifter = 12582912.0f;  // 1.5 * 2^23
  static constexpr int mantissa_bits = 23, bias = 127, degree = 7;
};

// The Taylor polynomial sum_{j <= degree} r^j / j! by Horner's rule with the coefficients 1/j! folded at
// compile time (one multiply-add a degree), unrolled at compile time (a loop here would keep the caller's
// SIMD loop from vectorising).
constexpr double inverse_factorial(int j) { return j <= 1 ? 1.0 : inverse_factorial(j - 1) / j; }

template <class T, int j, int degree>
FACET_ALWAYS_INLINE T taylor_exp_from(T r) {
  constexpr T coefficient = T(inverse_factorial(j));
  if constexpr (j == degree)
    return coefficient;
  else
    return taylor_exp_from<T, j + 1, degree>(r) * r + coefficient;
}

}  // namespace detail

template <class T>
FACET_INLINE T fast_exp(T x) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__) || defined(__SYCL_DEVICE_ONLY__)
  return exp(x);
#else
  using K = detail::ExpConstants<T>;
  using Bits = typename K::Bits;
  // |x| is clamped in the integer domain (the bits of non-negative floats order as unsigned integers):
  // GCC does not vectorise a floating-point select whose result feeds more arithmetic (under its default
  // -ftrapping-math), but it does an integer one. NaN and infinite x come back as NaN through x - x.
  const T nan_if_not_finite = x - x;
  const Bits bits = detail::bit_cast_value<Bits>(x);
  const Bits sign = bits & (Bits(1) << (8 * sizeof(Bits) - 1));
  const Bits magnitude = bits ^ sign;
  const Bits bound = detail::bit_cast_value<Bits>(K::bound);
  x = detail::bit_cast_value<T>((magnitude > bound ? bound : magnitude) | sign);
  const T shifted = x * K::log2e + K::shifter;
  const T n = shifted - K::shifter;  // round(x / ln2)
  const T r = (x - n * K::ln2_hi) - n * K::ln2_lo;
  const T p = detail::taylor_exp_from<T, 0, K::degree>(r);
  const Bits n_int = detail::bit_cast_value<Bits>(shifted) - detail::bit_cast_value<Bits>(K::shifter);
  const T scale = detail::bit_cast_value<T>(static_cast<Bits>((n_int + K::bias) << K::mantissa_bits));
  return p * scale + nan_if_not_finite;
#endif
}

}  // namespace facet
