// The Kokkos engine against the LibTorch reference (docs/model.md): energies to 1e-10 relative, forces to
// 1e-9 eV/Å, virial to 1e-9 eV, on periodic triclinic cells with several elements, with ghost atoms and
// the per-layer exchange done the way LAMMPS does it (owners -> ghosts, adjoints ghosts -> owners).
#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <iostream>
#include <random>

#include "engine/engine.hpp"
#include "torch/model.hpp"

using namespace facet;
using Device = Kokkos::Device<Kokkos::DefaultHostExecutionSpace, Kokkos::HostSpace>;
using HostEngine = Engine<Device>;

namespace {

// Local atoms plus every periodic image within r_cut + skin of them, as LAMMPS lays them out.
struct GhostedSystem {
  int n_local = 0, n_all = 0;
  std::vector<double> x;        // 3 n_all
  std::vector<int> species;     // n_all, -1 = ignored
  std::vector<int> owner;       // n_all
  std::vector<std::vector<int>> neighbors;  // of local atoms, within r_cut + skin
};

GhostedSystem make_ghosted(const Structure& s, const std::vector<std::string>& elements, double reach) {
  GhostedSystem g;
  g.n_local = static_cast<int>(s.size());
  auto element_index = [&](const std::string& e) {
    for (size_t k = 0; k < elements.size(); ++k)
      if (elements[k] == e) return static_cast<int>(k);
    return -1;
  };
  for (int i = 0; i < g.n_local; ++i) {
    g.x.insert(g.x.end(), s.positions[i].begin(), s.positions[i].end());
    g.species.push_back(element_index(s.species[i]));
    g.owner.push_back(i);
  }
  const int m = 3;
  for (int a = -m; a <= m; ++a)
    for (int b = -m; b <= m; ++b)
      for (int c = -m; c <= m; ++c) {
        if (a == 0 && b == 0 && c == 0) continue;
        for (int i = 0; i < g.n_local; ++i) {
          std::array<double, 3> p;
          for (int k = 0; k < 3; ++k) p[k] = s.positions[i][k] + a * s.cell[0][k] + b * s.cell[1][k] + c * s.cell[2][k];
          bool near = false;
          for (int j = 0; j < g.n_local && !near; ++j) {
            double d2 = 0;
            for (int k = 0; k < 3; ++k) d2 += (p[k] - s.positions[j][k]) * (p[k] - s.positions[j][k]);
            near = d2 < reach * reach;
          }
          if (!near) continue;
          g.x.insert(g.x.end(), p.begin(), p.end());
          g.species.push_back(g.species[i]);
          g.owner.push_back(i);
        }
      }
  g.n_all = static_cast<int>(g.owner.size());
  g.neighbors.resize(g.n_local);
  for (int i = 0; i < g.n_local; ++i)
    for (int j = 0; j < g.n_all; ++j) {
      if (j == i) continue;
      double d2 = 0;
      for (int k = 0; k < 3; ++k) d2 += (g.x[3 * j + k] - g.x[3 * i + k]) * (g.x[3 * j + k] - g.x[3 * i + k]);
      if (d2 < reach * reach) g.neighbors[i].push_back(j);
    }
  return g;
}

struct ListNeighbors {
  Kokkos::View<int**, Kokkos::LayoutRight, Device> list;
  Kokkos::View<int*, Kokkos::LayoutRight, Device> counts;
  KOKKOS_INLINE_FUNCTION int count(int i) const { return counts(i); }
  KOKKOS_INLINE_FUNCTION int operator()(int i, int jj) const { return list(i, jj); }
};

ListNeighbors make_neighbors(const GhostedSystem& g) {
  size_t width = 1;
  for (const auto& n : g.neighbors) width = std::max(width, n.size());
  ListNeighbors nb{decltype(ListNeighbors::list)("list", g.n_local, width), decltype(ListNeighbors::counts)("counts", g.n_local)};
  for (int i = 0; i < g.n_local; ++i) {
    nb.counts(i) = static_cast<int>(g.neighbors[i].size());
    for (size_t jj = 0; jj < g.neighbors[i].size(); ++jj) nb.list(i, jj) = g.neighbors[i][jj];
  }
  return nb;
}

class OwnerExchange : public GhostExchange<Device> {
 public:
  explicit OwnerExchange(const GhostedSystem& g) : g_(g) {}
  void forward(Features data) override {
    ++forward_calls;
    for (int j = g_.n_local; j < g_.n_all; ++j)
      for (size_t s = 0; s < data.extent(1); ++s)
        for (size_t c = 0; c < data.extent(2); ++c) data(j, s, c) = data(g_.owner[j], s, c);
  }
  void reverse(Features data) override {
    ++reverse_calls;
    for (int j = g_.n_local; j < g_.n_all; ++j)
      for (size_t s = 0; s < data.extent(1); ++s)
        for (size_t c = 0; c < data.extent(2); ++c) data(g_.owner[j], s, c) += data(j, s, c);
  }
  int forward_calls = 0, reverse_calls = 0;

 private:
  const GhostedSystem& g_;
};

struct EngineOutput {
  double energy;
  double virial[6];
  std::vector<std::array<double, 3>> forces;  // summed onto owners
  std::vector<double> atom_energy;
  std::vector<std::array<double, 6>> atom_virial;  // summed onto owners
  int forward_calls, reverse_calls;
};

template <class EngineType>
EngineOutput run_engine(EngineType& engine, const Structure& s, double skin = 0.7) {
  const auto& hp = engine.hyper();
  const GhostedSystem g = make_ghosted(s, hp.elements, hp.r_cut + skin);
  Kokkos::View<double* [3], Kokkos::LayoutRight, Device> x("x", g.n_all), f("f", g.n_all);
  Kokkos::View<int*, Kokkos::LayoutRight, Device> species("species", g.n_all);
  Kokkos::View<double*, Kokkos::LayoutRight, Device> eatom("eatom", g.n_local);
  Kokkos::View<double* [6], Kokkos::LayoutRight, Device> vatom("vatom", g.n_all);
  for (int i = 0; i < g.n_all; ++i) {
    for (int k = 0; k < 3; ++k) x(i, k) = g.x[3 * i + k];
    species(i) = g.species[i];
  }
  OwnerExchange exchange(g);
  EngineRequest request;
  request.atom_energy = request.atom_virial = true;
  const auto result = engine.compute(g.n_local, g.n_all, x, species, make_neighbors(g), &exchange, request, f, eatom, vatom);
  EngineOutput out;
  out.energy = result.energy;
  std::copy(result.virial, result.virial + 6, out.virial);
  out.forces.assign(g.n_local, {0, 0, 0});
  out.atom_virial.assign(g.n_local, {0, 0, 0, 0, 0, 0});
  for (int j = 0; j < g.n_all; ++j) {
    for (int k = 0; k < 3; ++k) out.forces[g.owner[j]][k] += f(j, k);
    for (int k = 0; k < 6; ++k) out.atom_virial[g.owner[j]][k] += vatom(j, k);
  }
  for (int i = 0; i < g.n_local; ++i) out.atom_energy.push_back(eatom(i));
  out.forward_calls = exchange.forward_calls;
  out.reverse_calls = exchange.reverse_calls;
  return out;
}

Structure rattled_cell(unsigned seed, int repeat = 1) {
  Structure s;
  const double a = 5.431;
  const double frac[8][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0},
                             {.25, .25, .25}, {.25, .75, .75}, {.75, .25, .75}, {.75, .75, .25}};
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.12);
  for (int r = 0; r < repeat; ++r)
    for (int i = 0; i < 8; ++i) {
      s.species.push_back((i + r) % 3 == 0 ? "O" : "Si");
      s.positions.push_back({a * (frac[i][0] + r) + noise(rng), a * frac[i][1] + noise(rng), a * frac[i][2] + noise(rng)});
    }
  s.cell = {{{a * repeat, 0, 0}, {0.4, a, 0}, {-0.3, 0.2, a}}};
  s.pbc = {true, true, true};
  s.source = "test";
  return s;
}

ModelHyperparameters test_hyperparameters(TensorProduct tp, int layers) {
  ModelHyperparameters hp;
  hp.elements = {"Si", "O"};
  hp.r_cut = 3.3;
  hp.channels = 5;
  hp.grid_channels = 3;
  hp.grid_hidden = 6;
  hp.readout_hidden = 4;
  hp.radial_basis = 7;
  hp.layers = layers;
  hp.tensor_product = tp;
  hp.grid_theta = 6;
  hp.grid_phi = 12;
  hp.avg_num_neighbors = 5.5;
  hp.energy_scale = 1.3;
  hp.atomic_energies = {-3.1, -4.7};
  return hp;
}

void expect_matches_reference(const ModelHyperparameters& hp, unsigned seed, const Structure& s) {
  FacetModel model(hp, seed);
  const Potential pot = model->to_potential();
  const Batch batch = make_batch({&s}, hp.elements, hp.r_cut);
  const Prediction ref = model->predict(batch, true, true);
  HostEngine engine(pot);
  const EngineOutput out = run_engine(engine, s);

  const double e_ref = ref.energy.item<double>();
  EXPECT_NEAR(out.energy, e_ref, 1e-10 * std::abs(e_ref));
  double max_df = 0, fscale = 0;
  for (size_t i = 0; i < s.size(); ++i)
    for (int k = 0; k < 3; ++k) {
      max_df = std::max(max_df, std::abs(out.forces[i][k] - ref.forces[i][k].item<double>()));
      fscale = std::max(fscale, std::abs(ref.forces[i][k].item<double>()));
    }
  EXPECT_GT(fscale, 1e-3);  // forces that vanish would make the comparison vacuous
  EXPECT_LT(max_df, 1e-9);
  // virial W = -dE/d eps = -V sigma (ASE sign), in LAMMPS's order xx yy zz xy xz yz
  const double V = s.volume();
  const int ab[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
  for (int k = 0; k < 6; ++k)
    EXPECT_NEAR(out.virial[k], -V * ref.stress[0][ab[k][0]][ab[k][1]].item<double>(), 1e-9) << "component " << k;
  // Per-atom energies and virials add up to the totals.
  double esum = 0, vsum[6] = {0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < s.size(); ++i) {
    esum += out.atom_energy[i];
    EXPECT_NEAR(out.atom_energy[i], ref.atomic_energy[i].item<double>(), 1e-10 * std::abs(e_ref));
    for (int k = 0; k < 6; ++k) vsum[k] += out.atom_virial[i][k];
  }
  EXPECT_NEAR(esum, out.energy, 1e-10 * std::abs(e_ref));
  for (int k = 0; k < 6; ++k) EXPECT_NEAR(vsum[k], out.virial[k], 1e-10);
  // One exchange of features and one of adjoints per layer after the first.
  EXPECT_EQ(out.forward_calls, hp.layers - 1);
  EXPECT_EQ(out.reverse_calls, hp.layers - 1);
}

}  // namespace

TEST(Engine, MatchesReferenceGaunt) { expect_matches_reference(test_hyperparameters(TensorProduct::gaunt, 2), 3, rattled_cell(1)); }

TEST(Engine, MatchesReferenceCgThreeLayers) {
  expect_matches_reference(test_hyperparameters(TensorProduct::cg, 3), 4, rattled_cell(2));
}

TEST(Engine, MatchesReferenceHigherDegree) {
  auto hp = test_hyperparameters(TensorProduct::gaunt, 2);
  hp.l_max = 3;
  hp.l_edge = 2;
  hp.grid_theta = 8;
  hp.grid_phi = 16;
  expect_matches_reference(hp, 5, rattled_cell(3, 2));
}

TEST(Engine, MatchesReferenceAtEveryChannelBlocking) {
  // The host's channel loops go in blocks of 8, 4 and 1 SIMD vectors and then single channels: 37 channels in
  // double (4 lanes) take a block of 32, one vector and one channel in message, and 4 pairs of vectors, one
  // vector and one channel in edge_backward.
  auto hp = test_hyperparameters(TensorProduct::cg, 2);
  hp.channels = 37;
  expect_matches_reference(hp, 6, rattled_cell(1));
}

TEST(Engine, MatchesReferenceWithRepulsion) {
  // ZBL radii enlarged (sums 3.0 / 2.7 / 2.4 Å < r_cut 3.3 Å) so that many pairs of the rattled cells reach
  // into the repulsion; energy, forces, virial and per-atom values against the reference, as above.
  auto hp = test_hyperparameters(TensorProduct::gaunt, 2);
  hp.repulsion = Repulsion::zbl;
  hp.repulsion_radii = {1.5, 1.2};
  expect_matches_reference(hp, 9, rattled_cell(8, 2));
  // ... where the repulsion is a sizeable part of the result.
  auto plain = hp;
  plain.repulsion = Repulsion::none;
  plain.repulsion_radii.clear();
  HostEngine with(FacetModel(hp, 9)->to_potential()), without(FacetModel(plain, 9)->to_potential());
  const Structure s = rattled_cell(8, 2);
  const auto a = run_engine(with, s), b = run_engine(without, s);
  EXPECT_GT(a.energy - b.energy, 0.1);
  double df = 0;
  for (size_t i = 0; i < s.size(); ++i)
    for (int k = 0; k < 3; ++k) df = std::max(df, std::abs(a.forces[i][k] - b.forces[i][k]));
  EXPECT_GT(df, 0.1);
}

TEST(Engine, IgnoredAtomsChangeNothing) {
  // Atoms with species -1 (LAMMPS types mapped to NULL) are neither centres nor neighbours.
  const auto hp = test_hyperparameters(TensorProduct::gaunt, 2);
  FacetModel model(hp, 6);
  HostEngine engine(model->to_potential());
  const Structure s = rattled_cell(4);
  Structure with_extra = s;
  with_extra.species.push_back("Xe");  // not an element of the potential: species -1 in make_ghosted
  with_extra.positions.push_back({1.0, 1.1, 1.2});
  const auto a = run_engine(engine, s), b = run_engine(engine, with_extra);
  // Equal up to summation order (threads): round-off only.
  EXPECT_NEAR(a.energy, b.energy, 1e-12 * std::abs(a.energy));
  for (size_t i = 0; i < s.size(); ++i)
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(a.forces[i][k], b.forces[i][k], 1e-12);
  EXPECT_EQ(b.forces.back()[0], 0.0);
}

TEST(Engine, RepeatedCallsReuseWorkspacesExactly) {
  const auto hp = test_hyperparameters(TensorProduct::gaunt, 2);
  FacetModel model(hp, 7);
  HostEngine engine(model->to_potential());
  const auto small1 = run_engine(engine, rattled_cell(5));
  const auto big = run_engine(engine, rattled_cell(6, 3));  // workspaces grow
  const auto small2 = run_engine(engine, rattled_cell(5));  // and are reused
  // Identical up to the order of threaded sums.
  EXPECT_NEAR(small1.energy, small2.energy, 1e-12 * std::abs(small1.energy));
  for (size_t i = 0; i < small1.forces.size(); ++i)
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(small1.forces[i][k], small2.forces[i][k], 1e-12);
  EXPECT_NE(big.energy, small1.energy);
}

// Mixed precision (Engine<Device, float>: float weights, features and kernels; double geometry and sums)
// against double on the same structure, a two-element, two-layer model with ghosts and exchanges. The
// differences are float round-off (unit 6e-8) carried through the network: measured |dE| 4.3e-7 eV (8e-8 of
// the model's part of the energy), max |dF| 1.6e-7 eV/A, max |dW| 3.9e-7 eV. The bounds are ~10x those
// (summation order and FMA contraction vary between compilers and devices) and still far below any
// potential's fitting error (tens of meV/A); a wrong cast or index gives errors of order one.
TEST(Engine, MixedPrecisionAgreesWithDouble) {
  auto hp = test_hyperparameters(TensorProduct::gaunt, 2);
  hp.channels = 16;
  hp.grid_channels = 8;
  hp.grid_hidden = 16;
  FacetModel model(hp, 8);
  const Potential pot = model->to_potential();
  Engine<Device, double> engine_double(pot);
  Engine<Device, float> engine_mixed(pot);
  const Structure s = rattled_cell(7, 2);
  const auto d = run_engine(engine_double, s), m = run_engine(engine_mixed, s);
  double e0 = 0;  // the atomic reference energies, added in double: not part of the float computation
  for (const auto& species : s.species) e0 += species == "Si" ? hp.atomic_energies[0] : hp.atomic_energies[1];
  const double model_energy = std::abs(d.energy - e0);
  ASSERT_GT(model_energy, 1e-2);
  const double de = std::abs(m.energy - d.energy);
  EXPECT_LT(de, 1e-6 * model_energy);
  EXPECT_GT(de, 0.0);  // float really is used (double would agree to ~1e-15)
  double df_max = 0;
  for (size_t i = 0; i < s.size(); ++i)
    for (int k = 0; k < 3; ++k) df_max = std::max(df_max, std::abs(m.forces[i][k] - d.forces[i][k]));
  EXPECT_LT(df_max, 2e-6);
  double dv_max = 0, esum = 0;
  for (int k = 0; k < 6; ++k) dv_max = std::max(dv_max, std::abs(m.virial[k] - d.virial[k]));
  EXPECT_LT(dv_max, 4e-6);
  for (double e : m.atom_energy) esum += e;
  EXPECT_NEAR(esum, m.energy, 1e-10 * std::abs(m.energy));  // per-atom sums are exact in either precision
  EXPECT_EQ(m.forward_calls, hp.layers - 1);
  EXPECT_EQ(m.reverse_calls, hp.layers - 1);
  std::cout << "mixed vs double: |dE| " << de << " eV (" << de / model_energy << " of the model energy), max |dF| "
            << df_max << " eV/A, max |dW| " << dv_max << " eV\n";
}

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
