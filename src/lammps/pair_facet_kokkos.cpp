#include "pair_facet_kokkos.h"

#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "atom_kokkos.h"
#include "atom_masks.h"
#include "comm.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "kokkos.h"
#include "memory_kokkos.h"
#include "neigh_list_kokkos.h"
#include "neigh_request.h"
#include "neighbor.h"
#include "utils.h"

#include "lammps_compat.h"

using namespace LAMMPS_NS;

template <class DeviceType>
class PairFacetKokkos<DeviceType>::Exchange : public facet::GhostExchange<Device> {
 public:
  explicit Exchange(PairFacetKokkos* pair) : pair_(pair) {}
  void forward(DeviceFeatures data) override { pair_->exchange_forward(data); }
  void reverse(DeviceFeatures data) override { pair_->exchange_reverse(data); }

 private:
  PairFacetKokkos* pair_;
};

namespace {

// LAMMPS's Kokkos full neighbour list in the engine's terms (indexed by atom, special bits masked).
template <class DeviceType, class Device>
struct KokkosNeighbors {
  Kokkos::View<const int*, Device> in_list;
  typename ArrayTypes<DeviceType>::t_neighbors_2d_const neighbors;
  typename ArrayTypes<DeviceType>::t_int_1d_const numneigh;
  KOKKOS_INLINE_FUNCTION int count(int i) const { return in_list(i) ? numneigh(i) : 0; }
  KOKKOS_INLINE_FUNCTION int operator()(int i, int jj) const { return neighbors(i, jj) & NEIGHMASK; }
};

}  // namespace

template <class DeviceType>
PairFacetKokkos<DeviceType>::PairFacetKokkos(LAMMPS* lmp) : PairFacet(lmp) {
  kokkosable = 1;
  atomKK = static_cast<AtomKokkos*>(atom);
  execution_space = ExecutionSpaceFromDevice<DeviceType>::space;
  datamask_read = X_MASK | F_MASK | TAG_MASK | TYPE_MASK | ENERGY_MASK | VIRIAL_MASK;
  datamask_modify = F_MASK | ENERGY_MASK | VIRIAL_MASK;
  exchange_kk_ = std::make_unique<Exchange>(this);
}

template <class DeviceType>
PairFacetKokkos<DeviceType>::~PairFacetKokkos() {
  if (copymode) return;
  memoryKK->destroy_kokkos(k_eatom, eatom);
  memoryKK->destroy_kokkos(k_vatom, vatom);
  eatom = nullptr;
  vatom = nullptr;
}

template <class DeviceType>
void PairFacetKokkos<DeviceType>::coeff(int narg, char** arg) {
  read_potential_and_map_types(narg, arg);
  create_engine();
  d_type_species_ = Kokkos::View<int*, Device>("facet:type_species", type_species_.size());
  auto host = Kokkos::create_mirror_view(d_type_species_);
  for (size_t t = 0; t < type_species_.size(); ++t) host(t) = type_species_[t];
  Kokkos::deep_copy(d_type_species_, host);
}

template <class DeviceType>
void PairFacetKokkos<DeviceType>::create_engine() {
  engine_kk_ = facet::make_engine<Device>(*potential_, precision_);
  comm_forward = comm_reverse = std::visit([](const auto& engine) { return engine->exchange_size(); }, engine_kk_);
  if (comm->me == 0)
    utils::logmesg(lmp, std::string("pair_style facet/kk: ") + facet::precision_name(precision_) + " precision\n");
}

template <class DeviceType>
void PairFacetKokkos<DeviceType>::init_style() {
  check_units_and_newton();
  if (!potential_) error->all(FLERR, "pair_style facet/kk: pair_coeff has not been given");
  constexpr bool on_host = std::is_same<DeviceType, LMPHostType>::value &&
                           !std::is_same<DeviceType, LMPDeviceType>::value;
  constexpr bool on_device = std::is_same<DeviceType, LMPDeviceType>::value;
  facet::lammps_compat::request_full_kokkos_neighbor_list(neighbor, this, instance_me, on_host, on_device);
  share_comm_sizes_with_hybrid();
  // Measured on an H100 (docs/engine.md, "LAMMPS on a GPU"): on rattled triclinic cells facet/kk on the GPU gave
  // energies and forces (up to 9 eV/Å apart) other than the host style's; the orthogonal cells tried agreed.
  // Refused rather than giving wrong numbers; FACET_GPU_TRICLINIC=allow lets the GPU scripts study the defect.
  using ExecutionSpace = typename DeviceType::execution_space;
  constexpr bool on_gpu = !Kokkos::SpaceAccessibility<ExecutionSpace, Kokkos::HostSpace>::accessible;
  const char* allow = std::getenv("FACET_GPU_TRICLINIC");
  if (on_gpu && domain->triclinic && !(allow && std::strcmp(allow, "allow") == 0))
    error->all(FLERR, "pair_style facet/kk on a GPU does not yet agree with the CPU for triclinic boxes "
                      "(docs/engine.md, 'LAMMPS on a GPU'): run this box on the CPU (pair_style facet, or "
                      "-k on t N -sf kk)");
}

template <class DeviceType>
void PairFacetKokkos<DeviceType>::compute(int eflag, int vflag) {
  ev_init(eflag, vflag, 0);  // 0: the per-atom arrays are Kokkos dual views, allocated here
  if (eflag_atom) {
    memoryKK->destroy_kokkos(k_eatom, eatom);
    memoryKK->create_kokkos(k_eatom, eatom, maxeatom, "pair:eatom");
  }
  if (vflag_atom) {
    memoryKK->destroy_kokkos(k_vatom, vatom);
    memoryKK->create_kokkos(k_vatom, vatom, maxvatom, "pair:vatom");
  }

  atomKK->sync(execution_space, datamask_read);
  atomKK->modified(execution_space, (eflag_either || vflag_either) ? datamask_modify : F_MASK);
  const int nlocal = atom->nlocal;
  const int nall = nlocal + atom->nghost;

  auto x = atomKK->k_x.template view<DeviceType>();
  auto f = atomKK->k_f.template view<DeviceType>();
  auto type = atomKK->k_type.template view<DeviceType>();
  static_assert(std::is_same<typename decltype(x)::non_const_value_type, double>::value &&
                    std::is_same<typename decltype(f)::non_const_value_type, double>::value,
                "pair_style facet/kk needs double-precision positions and forces");
  static_assert(std::is_same<typename decltype(x)::array_layout, Kokkos::LayoutRight>::value &&
                    std::is_same<typename decltype(f)::array_layout, Kokkos::LayoutRight>::value,
                "pair_style facet/kk needs LAMMPS's default (LayoutRight) position and force arrays");

  if (d_species_.extent(0) < static_cast<size_t>(nall))
    d_species_ = Kokkos::View<int*, Device>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "facet:species"),
                                            nall + nall / 16 + 16);
  if (d_in_list_.extent(0) < static_cast<size_t>(nlocal))
    d_in_list_ = Kokkos::View<int*, Device>("facet:in_list", nlocal + nlocal / 16 + 16);
  auto species = d_species_;
  auto type_species = d_type_species_;
  auto in_list = d_in_list_;
  Kokkos::parallel_for(
      "facet::species", Kokkos::RangePolicy<DeviceType>(0, nall),
      KOKKOS_LAMBDA(int i) { species(i) = type_species(type(i)); });
  Kokkos::deep_copy(Kokkos::subview(in_list, std::make_pair(0, nlocal)), 0);
  auto* k_list = static_cast<NeighListKokkos<DeviceType>*>(list);
  auto ilist = k_list->d_ilist;
  Kokkos::parallel_for(
      "facet::in_list", Kokkos::RangePolicy<DeviceType>(0, list->inum),
      KOKKOS_LAMBDA(int ii) { in_list(ilist(ii)) = 1; });
  const KokkosNeighbors<DeviceType, Device> neighbors{in_list, k_list->d_neighbors, k_list->d_numneigh};

  typename Engine::Positions positions(x.data(), nall);
  typename Engine::Forces forces(f.data(), nall);
  typename Engine::AtomEnergy atom_energy;
  typename Engine::AtomVirial atom_virial;
  if (eflag_atom) atom_energy = typename Engine::AtomEnergy(k_eatom.template view<DeviceType>().data(), nlocal);
  if (vflag_atom) atom_virial = typename Engine::AtomVirial(k_vatom.template view<DeviceType>().data(), nall);
  facet::EngineRequest request;
  request.forces = true;
  request.virial = vflag_global != 0;
  request.atom_energy = eflag_atom != 0;
  request.atom_virial = vflag_atom != 0;

  const Kokkos::View<const int*, Device> species_const = species;
  const facet::EngineResult result = std::visit(
      [&](auto& engine) {
        const auto coincident = engine->first_coincident_pair(nlocal, nall, positions, species_const, neighbors);
        if (coincident.first >= 0) atomKK->sync(Host, TAG_MASK);  // for the message
        stop_if_coincident(coincident);
        const auto r = engine->compute(nlocal, nall, positions, species_const, neighbors, exchange_kk_.get(), request,
                                       forces, atom_energy, atom_virial);
        const int bad = engine->first_nonfinite_force(nall, forces);
        if (bad >= 0) atomKK->sync(Host, TAG_MASK);
        stop_if_not_finite(r.energy, bad);
        return r;
      },
      engine_kk_);

  if (eflag_global) eng_vdwl += result.energy;
  if (vflag_global)
    for (int k = 0; k < 6; ++k) virial[k] += result.virial[k];
  if (eflag_atom) {
    k_eatom.template modify<DeviceType>();
    k_eatom.sync_host();  // to `eatom` (a TransformView's legacy host copy in LAMMPS 10 Sep 2025 and later)
  }
  if (vflag_atom) {
    k_vatom.template modify<DeviceType>();
    k_vatom.sync_host();
  }
}

template <class DeviceType>
void PairFacetKokkos<DeviceType>::features_to_host(DeviceFeatures data) {
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemorySpace>::accessible) {
    comm_data_ = Features(data.data(), data.extent(0), data.extent(1), data.extent(2));
  } else {
    if (comm_data_.extent(0) != data.extent(0) || comm_data_.extent(1) != data.extent(1) ||
        comm_data_.extent(2) != data.extent(2))
      comm_data_ = Features(Kokkos::view_alloc(Kokkos::WithoutInitializing, "facet:host_features"), data.extent(0),
                            data.extent(1), data.extent(2));
    Kokkos::deep_copy(comm_data_, data);
  }
}

template <class DeviceType>
void PairFacetKokkos<DeviceType>::features_from_host(DeviceFeatures data) {
  if constexpr (!Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemorySpace>::accessible)
    Kokkos::deep_copy(data, comm_data_);
  else
    (void)data;
}

template <class DeviceType>
void PairFacetKokkos<DeviceType>::exchange_forward(DeviceFeatures data) {
  // CommKokkos packs on the device for device styles unless the user asked for host pair communication.
  // Host styles are Host (29Sep2021) or HostKK (10Sep2025 and later): only Device styles pack on the device.
  if (execution_space != LAMMPS_NS::Device || facet::lammps_compat::forward_pair_comm_on_host(*lmp->kokkos)) {
    features_to_host(data);
    facet::lammps_compat::forward_comm(comm, this);
    features_from_host(data);
  } else {
    d_comm_data_ = data;
    facet::lammps_compat::forward_comm(comm, this);
  }
}

template <class DeviceType>
void PairFacetKokkos<DeviceType>::exchange_reverse(DeviceFeatures data) {
  features_to_host(data);
  facet::lammps_compat::reverse_comm(comm, this);
  features_from_host(data);
}

#ifdef FACET_LAMMPS_KOKKOS_COMM_1D
template <class DeviceType>
int PairFacetKokkos<DeviceType>::pack_forward_comm_kokkos(int n, DAT::tdual_int_1d k_list, FacetCommBuffer& buf,
                                                          int /*pbc_flag*/, int* /*pbc*/) {
  auto list = k_list.template view<DeviceType>();
  auto send = buf.template view<DeviceType>();
  const double* data = d_comm_data_.data();
  const int per_atom = static_cast<int>(d_comm_data_.extent(1) * d_comm_data_.extent(2));
  Kokkos::parallel_for(
      "facet::pack_forward", Kokkos::RangePolicy<DeviceType>(0, n * per_atom),
      KOKKOS_LAMBDA(int k) { send(k) = data[static_cast<size_t>(list(k / per_atom)) * per_atom + k % per_atom]; });
  return n * per_atom;
}
#else
template <class DeviceType>
int PairFacetKokkos<DeviceType>::pack_forward_comm_kokkos(int n, DAT::tdual_int_2d k_list, int iswap,
                                                          FacetCommBuffer& buf, int /*pbc_flag*/, int* /*pbc*/) {
  // Features are invariant under the translations that map ghosts to owners: copied as they are.
  auto list = k_list.template view<DeviceType>();
  auto send = buf.template view<DeviceType>();
  const double* data = d_comm_data_.data();
  const int per_atom = static_cast<int>(d_comm_data_.extent(1) * d_comm_data_.extent(2));
  Kokkos::parallel_for(
      "facet::pack_forward", Kokkos::RangePolicy<DeviceType>(0, n * per_atom), KOKKOS_LAMBDA(int k) {
        send(k) = data[static_cast<size_t>(list(iswap, k / per_atom)) * per_atom + k % per_atom];
      });
  return n * per_atom;
}
#endif

template <class DeviceType>
void PairFacetKokkos<DeviceType>::unpack_forward_comm_kokkos(int n, int first, FacetCommBuffer& buf) {
  auto recv = buf.template view<DeviceType>();
  double* data = d_comm_data_.data();
  const int per_atom = static_cast<int>(d_comm_data_.extent(1) * d_comm_data_.extent(2));
  const size_t offset = static_cast<size_t>(first) * per_atom;
  Kokkos::parallel_for(
      "facet::unpack_forward", Kokkos::RangePolicy<DeviceType>(0, n * per_atom),
      KOKKOS_LAMBDA(int k) { data[offset + k] = recv(k); });
}

template <class DeviceType>
double PairFacetKokkos<DeviceType>::memory_usage() {
  double bytes = Pair::memory_usage();
  bytes += std::visit(
      [](const auto& engine) { return engine ? static_cast<double>(engine->workspace_bytes()) : 0.0; }, engine_kk_);
  bytes += (d_species_.span() + d_in_list_.span() + d_type_species_.span()) * sizeof(int);
  if (!Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemorySpace>::accessible)
    bytes += comm_data_.span() * sizeof(double);
  return bytes;
}

namespace LAMMPS_NS {
template class PairFacetKokkos<LMPDeviceType>;
#ifdef LMP_KOKKOS_GPU
template class PairFacetKokkos<LMPHostType>;
#endif
}  // namespace LAMMPS_NS
