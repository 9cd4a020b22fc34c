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
