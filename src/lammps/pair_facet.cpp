#include "pair_facet.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "update.h"
#include "utils.h"

#include "lammps_compat.h"

using namespace LAMMPS_NS;

// Hands the engine's per-layer exchanges to LAMMPS's forward/reverse communication of this pair style.
class PairFacet::Exchange : public facet::GhostExchange<HostDevice> {
 public:
  explicit Exchange(PairFacet* pair) : pair_(pair) {}
  void forward(Features data) override {
    pair_->comm_data_ = data;
    facet::lammps_compat::forward_comm(pair_->comm, pair_);
  }
  void reverse(Features data) override {
    pair_->comm_data_ = data;
    facet::lammps_compat::reverse_comm(pair_->comm, pair_);
  }

 private:
  PairFacet* pair_;
};

namespace {

// The neighbour list of LAMMPS in the engine's terms: neighbours of local atom i, special bits masked.
struct LammpsNeighbors {
  const int* index;  // local atom -> position in ilist, -1 if absent
  const int* numneigh;
  int** firstneigh;
  const int* ilist;
  // Host data, but marked like every accessor the engine's kernels call: with nvcc (a CUDA Kokkos build
  // compiles this file too) an unmarked host function called from the kernels' lambdas draws warnings.
  KOKKOS_INLINE_FUNCTION int count(int i) const { return index[i] < 0 ? 0 : numneigh[ilist[index[i]]]; }
  KOKKOS_INLINE_FUNCTION int operator()(int i, int jj) const { return firstneigh[ilist[index[i]]][jj] & NEIGHMASK; }
};

}  // namespace

PairFacet::PairFacet(LAMMPS* lmp) : Pair(lmp) {
  single_enable = 0;
  restartinfo = 0;
  one_coeff = 1;
  manybody_flag = 1;
  no_virial_fdotr_compute = 1;  // the engine forms the virial from its edges
  // The engine runs in Kokkos's host execution space; without `-k on` nobody else initialises Kokkos.
  // It is never finalised here: the plugin may be unloaded (LAMMPS `clear`) before any exit hook would run.
  if (!Kokkos::is_initialized()) {
    Kokkos::initialize();
    kokkos_initialized_here_ = true;
  }
  exchange_ = std::make_unique<Exchange>(this);
}

PairFacet::~PairFacet() {
  if (allocated) {
    memory->destroy(setflag);
    memory->destroy(cutsq);
  }
}

// pair_style facet [precision double|mixed]
void PairFacet::settings(int narg, char** arg) {
  precision_ = facet::Precision::double_precision;
  int iarg = 0;
  while (iarg < narg) {
    if (strcmp(arg[iarg], "precision") == 0) {
      if (iarg + 1 >= narg) error->all(FLERR, "Illegal pair_style facet command: precision needs double or mixed");
      try {
        precision_ = facet::parse_precision(arg[iarg + 1]);
      } catch (const std::exception& e) {
        error->all(FLERR, std::string("Illegal pair_style facet command: ") + e.what());
      }
      iarg += 2;
    } else {
      error->all(FLERR, std::string("Illegal pair_style facet command: unknown keyword '") + arg[iarg] +
                            "' (the only keyword is: precision double|mixed)");
    }
  }
  if (potential_) create_engine();  // pair_style given again after pair_coeff: the coefficients stay
}

void PairFacet::read_potential_and_map_types(int narg, char** arg) {
  const int ntypes = atom->ntypes;
  if (narg != 3 + ntypes)
    error->all(FLERR, "Incorrect args for pair_coeff: pair_coeff * * <file.facet> followed by one element or NULL "
                      "for each of the " + std::to_string(ntypes) + " atom types (got " + std::to_string(narg - 3) + ")");
  if (strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0)
    error->all(FLERR, "Incorrect args for pair_coeff: pair_style facet needs 'pair_coeff * * <file.facet> ...'");
  potential_file_ = utils::get_potential_file_path(arg[2]);
  if (potential_file_.empty()) error->all(FLERR, std::string("Cannot open facet potential file ") + arg[2]);
  try {
    potential_ = std::make_unique<facet::Potential>(facet::read_potential(potential_file_));
  } catch (const std::exception& e) {
    error->all(FLERR, std::string("pair_style facet: ") + e.what());
  }
  const auto& elements = potential_->hyper.elements;
  type_element_.assign(ntypes + 1, "NULL");
  type_species_.assign(ntypes + 1, -1);
  for (int t = 1; t <= ntypes; ++t) {
    const std::string name = arg[2 + t];
    type_element_[t] = name;
    if (name == "NULL") continue;
    for (size_t k = 0; k < elements.size(); ++k)
      if (elements[k] == name) type_species_[t] = static_cast<int>(k);
    if (type_species_[t] < 0) {
      std::string known;
      for (const auto& e : elements) known += " " + e;
      error->all(FLERR, "pair_coeff: element " + name + " (atom type " + std::to_string(t) + ") is not in " +
                            potential_file_ + " (its elements:" + known + ")");
    }
  }
  if (!allocated) {
    allocated = 1;
    memory->create(setflag, ntypes + 1, ntypes + 1, "pair:setflag");
    memory->create(cutsq, ntypes + 1, ntypes + 1, "pair:cutsq");
  }
  for (int i = 1; i <= ntypes; ++i)
    for (int j = 1; j <= ntypes; ++j) setflag[i][j] = type_species_[i] >= 0 && type_species_[j] >= 0;
  cutoff_ = potential_->hyper.r_cut;

  log_potential_summary();
}

void PairFacet::log_potential_summary() {
  const auto& hp = potential_->hyper;
  size_t parameters = 0;
  for (const auto& [name, array] : potential_->arrays) parameters += array.values.size();
  std::string meta;
  for (const auto& [key, value] : potential_->meta)
    if (key == "trained_on" || key == "date" || key == "description") meta += "  " + key + ": " + value + "\n";
  if (comm->me == 0)
    utils::logmesg(lmp, "facet potential " + potential_file_ + ": elements " + [&] {
      std::string s;
      for (const auto& e : hp.elements) s += e + " ";
      return s;
    }() + "| r_cut " + std::to_string(hp.r_cut) + " A | " + std::to_string(hp.layers) + " layers, l_max " +
                           std::to_string(hp.l_max) + ", " + std::to_string(hp.channels) + " channels, " +
                           (hp.tensor_product == facet::TensorProduct::gaunt ? "Gaunt" : "CG") + " products, grid " +
                           std::to_string(hp.grid_theta) + "x" + std::to_string(hp.grid_phi) +
                           (hp.repulsion == facet::Repulsion::zbl ? ", ZBL repulsion" : "") + " | " +
                           std::to_string(parameters) + " parameters\n" + meta);
}

void PairFacet::coeff(int narg, char** arg) {
  read_potential_and_map_types(narg, arg);
  create_engine();
}

void PairFacet::create_engine() {
  engine_ = facet::make_engine<HostDevice>(*potential_, precision_);
  comm_forward = comm_reverse = std::visit([](const auto& engine) { return engine->exchange_size(); }, engine_);
  if (comm->me == 0) utils::logmesg(lmp, std::string("pair_style facet: ") + facet::precision_name(precision_) + " precision\n");
}

void PairFacet::check_units_and_newton() {
  if (strcmp(update->unit_style, "metal") != 0)
    error->all(FLERR, std::string("pair_style facet requires 'units metal' (this input uses 'units ") +
                          update->unit_style + "')");
  if (force->newton_pair == 0)
    // LAMMPS's KOKKOS package turns newton off on GPUs unless told otherwise (`package kokkos`).
    error->all(FLERR, lmp->kokkos ? "pair_style facet requires newton pair on: with the KOKKOS package on a GPU add "
                                    "'-pk kokkos newton on neigh half' to the command line (or 'package kokkos "
                                    "newton on neigh half' to the input)"
                                  : "pair_style facet requires newton pair on");
}

void PairFacet::init_style() {
  check_units_and_newton();
  if (!potential_) error->all(FLERR, "pair_style facet: pair_coeff has not been given");
  facet::lammps_compat::request_full_neighbor_list(neighbor, this, instance_me);
  share_comm_sizes_with_hybrid();
  if (comm->me == 0 && kokkos_initialized_here_)
    utils::logmesg(lmp, "pair_style facet: Kokkos host execution space " +
                            std::string(Kokkos::DefaultHostExecutionSpace::name()) + " with " +
                            std::to_string(Kokkos::DefaultHostExecutionSpace::concurrency()) + " thread(s)\n");
}

// Comm sizes its buffers from the top-level pair style's comm_forward/comm_reverse. pair_style hybrid
// copies its sub-styles' sizes when `pair_style hybrid ...` is read, before our pair_coeff has read the
// potential and set them: raise the hybrid's now (Comm::init runs after the pair styles' init).
void PairFacet::share_comm_sizes_with_hybrid() {
  if (force->pair == this) return;
  force->pair->comm_forward = std::max(force->pair->comm_forward, comm_forward);
  force->pair->comm_reverse = std::max(force->pair->comm_reverse, comm_reverse);
}

double PairFacet::init_one(int i, int j) {
  if (setflag[i][j] == 0) error->all(FLERR, "All pair coeffs are not set");
  return cutoff_;
}

void PairFacet::compute(int eflag, int vflag) {
  ev_init(eflag, vflag);
  const int nlocal = atom->nlocal;
  const int nall = nlocal + atom->nghost;

  if (species_.extent(0) < static_cast<size_t>(nall))
    species_ = decltype(species_)(Kokkos::view_alloc(Kokkos::WithoutInitializing, "facet:species"), nall + nall / 16 + 16);
  const int* type = atom->type;
  for (int i = 0; i < nall; ++i) species_(i) = type_species_[type[i]];

  list_index_.assign(nlocal, -1);
  for (int ii = 0; ii < list->inum; ++ii) list_index_[list->ilist[ii]] = ii;
  const LammpsNeighbors neighbors{list_index_.data(), list->numneigh, list->firstneigh, list->ilist};

  using Engine = facet::Engine<HostDevice>;  // the view types do not depend on the precision
  typename Engine::Positions x(atom->x[0], nall);
  typename Engine::Forces f(atom->f[0], nall);
  typename Engine::AtomEnergy atom_energy = eflag_atom ? typename Engine::AtomEnergy(eatom, nlocal) : typename Engine::AtomEnergy();
  typename Engine::AtomVirial atom_virial = vflag_atom ? typename Engine::AtomVirial(vatom[0], nall) : typename Engine::AtomVirial();
  facet::EngineRequest request;
  request.forces = true;
  request.virial = vflag_global != 0;
  request.atom_energy = eflag_atom != 0;
  request.atom_virial = vflag_atom != 0;
  const facet::EngineResult result = std::visit(
      [&](auto& engine) {
        stop_if_coincident(engine->first_coincident_pair(nlocal, nall, x, species_, neighbors));
        const auto r = engine->compute(nlocal, nall, x, species_, neighbors, exchange_.get(), request, f, atom_energy,
                                       atom_virial);
        stop_if_not_finite(r.energy, engine->first_nonfinite_force(nall, f));
        return r;
      },
      engine_);
  if (eflag_global) eng_vdwl += result.energy;
  if (vflag_global)
    for (int k = 0; k < 6; ++k) virial[k] += result.virial[k];
}

// Two atoms at the same place have no edge direction: stop with their IDs instead of producing NaN.
// The ranks agree (MPI_MIN of a key) so that error->all ends the run cleanly with the message shown;
// error->one would abort through MPI and can lose buffered output.
void PairFacet::stop_if_coincident(Kokkos::pair<int, int> local_pair) {
  const long long none = std::numeric_limits<long long>::max();
  const long long stride = 1LL << 31;  // atom IDs are 32-bit unless LAMMPS is built -DLAMMPS_BIGBIG
  long long key = none;  // tag_i * stride + tag_j of the pair
  if (local_pair.first >= 0) {
    const long long a = atom->tag[local_pair.first], b = atom->tag[local_pair.second];
    key = std::min(a, b) * stride + std::max(a, b);
  }
  long long first = none;
  MPI_Allreduce(&key, &first, 1, MPI_LONG_LONG, MPI_MIN, world);
  if (first != none)
    error->all(FLERR, "pair_style facet: atoms " + std::to_string(first / stride) + " and " +
                          std::to_string(first % stride) + " are at the same position at step " +
                          std::to_string(update->ntimestep));
}

// A non-finite energy or force is never passed on: name the step and the first atom concerned.
void PairFacet::stop_if_not_finite(double energy, int first_bad_atom) {
  const long long none = std::numeric_limits<long long>::max();
  long long bad = std::isfinite(energy) ? none : -1;
  if (bad == none && first_bad_atom >= 0) bad = atom->tag[first_bad_atom];
  long long first = none;
  MPI_Allreduce(&bad, &first, 1, MPI_LONG_LONG, MPI_MIN, world);
  if (first == -1) error->all(FLERR, "pair_style facet: non-finite energy at step " + std::to_string(update->ntimestep));
  if (first != none)
    error->all(FLERR, "pair_style facet: non-finite force on atom " + std::to_string(first) + " at step " +
                          std::to_string(update->ntimestep) + " (check for atoms far too close together)");
}

int PairFacet::pack_forward_comm(int n, int* list, double* buf, int /*pbc_flag*/, int* /*pbc*/) {
  // Features are invariant under the translations that map ghosts to owners: copied as they are.
  const int per_atom = static_cast<int>(comm_data_.extent(1) * comm_data_.extent(2));
  for (int k = 0; k < n; ++k) std::memcpy(buf + k * per_atom, &comm_data_(list[k], 0, 0), per_atom * sizeof(double));
  return n * per_atom;
}

void PairFacet::unpack_forward_comm(int n, int first, double* buf) {
  const int per_atom = static_cast<int>(comm_data_.extent(1) * comm_data_.extent(2));
  for (int k = 0; k < n; ++k) std::memcpy(&comm_data_(first + k, 0, 0), buf + k * per_atom, per_atom * sizeof(double));
}

int PairFacet::pack_reverse_comm(int n, int first, double* buf) {
  const int per_atom = static_cast<int>(comm_data_.extent(1) * comm_data_.extent(2));
  for (int k = 0; k < n; ++k) std::memcpy(buf + k * per_atom, &comm_data_(first + k, 0, 0), per_atom * sizeof(double));
  return n * per_atom;
}

void PairFacet::unpack_reverse_comm(int n, int* list, double* buf) {
  const int per_atom = static_cast<int>(comm_data_.extent(1) * comm_data_.extent(2));
  for (int k = 0; k < n; ++k) {
    double* target = &comm_data_(list[k], 0, 0);
    const double* source = buf + k * per_atom;
    for (int m = 0; m < per_atom; ++m) target[m] += source[m];
  }
}

double PairFacet::memory_usage() {
  double bytes = Pair::memory_usage();
  bytes += std::visit([](const auto& engine) { return engine ? static_cast<double>(engine->workspace_bytes()) : 0.0; },
                      engine_);
  bytes += species_.span() * sizeof(int) + list_index_.capacity() * sizeof(int);
  return bytes;
}
