// The facet potential: hyperparameters and learned arrays of docs/model.md, and the versioned text file
// of docs/potential-format.md. Shared by the trainer, the engine and the LAMMPS plugin; no LAMMPS,
// Kokkos or Torch in here.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace facet {

constexpr int kPotentialFormatVersion = 2;  // 2 added the 'repulsion' line

enum class TensorProduct { gaunt, cg };

// A fixed pair term added to the learned energy (docs/model.md, "Short-range repulsion").
enum class Repulsion { none, zbl };

struct ModelHyperparameters {
  std::vector<std::string> elements;
  double r_cut = 5.0;
  int l_max = 2;
  int l_edge = 2;
  int channels = 64;
  int layers = 2;
  int radial_basis = 12;
  int envelope_p = 6;
  TensorProduct tensor_product = TensorProduct::gaunt;
  int grid_channels = 32;
  int grid_hidden = 32;
  int grid_theta = 12;
  int grid_phi = 24;
  int readout_hidden = 32;
  double avg_num_neighbors = 1.0;
  double energy_scale = 1.0;
  std::vector<double> atomic_energies;  // one per element
  Repulsion repulsion = Repulsion::none;
  // zbl: a radius per element (Å); the pair term of elements i and j is off from r_i + r_j on.
  std::vector<double> repulsion_radii;
};
bool operator==(const ModelHyperparameters& a, const ModelHyperparameters& b);

// A coupling path (l1, l2, l3) of the message (docs/model.md, "Coupling paths").
struct CouplingPath {
  int l_in, l_edge, l_out;
  bool operator==(const CouplingPath& o) const { return l_in == o.l_in && l_edge == o.l_edge && l_out == o.l_out; }
};

// Paths with l1 <= l_max, l2 <= l_edge, l3 <= l_max, triangle rule and l1+l2+l3 even, ordered by l1, l2, l3.
std::vector<CouplingPath> coupling_paths(int l_max, int l_edge);

// Radial functions per channel and layer: l_edge+1 for gaunt, one per path for cg.
int num_radial_functions(const ModelHyperparameters& hp);

struct Array {
  std::vector<int64_t> shape;
  std::vector<double> values;  // row-major
  int64_t size() const;
  bool operator==(const Array& o) const { return shape == o.shape && values == o.values; }
};

struct Potential {
  ModelHyperparameters hyper;
  std::vector<std::pair<std::string, std::string>> meta;  // provenance, in file order
  std::map<std::string, Array> arrays;

  const Array& array(const std::string& name) const;  // throws PotentialError naming a missing array
  bool operator==(const Potential& o) const { return hyper == o.hyper && meta == o.meta && arrays == o.arrays; }
};

// Names and shapes of the arrays a model with these hyperparameters has, in file order.
std::vector<std::pair<std::string, std::vector<int64_t>>> expected_arrays(const ModelHyperparameters& hp);

// Checks hyperparameters for values the model cannot use; throws PotentialError naming the key.
void validate(const ModelHyperparameters& hp);

class PotentialError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads and checks a potential file; errors name the file, the line and the cause.
Potential read_potential(const std::string& path);
// The same on text in memory; `source` names it in error messages.
Potential parse_potential(const std::string& text, const std::string& source);

std::string format_potential(const Potential& potential);
// Writes atomically (temporary file, then rename), so a crash never leaves a truncated potential.
void write_potential(const Potential& potential, const std::string& path);

// 64-bit FNV-1a hash of a byte string (the file checksum).
uint64_t fnv1a64(const char* data, size_t size);

}  // namespace facet
