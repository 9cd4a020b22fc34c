// The few LAMMPS API calls that differ between the 29 Sep 2021 release and current LAMMPS (docs in
// shared design notes §2), in one place. FACET_LAMMPS_NEIGHCONST and FACET_LAMMPS_COMM_PAIR are set by
// cmake/FacetLAMMPS.cmake after probing the LAMMPS headers; docs/engine.md ("Compatibility") lists them all.
#pragma once

#include <type_traits>
#include <utility>

#include "comm.h"
#include "neigh_request.h"
#include "neighbor.h"
#include "pair.h"

namespace facet::lammps_compat {

// A full neighbour list of the pair's local atoms (neighbours include ghosts).
// `instance_me` is the pair's own (protected) Pair::instance_me.
inline void request_full_neighbor_list(LAMMPS_NS::Neighbor* neighbor, LAMMPS_NS::Pair* pair, int instance_me) {
#ifdef FACET_LAMMPS_NEIGHCONST
  (void)instance_me;
  neighbor->add_request(pair, LAMMPS_NS::NeighConst::REQ_FULL);
#else
  const int request = neighbor->request(pair, instance_me);
  neighbor->requests[request]->half = 0;
  neighbor->requests[request]->full = 1;
#endif
}

#ifdef LMP_KOKKOS
// The same for a Kokkos pair style: the list lives in the host or the device memory space.
inline void request_full_kokkos_neighbor_list(LAMMPS_NS::Neighbor* neighbor, LAMMPS_NS::Pair* pair, int instance_me,
                                              bool on_host, bool on_device) {
#ifdef FACET_LAMMPS_NEIGHCONST
  (void)instance_me;
  auto* request = neighbor->add_request(pair, LAMMPS_NS::NeighConst::REQ_FULL);
  request->set_kokkos_host(on_host);
  request->set_kokkos_device(on_device);
#else
  const int index = neighbor->request(pair, instance_me);
  auto* request = neighbor->requests[index];
  request->half = 0;
  request->full = 1;
  request->kokkos_host = on_host;
  request->kokkos_device = on_device;
#endif
}

// Whether the user asked for pair forward communication on the host ("comm/pair/forward host"):
// KokkosLMP::forward_pair_comm_classic, renamed forward_pair_comm_legacy in LAMMPS 10 Sep 2025.
template <class KokkosLMP, class = void>
struct HasForwardPairCommLegacy : std::false_type {};
template <class KokkosLMP>
struct HasForwardPairCommLegacy<KokkosLMP, std::void_t<decltype(std::declval<KokkosLMP&>().forward_pair_comm_legacy)>>
    : std::true_type {};

template <class KokkosLMP>
bool forward_pair_comm_on_host(const KokkosLMP& kokkos) {
  if constexpr (HasForwardPairCommLegacy<KokkosLMP>::value)
    return kokkos.forward_pair_comm_legacy != 0;
  else
    return kokkos.forward_pair_comm_classic != 0;
}
#endif

inline void forward_comm(LAMMPS_NS::Comm* comm, LAMMPS_NS::Pair* pair) {
#ifdef FACET_LAMMPS_COMM_PAIR
  comm->forward_comm_pair(pair);
#else
  comm->forward_comm(pair);
#endif
}

inline void reverse_comm(LAMMPS_NS::Comm* comm, LAMMPS_NS::Pair* pair) {
#ifdef FACET_LAMMPS_COMM_PAIR
  comm->reverse_comm_pair(pair);
#else
  comm->reverse_comm(pair);
#endif
}

}  // namespace facet::lammps_compat
