// pair_style facet: the facet equivariant potential on the CPU, through the Kokkos engine's host
// execution space (OpenMP threads when Kokkos has them). Works in any LAMMPS with the PLUGIN package;
// pair_style facet/kk (pair_facet_kokkos.h) evaluates the same engine on LAMMPS's KOKKOS package data.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <Kokkos_Core.hpp>

#include "engine/engine.hpp"
#include "pair.h"

namespace LAMMPS_NS {

class PairFacet : public Pair {
 public:
  using HostDevice = Kokkos::Device<Kokkos::DefaultHostExecutionSpace, Kokkos::HostSpace>;
  using Features = facet::GhostExchange<HostDevice>::Features;

  explicit PairFacet(LAMMPS* lmp);
  ~PairFacet() override;

  void compute(int eflag, int vflag) override;
  void settings(int narg, char** arg) override;
  void coeff(int narg, char** arg) override;
  void init_style() override;
  double init_one(int i, int j) override;
  double memory_usage() override;

  int pack_forward_comm(int n, int* list, double* buf, int pbc_flag, int* pbc) override;
  void unpack_forward_comm(int n, int first, double* buf) override;
  int pack_reverse_comm(int n, int first, double* buf) override;
  void unpack_reverse_comm(int n, int* list, double* buf) override;

 protected:
  // Reads the potential and maps LAMMPS atom types to its elements (arg: file, then one element or NULL
  // per type). Shared with the Kokkos style.
  void read_potential_and_map_types(int narg, char** arg);
  void check_units_and_newton();
  // (Re)builds the engine for potential_ at precision_ (pair_coeff, or pair_style given again) and sets
  // the comm sizes.
  virtual void create_engine();
  void share_comm_sizes_with_hybrid();
  // Collective stops for what the engine's checks found on this rank (local indices, -1 for none);
  // they read atom->tag, which must be current on the host.
  void stop_if_coincident(Kokkos::pair<int, int> local_pair);
  void stop_if_not_finite(double energy, int first_bad_atom);
  // One line for the log: the potential's elements, size and provenance.
  void log_potential_summary();

  std::unique_ptr<facet::Potential> potential_;
  facet::Precision precision_ = facet::Precision::double_precision;  // pair_style keyword
  std::string potential_file_;
  std::vector<std::string> type_element_;  // [type] element symbol or "NULL", index 0 unused
  std::vector<int> type_species_;          // [type] species index, -1 for NULL
  double cutoff_ = 0;
  Features comm_data_;  // the features or adjoints being exchanged (host memory: LAMMPS's comm buffers)

 private:
  class Exchange;
  facet::AnyEngine<HostDevice> engine_;
  std::unique_ptr<Exchange> exchange_;
  Kokkos::View<int*, Kokkos::LayoutRight, HostDevice> species_;
  std::vector<int> list_index_;  // local atom -> position in the neighbour list's ilist, -1 if absent
  bool kokkos_initialized_here_ = false;
};

}  // namespace LAMMPS_NS
