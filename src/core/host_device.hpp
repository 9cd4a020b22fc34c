// Host/device portability for the math core.
//
// Functions that a Kokkos kernel may call are marked FACET_INLINE. Without Kokkos they are plain inline
// host functions; with FACET_WITH_KOKKOS defined they become KOKKOS_INLINE_FUNCTION, i.e. callable from
// device code on every Kokkos backend. Such functions take raw pointers or fixed-size arrays, allocate
// nothing, throw nothing, do not recurse and use no static data.
#pragma once

#if defined(FACET_WITH_KOKKOS)
#include <Kokkos_Macros.hpp>
#define FACET_INLINE KOKKOS_INLINE_FUNCTION
#else
#define FACET_INLINE inline
#endif

// `#pragma omp simd` on host loops where OpenMP is on (the Kokkos OpenMP builds); elsewhere (Serial or CUDA
// builds without -fopenmp) nothing, rather than an unknown-pragma warning in every translation unit.
#define FACET_PRAGMA(text) _Pragma(#text)
#if defined(_OPENMP)
#define FACET_OMP_SIMD(clauses) FACET_PRAGMA(omp simd clauses)
#else
#define FACET_OMP_SIMD(clauses)
#endif
