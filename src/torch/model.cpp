#include "torch/model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/clebsch_gordan.hpp"
#include "core/s2_grid.hpp"
#include "core/spherical_harmonics.hpp"
#include "core/zbl.hpp"
#include "model/elements.hpp"
#include "model/neighbors.hpp"

namespace facet {

namespace {

constexpr double kPi = 3.14159265358979323846;

std::string parameter_name(const std::string& array_name) {  // torch forbids '.' in parameter names
  std::string s = array_name;
  for (char& c : s)
    if (c == '.') c = '_';
  return s;
}

torch::Tensor degree_block(const torch::Tensor& x, int l, int dim) {
  return x.narrow(dim, l * l, 2 * l + 1);
}

}  // namespace

torch::Tensor spherical_harmonics(int lmax, const torch::Tensor& u) {
  // The recursion of core/spherical_harmonics.hpp (Racah-normalised solid harmonics in e3nn's frame),
  // on tensors so that autograd differentiates it to any order.
  const auto x = u.select(1, 0), y = u.select(1, 1), z = u.select(1, 2);
  std::vector<torch::Tensor> S(sh_size(lmax));
  S[0] = torch::ones_like(x);
  if (lmax >= 1) {
    S[1] = x;
    S[2] = y;
    S[3] = z;
  }
  const auto r2 = x * x + y * y + z * z;
  for (int l = 1; l < lmax; ++l) {
    const int c_lm1 = sh_index(l - 1, 0), c_l = sh_index(l, 0), c_lp1 = sh_index(l + 1, 0);
    const double sectoral = std::sqrt((2.0 * l + 1) / (2.0 * l + 2));
    S[c_lp1 + l + 1] = sectoral * (z * S[c_l + l] - x * S[c_l - l]);
    S[c_lp1 - l - 1] = sectoral * (x * S[c_l + l] + z * S[c_l - l]);
    for (int m = -l; m <= l; ++m) {
      const double inv_norm = 1.0 / std::sqrt(double((l + m + 1) * (l - m + 1)));
      S[c_lp1 + m] = (2.0 * l + 1) * inv_norm * y * S[c_l + m];
      if (m > -l && m < l) S[c_lp1 + m] = S[c_lp1 + m] - std::sqrt(double((l + m) * (l - m))) * inv_norm * r2 * S[c_lm1 + m];
    }
  }
  for (int l = 1; l <= lmax; ++l)
    for (int m = -l; m <= l; ++m) S[sh_index(l, m)] = std::sqrt(2.0 * l + 1) * S[sh_index(l, m)];
  return torch::stack(S, 1);
}

torch::Tensor bspline_basis(const torch::Tensor& r, double r_cut, int n_basis) {
  // core/bspline.hpp: knot spacing h = r_cut / (K-3); on [i h, (i+1) h] the functions B_i..B_{i+3} are nonzero.
  const double h = r_cut / (n_basis - 3);
  const auto s = r / h;
  const auto first = s.detach().floor().clamp(0, n_basis - 4).to(torch::kInt64);
  const auto x = s - first.to(s.dtype());
  const auto y = 1 - x;
  const auto values = torch::stack({y * y * y / 6, ((3 * x - 6) * x * x + 4) / 6,
                                    (((-3 * x + 3) * x + 3) * x + 1) / 6, x * x * x / 6}, 1);
  const auto index = first.unsqueeze(1) + torch::arange(4, first.options());
  return torch::zeros({r.size(0), n_basis}, r.options()).scatter_add(1, index, values);
}

namespace {

torch::Tensor envelope_of_ratio(const torch::Tensor& x, int p) {  // u(x) of core/envelope.hpp, x = r / r_cut
  const auto xp = x.pow(p);
  const auto u = 1 - 0.5 * (p + 1) * (p + 2) * xp + double(p * (p + 2)) * xp * x - 0.5 * p * (p + 1) * xp * x * x;
  return torch::where(x < 1, u, torch::zeros_like(u));
}

}  // namespace

torch::Tensor cutoff_envelope(const torch::Tensor& r, double r_cut, int p) { return envelope_of_ratio(r / r_cut, p); }

torch::Tensor zbl_pair_energy(const torch::Tensor& r, const torch::Tensor& z_i, const torch::Tensor& z_j,
                              const torch::Tensor& r_max) {
  // core/zbl.hpp
  const auto x = r * (z_i.pow(0.23) + z_j.pow(0.23)) / 0.46850;
  const auto phi = 0.18175 * torch::exp(-3.19980 * x) + 0.50986 * torch::exp(-0.94229 * x) +
                   0.28022 * torch::exp(-0.40290 * x) + 0.02817 * torch::exp(-0.20162 * x);
  return kCoulombEvAngstrom * z_i * z_j / r * phi * envelope_of_ratio(r / r_max, kRepulsionEnvelopeP);
}

Batch make_batch(const std::vector<const Structure*>& structures, const std::vector<std::string>& elements,
                 double r_cut, torch::Dtype dtype) {
  std::vector<int64_t> species, atom_structure, center, neighbor;
  std::vector<double> positions, shifts, volume, num_atoms;
  int64_t offset = 0;
  for (size_t b = 0; b < structures.size(); ++b) {
    const Structure& s = *structures[b];
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t z = -1;
      for (size_t e = 0; e < elements.size(); ++e)
        if (elements[e] == s.species[i]) z = static_cast<int64_t>(e);
      if (z < 0)
        throw std::runtime_error(s.source + ":" + std::to_string(s.line) + ": element '" + s.species[i] +
                                 "' (atom " + std::to_string(i + 1) + ") is not one of the model's elements");
      species.push_back(z);
      atom_structure.push_back(static_cast<int64_t>(b));
      positions.insert(positions.end(), s.positions[i].begin(), s.positions[i].end());
    }
    const NeighborList nl = build_neighbor_list(s, r_cut);
    for (size_t e = 0; e < nl.size(); ++e) {
      center.push_back(offset + nl.first[e]);
      neighbor.push_back(offset + nl.second[e]);
      for (int k = 0; k < 3; ++k) {
        double v = 0;
        for (int a = 0; a < 3; ++a) v += nl.shift[e][a] * s.cell[a][k];
        shifts.push_back(v);
      }
    }
    const bool periodic = s.pbc[0] || s.pbc[1] || s.pbc[2];
    volume.push_back(periodic ? s.volume() : 0.0);
    num_atoms.push_back(static_cast<double>(s.size()));
    offset += static_cast<int64_t>(s.size());
  }
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto N = static_cast<int64_t>(species.size()), E = static_cast<int64_t>(center.size());
  Batch batch;
  batch.species = torch::tensor(species, i64);
  batch.atom_structure = torch::tensor(atom_structure, i64);
  batch.positions = torch::tensor(positions, f64).reshape({N, 3}).to(dtype);
  batch.edge_center = torch::tensor(center, i64);
  batch.edge_neighbor = torch::tensor(neighbor, i64);
  batch.edge_shift = torch::tensor(shifts, f64).reshape({E, 3}).to(dtype);
  batch.volume = torch::tensor(volume, f64).to(dtype);
  batch.num_atoms = torch::tensor(num_atoms, f64).to(dtype);
  batch.num_structures = static_cast<int64_t>(structures.size());
  return batch;
}

FacetModelImpl::FacetModelImpl(const ModelHyperparameters& hp, uint64_t seed, torch::Dtype dtype) : hp_(hp) {
  if (hp_.atomic_energies.empty()) hp_.atomic_energies.assign(hp_.elements.size(), 0.0);
  validate(hp_);
  auto gen = at::detail::createCPUGenerator(seed);
  const auto opts = torch::TensorOptions().dtype(dtype);
  for (const auto& [name, shape] : expected_arrays(hp_)) {
    // Unit-variance signals: matrices scaled by 1/sqrt(fan-in), biases zero.
    torch::Tensor t;
    const bool bias = name.size() > 3 && name.compare(name.size() - 3, 3, ".b1") == 0;
    if (bias) {
      t = torch::zeros(shape, opts);
    } else {
      t = torch::randn(shape, gen, opts);
      const int64_t fan_in = name == "embedding" || name.find(".radial") != std::string::npos ? 1 : shape.back();
      t = t / std::sqrt(double(fan_in));
    }
    arrays_[name] = register_parameter(parameter_name(name), t);
  }
  build_constants(dtype);
}

FacetModelImpl::FacetModelImpl(const Potential& potential, torch::Dtype dtype) : hp_(potential.hyper) {
  validate(hp_);
  for (const auto& [name, shape] : expected_arrays(hp_)) {
    const Array& a = potential.array(name);
    if (a.shape != shape) throw PotentialError("array '" + name + "' has the wrong shape");
    auto t = torch::tensor(a.values, torch::TensorOptions().dtype(torch::kFloat64)).reshape(shape).to(dtype);
    arrays_[name] = register_parameter(parameter_name(name), t);
  }
  build_constants(dtype);
}

void FacetModelImpl::set_normalization(double avg_num_neighbors, double energy_scale,
                                       const std::vector<double>& atomic_energies) {
  hp_.avg_num_neighbors = avg_num_neighbors;
  hp_.energy_scale = energy_scale;
  hp_.atomic_energies = atomic_energies;
  validate(hp_);
}

void FacetModelImpl::build_constants(torch::Dtype dtype) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  paths_ = coupling_paths(hp_.l_max, hp_.l_edge);
  coupling_.clear();
  for (const auto& p : paths_) {
    const CouplingTensor T = hp_.tensor_product == TensorProduct::gaunt ? gaunt(p.l_in, p.l_edge, p.l_out)
                                                                        : clebsch_gordan(p.l_in, p.l_edge, p.l_out);
    coupling_.push_back(register_buffer("coupling" + std::to_string(coupling_.size()),
                                        torch::tensor(T.values, f64)
                                            .reshape({2 * p.l_in + 1, 2 * p.l_edge + 1, 2 * p.l_out + 1})
                                            .to(dtype)));
  }
  std::vector<int64_t> degree;
  for (int l = 0; l <= hp_.l_max; ++l) degree.insert(degree.end(), 2 * l + 1, l);
  degree_of_index_ = register_buffer("degree_of_index", torch::tensor(degree, torch::kInt64));
  const S2Grid grid = make_s2_grid(hp_.l_max, {hp_.grid_theta, hp_.grid_phi});
  std::vector<double> z, radius = hp_.repulsion_radii;
  for (const auto& e : hp_.elements) z.push_back(atomic_number(e));
  radius.resize(hp_.elements.size(), 0.0);
  repulsion_z_ = register_buffer("repulsion_z", torch::tensor(z, f64).to(dtype));
  repulsion_radius_ = register_buffer("repulsion_radius", torch::tensor(radius, f64).to(dtype));
  grid_to_ = register_buffer("grid_to", torch::tensor(grid.to_grid.values, f64)
                                            .reshape({grid.to_grid.rows, grid.to_grid.cols}).to(dtype));
  grid_from_ = register_buffer("grid_from", torch::tensor(grid.from_grid.values, f64)
                                                .reshape({grid.from_grid.rows, grid.from_grid.cols}).to(dtype));
}

torch::Tensor FacetModelImpl::linear(const torch::Tensor& x, const torch::Tensor& w) const {
  // x [N, (L+1)^2, C_in], w [L+1, C_out, C_in]: the same matrix for every m of a degree.
  return torch::einsum("nsc,sdc->nsd", {x, w.index_select(0, degree_of_index_)});
}

torch::Tensor FacetModelImpl::atomic_energies(const torch::Tensor& species, const torch::Tensor& edge_center,
                                              const torch::Tensor& edge_neighbor, const torch::Tensor& edge_vectors) {
  const int64_t N = species.size(0), C = hp_.channels, nsh = sh_size(hp_.l_max);
  const auto r = edge_vectors.norm(2, 1);
  const auto Y = spherical_harmonics(hp_.l_edge, edge_vectors / r.unsqueeze(1));
  const auto basis = bspline_basis(r, hp_.r_cut, hp_.radial_basis) *
                     cutoff_envelope(r, hp_.r_cut, hp_.envelope_p).unsqueeze(1);

  auto h = torch::cat({arrays_.at("embedding").index_select(0, species).unsqueeze(1),
                       torch::zeros({N, nsh - 1, C}, edge_vectors.options())},
                      1);
  for (int t = 0; t < hp_.layers; ++t) {
    const std::string p = "layer" + std::to_string(t) + ".";
    const auto a = linear(h, arrays_.at(p + "up")).index_select(0, edge_neighbor);         // [E, nsh, C]
    const auto R = torch::einsum("ek,rkc->erc", {basis, arrays_.at(p + "radial")});          // [E, nR, C]
    std::vector<torch::Tensor> per_degree(hp_.l_max + 1);
    for (size_t k = 0; k < paths_.size(); ++k) {
      const auto& path = paths_[k];
      if (t == 0 && path.l_in > 0) continue;  // layer-0 features are scalars only
      const int radial = hp_.tensor_product == TensorProduct::gaunt ? path.l_edge : static_cast<int>(k);
      const auto YT = torch::einsum("eb,abd->ead", {degree_block(Y, path.l_edge, 1), coupling_[k]});
      const auto m = torch::einsum("ead,eac->edc", {YT, degree_block(a, path.l_in, 1)}) *
                     R.select(1, radial).unsqueeze(1);
      per_degree[path.l_out] = per_degree[path.l_out].defined() ? per_degree[path.l_out] + m : m;
    }
    for (int l = 0; l <= hp_.l_max; ++l)
      if (!per_degree[l].defined()) per_degree[l] = torch::zeros({edge_vectors.size(0), 2 * l + 1, C}, edge_vectors.options());
    const auto M = torch::zeros({N, nsh, C}, edge_vectors.options()).index_add(0, edge_center, torch::cat(per_degree, 1)) /
                   hp_.avg_num_neighbors;
    const auto g = linear(M, arrays_.at(p + "mid"));                                       // [N, nsh, Cg]
    const auto G = torch::einsum("ps,nsc->npc", {grid_to_, g});                            // [N, P, Cg]
    const auto Z = torch::matmul(torch::silu(torch::matmul(G, arrays_.at(p + "grid_w1").t()) + arrays_.at(p + "grid_b1")),
                                 arrays_.at(p + "grid_w2").t());
    const auto U = torch::einsum("sp,npc->nsc", {grid_from_, Z});
    h = h + linear(M, arrays_.at(p + "msg")) + linear(U, arrays_.at(p + "out"));
  }
  const auto scalars = h.select(1, 0);
  const auto hidden = torch::silu(torch::matmul(scalars, arrays_.at("readout.w1").t()) + arrays_.at("readout.b1"));
  const auto e0 = torch::tensor(hp_.atomic_energies, torch::TensorOptions().dtype(torch::kFloat64))
                      .to(edge_vectors.dtype()).index_select(0, species);
  auto energy = e0 + hp_.energy_scale * torch::matmul(hidden, arrays_.at("readout.w2"));
  if (hp_.repulsion == Repulsion::zbl) {  // half of each pair's energy to each of its atoms
    const auto zi = species.index_select(0, edge_center), zj = species.index_select(0, edge_neighbor);
    const auto pair = zbl_pair_energy(r, repulsion_z_.index_select(0, zi), repulsion_z_.index_select(0, zj),
                                      repulsion_radius_.index_select(0, zi) + repulsion_radius_.index_select(0, zj));
    energy = energy.index_add(0, edge_center, 0.5 * pair);
  }
  return energy;
}

Prediction FacetModelImpl::predict(const Batch& batch, bool forces, bool stress, bool create_graph) {
  auto positions = batch.positions;
  if (forces) positions = positions.detach().requires_grad_(true);
  const auto dtype = positions.dtype();
  torch::Tensor strain;
  auto strained_positions = positions;
  auto shifts = batch.edge_shift;
  if (stress) {
    // Homogeneous strain x -> x (1 + eps) of every position and cell vector: sigma = (1/V) dE/d eps.
    strain = torch::zeros({batch.num_structures, 3, 3}, positions.options()).requires_grad_(true);
    const auto edge_structure = batch.atom_structure.index_select(0, batch.edge_center);
    strained_positions = positions + torch::bmm(positions.unsqueeze(1), strain.index_select(0, batch.atom_structure)).squeeze(1);
    shifts = shifts + torch::bmm(shifts.unsqueeze(1), strain.index_select(0, edge_structure)).squeeze(1);
  }
  const auto vectors = strained_positions.index_select(0, batch.edge_neighbor) -
                       strained_positions.index_select(0, batch.edge_center) + shifts;
  Prediction out;
  out.atomic_energy = atomic_energies(batch.species, batch.edge_center, batch.edge_neighbor, vectors);
  out.energy = torch::zeros({batch.num_structures}, torch::TensorOptions().dtype(dtype))
                   .index_add(0, batch.atom_structure, out.atomic_energy);
  std::vector<torch::Tensor> inputs;
  if (forces) inputs.push_back(positions);
  if (stress) inputs.push_back(strain);
  if (!inputs.empty()) {
    const auto grads = torch::autograd::grad({out.energy.sum()}, inputs, {}, create_graph, create_graph,
                                             /*allow_unused=*/true);
    size_t k = 0;
    if (forces) {
      out.forces = grads[k].defined() ? -grads[k] : torch::zeros_like(positions);
      ++k;
    }
    if (stress) {
      auto dEde = grads[k].defined() ? grads[k] : torch::zeros_like(strain);
      const auto v = batch.volume.to(dtype);
      out.stress = dEde / torch::where(v > 0, v, torch::ones_like(v)).view({-1, 1, 1});
    }
  }
  return out;
}

Potential FacetModelImpl::to_potential(const std::vector<std::pair<std::string, std::string>>& meta) const {
  Potential pot;
  pot.hyper = hp_;
  pot.meta = meta;
  for (const auto& [name, shape] : expected_arrays(hp_)) {
    const auto t = arrays_.at(name).detach().to(torch::kFloat64).contiguous();
    Array a;
    a.shape = shape;
    a.values.assign(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
    pot.arrays[name] = std::move(a);
  }
  return pot;
}

Potential grow_potential(const Potential& from, int l_max, int layers, uint64_t seed) {
  const ModelHyperparameters& old = from.hyper;
  if (l_max < old.l_max || layers < old.layers)
    throw PotentialError("grow: l_max " + std::to_string(l_max) + ", layers " + std::to_string(layers) +
                         " is smaller than the potential's (" + std::to_string(old.l_max) + ", " +
                         std::to_string(old.layers) + ")");
  if (l_max > old.l_max && old.tensor_product != TensorProduct::gaunt)
    throw PotentialError("grow: l_max can grow only with tensor_product gaunt (with cg the radial functions are "
                         "per coupling path, and the paths change with l_max)");
  ModelHyperparameters hp = old;
  hp.l_max = l_max;
  hp.layers = layers;
  Potential grown = FacetModelImpl(hp, seed).to_potential();  // random weights of the new shape
  grown.meta = from.meta;
  for (auto& [name, target] : grown.arrays) {
    const std::string kind = name.substr(name.find('.') + 1);
    const bool writes_features = kind == "mid" || kind == "msg" || kind == "out";
    const auto it = from.arrays.find(name);
    if (it == from.arrays.end()) {  // a new layer: the identity while msg and out are zero (not mid, or the
      if (kind == "msg" || kind == "out")  // grid MLP's output and the gradient of out would vanish too)
        std::fill(target.values.begin(), target.values.end(), 0.0);
      continue;
    }
    const Array& source = it->second;
    if (source.shape == target.shape) {
      target.values = source.values;
      continue;
    }
    // A per-degree array [l_max + 1, ...] of a kept layer: the old degrees copied, the new ones zero where they
    // would reach the features (mid feeds the grid MLP, msg and out the next features), random in `up`, whose
    // input (the new degrees of the features) is zero at first.
    if (source.shape.size() != target.shape.size() || source.shape[0] > target.shape[0] ||
        !std::equal(source.shape.begin() + 1, source.shape.end(), target.shape.begin() + 1))
      throw PotentialError("grow: array '" + name + "' does not grow by degrees");
    std::copy(source.values.begin(), source.values.end(), target.values.begin());
    if (writes_features) std::fill(target.values.begin() + source.size(), target.values.end(), 0.0);
  }
  return grown;
}

}  // namespace facet
