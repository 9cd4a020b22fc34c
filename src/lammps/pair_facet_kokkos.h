// pair_style facet/kk: the facet potential on the data of LAMMPS's KOKKOS package. Positions, forces,
// types and neighbour lists stay in the Kokkos memory space (the GPU with CUDA) and the engine runs in
// its execution space; facet/kk/device and facet/kk/host pick the space explicitly, as for LAMMPS's own
// /kk styles. Input syntax, checks and messages are those of pair_style facet (the base class).
#pragma once

#include <memory>

#include "kokkos_base.h"
#include "kokkos_type.h"
#include "pair_facet.h"

namespace LAMMPS_NS {

#ifdef FACET_LAMMPS_KOKKOS_DOUBLE_BUFFER
using FacetCommBuffer = DAT::tdual_double_1d;  // LAMMPS 10 Sep 2025 and later
#else
using FacetCommBuffer = DAT::tdual_xfloat_1d;
#endif
#ifdef FACET_LAMMPS_KOKKOS_TRANSFORM_VIEW
// LAMMPS 10 Sep 2025 and later (KOKKOS single/mixed precision): per-atom accumulators are TransformViews.
using FacetAtomEnergyDual = DAT::ttransform_kkacc_1d;
using FacetAtomVirialDual = DAT::ttransform_kkacc_1d_6;
#else
using FacetAtomEnergyDual = DAT::tdual_efloat_1d;
using FacetAtomVirialDual = DAT::tdual_virial_array;
#endif

template <class DeviceType>
class PairFacetKokkos : public PairFacet, public KokkosBase {
 public:
  // The memory space of the style's LAMMPS arrays (t_x_array is gone from LAMMPS 10 Sep 2025; t_int_1d is in all).
  using MemorySpace = typename ArrayTypes<DeviceType>::t_int_1d::memory_space;
  using Device = Kokkos::Device<DeviceType, MemorySpace>;
  using Engine = facet::Engine<Device>;  // for its view types (the same at every precision)
  using DeviceFeatures = typename facet::GhostExchange<Device>::Features;

  explicit PairFacetKokkos(LAMMPS* lmp);
  ~PairFacetKokkos() override;

  void compute(int eflag, int vflag) override;
  void coeff(int narg, char** arg) override;
  void create_engine() override;
  void init_style() override;
  double memory_usage() override;

  // Forward communication of node features on the device (CommKokkos calls these when the style runs on
  // the device). Reverse communication of adjoints goes through the host hooks of PairFacet: LAMMPS
  // 29Sep2021 has no device hooks for it.
#ifdef FACET_LAMMPS_KOKKOS_COMM_1D
  int pack_forward_comm_kokkos(int n, DAT::tdual_int_1d list, FacetCommBuffer& buf, int pbc_flag,
                               int* pbc) override;
#else
  int pack_forward_comm_kokkos(int n, DAT::tdual_int_2d list, int iswap, FacetCommBuffer& buf, int pbc_flag,
                               int* pbc) override;
#endif
  void unpack_forward_comm_kokkos(int n, int first, FacetCommBuffer& buf) override;

  // Called by the engine between layers (public for the exchange adapter).
  void exchange_forward(DeviceFeatures data);
  void exchange_reverse(DeviceFeatures data);

 private:
  class Exchange;
  // Makes comm_data_ (the host view PairFacet's pack/unpack use) show `data`: the same memory when the
  // host can read it, else a host copy.
  void features_to_host(DeviceFeatures data);
  void features_from_host(DeviceFeatures data);

  facet::AnyEngine<Device> engine_kk_;
  std::unique_ptr<Exchange> exchange_kk_;
  DeviceFeatures d_comm_data_;
  Kokkos::View<int*, Device> d_type_species_;  // [type] species index or -1
  Kokkos::View<int*, Device> d_species_;       // [atom]
  Kokkos::View<int*, Device> d_in_list_;       // [local atom] 1 if it has a neighbour list
  FacetAtomEnergyDual k_eatom;
  FacetAtomVirialDual k_vatom;
};

}  // namespace LAMMPS_NS
