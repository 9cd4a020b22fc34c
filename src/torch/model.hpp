// The LibTorch reference implementation of docs/model.md: used by the trainer, and the reference that
// the Kokkos engine must match. Differentiable in positions, strain and parameters (forces, stress, and
// force/stress losses by double backward).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "model/potential.hpp"
#include "model/structure.hpp"

namespace facet {

// A batch of structures as tensors. Edges are directed i -> j with r_ij = x_j - x_i + shift.
struct Batch {
  torch::Tensor species;         // [N] int64, index into the model's elements
  torch::Tensor positions;       // [N, 3]
  torch::Tensor atom_structure;  // [N] int64, structure of each atom
  torch::Tensor edge_center;     // [E] int64, i
  torch::Tensor edge_neighbor;   // [E] int64, j
  torch::Tensor edge_shift;      // [E, 3], n . cell (Å)
  torch::Tensor volume;          // [B], 0 for non-periodic structures
  torch::Tensor num_atoms;       // [B] (double)
  int64_t num_structures = 0;
};

// Builds the neighbour lists (cutoff hp.r_cut) and tensors; throws naming the structure's file:line when
// a species is not among `elements`.
Batch make_batch(const std::vector<const Structure*>& structures, const std::vector<std::string>& elements,
                 double r_cut, torch::Dtype dtype = torch::kFloat64);

struct Prediction {
  torch::Tensor energy;          // [B] eV
  torch::Tensor atomic_energy;   // [N] eV
  torch::Tensor forces;          // [N, 3] eV/Å (when asked)
  torch::Tensor stress;          // [B, 3, 3] eV/Å^3, ASE sign (when asked; periodic structures)
};

class FacetModelImpl : public torch::nn::Module {
 public:
  // A freshly initialised model (seeded) with the given hyperparameters.
  FacetModelImpl(const ModelHyperparameters& hp, uint64_t seed, torch::Dtype dtype = torch::kFloat64);
  // The model stored in a potential.
  explicit FacetModelImpl(const Potential& potential, torch::Dtype dtype = torch::kFloat64);

  const ModelHyperparameters& hyper() const { return hp_; }
  void set_normalization(double avg_num_neighbors, double energy_scale, const std::vector<double>& atomic_energies);

  // Atomic energies [N] from species [N] and the edge vectors r_ij [E, 3].
  torch::Tensor atomic_energies(const torch::Tensor& species, const torch::Tensor& edge_center,
                                const torch::Tensor& edge_neighbor, const torch::Tensor& edge_vectors);

  // Energies, and forces/stress by differentiating them; create_graph keeps the graph for training.
  Prediction predict(const Batch& batch, bool forces, bool stress, bool create_graph = false);

  // The learned arrays, named and shaped as in docs/potential-format.md.
  const std::map<std::string, torch::Tensor>& arrays() const { return arrays_; }
  Potential to_potential(const std::vector<std::pair<std::string, std::string>>& meta = {}) const;

 private:
  void build_constants(torch::Dtype dtype);
  torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w) const;  // per-degree linear map

  ModelHyperparameters hp_;
  std::map<std::string, torch::Tensor> arrays_;  // parameters, by file name
  std::vector<CouplingPath> paths_;
  std::vector<torch::Tensor> coupling_;          // per path: [2l1+1, 2l2+1, 2l3+1]
  torch::Tensor degree_of_index_;                // [(L+1)^2] int64: l of each harmonic index
  torch::Tensor grid_to_;                        // [P, (L+1)^2]
  torch::Tensor grid_from_;                      // [(L+1)^2, P], includes w_p / 4 pi
  torch::Tensor repulsion_z_, repulsion_radius_;  // [S]: atomic numbers and repulsion radii (zbl)
};
TORCH_MODULE(FacetModel);

// `from` enlarged to l_max node degrees and `layers` layers (each at least the file's; l_max only with the gaunt
// coupling, whose radial functions do not depend on l_max), computing the same function: the weights that write
// the new degrees or layers into the features (mid, msg and out) start at zero, the others at random (seeded),
// so that training can use them at once. The normalisation is kept.
Potential grow_potential(const Potential& from, int l_max, int layers, uint64_t seed);

// Real spherical harmonics of unit vectors u [E, 3] -> [E, (lmax+1)^2], docs/conventions.md; differentiable.
torch::Tensor spherical_harmonics(int lmax, const torch::Tensor& u);
// Uniform cubic B-spline basis on [0, r_cut]: r [E] -> [E, n_basis]; differentiable in r.
torch::Tensor bspline_basis(const torch::Tensor& r, double r_cut, int n_basis);
// Polynomial cutoff envelope u(r) of docs/model.md.
torch::Tensor cutoff_envelope(const torch::Tensor& r, double r_cut, int p);
// The switched ZBL pair energy of core/zbl.hpp for pair distances r, atomic numbers and switch-off distances
// (tensors of one shape, Z as floating point); differentiable in r.
torch::Tensor zbl_pair_energy(const torch::Tensor& r, const torch::Tensor& z_i, const torch::Tensor& z_j,
                              const torch::Tensor& r_max);

}  // namespace facet
