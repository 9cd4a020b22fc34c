// The LibTorch reference model as physics: invariances, forces and stress as derivatives, the Gaunt/CG
// identity, the grid MLP's measured rotation error, and the potential-file round trip.
#include <gtest/gtest.h>

#include <random>

#include "core/bspline.hpp"
#include "core/clebsch_gordan.hpp"
#include "core/envelope.hpp"
#include "core/spherical_harmonics.hpp"
#include "core/zbl.hpp"
#include "torch/model.hpp"

using namespace facet;

namespace {

ModelHyperparameters tiny_hyperparameters(TensorProduct tp = TensorProduct::gaunt) {
  ModelHyperparameters hp;
  hp.elements = {"Si", "O"};
  hp.r_cut = 3.6;
  hp.channels = 6;
  hp.grid_channels = 4;
  hp.grid_hidden = 8;
  hp.readout_hidden = 8;
  hp.radial_basis = 8;
  hp.tensor_product = tp;
  hp.avg_num_neighbors = 6.0;
  hp.energy_scale = 1.0;
  hp.atomic_energies = {0.0, 0.0};  // tests look at the learned part of the energy
  return hp;
}

// A rattled 8-atom diamond cell with two elements.
Structure rattled_diamond(unsigned seed, double rattle = 0.15) {
  Structure s;
  const double a = 5.431;
  const double frac[8][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0},
                             {.25, .25, .25}, {.25, .75, .75}, {.75, .25, .75}, {.75, .75, .25}};
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, rattle);
  for (int i = 0; i < 8; ++i) {
    s.species.push_back(i % 3 == 0 ? "O" : "Si");
    s.positions.push_back({a * frac[i][0] + noise(rng), a * frac[i][1] + noise(rng), a * frac[i][2] + noise(rng)});
  }
  s.cell = {{{a, 0, 0}, {0.3, a, 0}, {0, -0.2, a}}};  // slightly triclinic
  s.pbc = {true, true, true};
  s.source = "test";
  return s;
}

Prediction predict(FacetModel& model, const Structure& s, bool forces = true, bool stress = true) {
  const Batch batch = make_batch({&s}, model->hyper().elements, model->hyper().r_cut);
  return model->predict(batch, forces, stress);
}

double energy(FacetModel& model, const Structure& s) { return predict(model, s, false, false).energy.item<double>(); }

std::array<std::array<double, 3>, 3> random_rotation(std::mt19937& rng) {
  std::normal_distribution<double> n;
  double q[4] = {n(rng), n(rng), n(rng), n(rng)};
  const double norm = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  for (double& v : q) v /= norm;
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  return {{{1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)},
           {2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)},
           {2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)}}};
}

// Applies x -> R x to positions and cell vectors.
Structure rotated(Structure s, const std::array<std::array<double, 3>, 3>& R) {
  auto apply = [&](std::array<double, 3>& v) {
    const auto c = v;
    for (int i = 0; i < 3; ++i) v[i] = R[i][0] * c[0] + R[i][1] * c[1] + R[i][2] * c[2];
  };
  for (auto& p : s.positions) apply(p);
  for (auto& a : s.cell) apply(a);
  return s;
}

double relative(double a, double b) { return std::abs(a - b) / std::max(std::abs(a), std::abs(b)); }

// The largest difference between the model's forces on atoms 0, 3, 6 and -dE/dx by central differences.
double max_force_error(FacetModel& model, const Structure& s, const torch::Tensor& forces) {
  const double h = 1e-5;
  double max_err = 0;
  for (int i : {0, 3, 6})
    for (int k = 0; k < 3; ++k) {
      Structure plus = s, minus = s;
      plus.positions[i][k] += h;
      minus.positions[i][k] -= h;
      const double fd = -(energy(model, plus) - energy(model, minus)) / (2 * h);
      max_err = std::max(max_err, std::abs(fd - forces[i][k].item<double>()));
    }
  return max_err;
}

// The largest difference between the model's stress [3, 3] and (1/V) dE/d eps by central differences.
double max_stress_error(FacetModel& model, const Structure& s, const torch::Tensor& stress) {
  const double h = 1e-5, V = s.volume();
  double max_err = 0;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      auto strained = [&](double eps) {
        Structure t = s;
        auto apply = [&](std::array<double, 3>& v) { v[b] += eps * v[a]; };  // x -> x (1 + eps e_a e_b^T)
        for (auto& p : t.positions) apply(p);
        for (auto& c : t.cell) apply(c);
        return energy(model, t);
      };
      const double fd = (strained(h) - strained(-h)) / (2 * h) / V;
      max_err = std::max(max_err, std::abs(fd - stress[a][b].item<double>()));
    }
  return max_err;
}

}  // namespace

TEST(TorchMath, HarmonicsMatchCore) {
  const int lmax = 6;
  auto r = torch::randn({200, 3}, torch::kFloat64);
  const auto u = r / r.norm(2, 1, true);
  const auto Y = spherical_harmonics(lmax, u);
  double max_err = 0;
  std::vector<double> ref(sh_size(lmax));
  for (int e = 0; e < 200; ++e) {
    const double v[3] = {u[e][0].item<double>(), u[e][1].item<double>(), u[e][2].item<double>()};
    facet::spherical_harmonics(lmax, v, ref.data());
    for (int i = 0; i < sh_size(lmax); ++i) max_err = std::max(max_err, std::abs(Y[e][i].item<double>() - ref[i]));
  }
  EXPECT_LT(max_err, 1e-13);
}

TEST(TorchMath, RadialBasisAndEnvelopeMatchCore) {
  const double r_cut = 4.7;
  const int K = 9;
  const auto r = torch::linspace(0.0, r_cut * 0.999999, 301, torch::kFloat64);
  const auto B = bspline_basis(r, r_cut, K);
  const auto u = cutoff_envelope(r, r_cut, 6);
  const CubicBSplineBasis<double> basis{r_cut, K};
  const PolynomialEnvelope<double> envelope{r_cut, 6};
  double max_err = 0;
  for (int e = 0; e < 301; ++e) {
    const double x = r[e].item<double>();
    double v[4], dv[4];
    const int first = basis.evaluate(x, v, dv);
    for (int k = 0; k < K; ++k) {
      const double expected = (k >= first && k < first + 4) ? v[k - first] : 0.0;
      max_err = std::max(max_err, std::abs(B[e][k].item<double>() - expected));
    }
    max_err = std::max(max_err, std::abs(u[e].item<double>() - envelope.value(x)));
  }
  EXPECT_LT(max_err, 1e-14);
}

TEST(TorchMath, ZblMatchesCore) {
  const auto r = torch::linspace(0.2, 2.5, 233, torch::kFloat64);
  const auto zi = torch::full_like(r, 14.0), zj = torch::full_like(r, 8.0), r_max = torch::full_like(r, 1.77);
  const auto e = zbl_pair_energy(r, zi, zj, r_max);
  const auto pair = ZblPair<double>::make(14, 8, 1.77);
  double max_err = 0;
  for (int k = 0; k < 233; ++k) {
    double ref, dref;
    pair.evaluate(r[k].item<double>(), ref, dref);
    max_err = std::max(max_err, std::abs(e[k].item<double>() - ref) / std::max(1.0, std::abs(ref)));
  }
  EXPECT_LT(max_err, 1e-13);  // relative: four exps of LibTorch's vectorised exp against libm's, a few ulp
}

// A model with the repulsion of docs/model.md: the same weights, the ZBL radii of Si and O enlarged (sums
// 3.0 / 2.7 / 2.4 Å < r_cut 3.6 Å) so that the pairs of a rattled diamond cell (2.0-2.7 Å) reach into it.
ModelHyperparameters with_repulsion(ModelHyperparameters hp) {
  hp.repulsion = Repulsion::zbl;
  hp.repulsion_radii = {1.5, 1.2};
  return hp;
}

TEST(TorchModel, RepulsionAddsTheZblPairEnergy) {
  // A Si-O dimer 1.1 Å apart: with and without the repulsion the learned part is the same (same seed), and
  // the difference is the pair energy, half on each atom.
  Structure dimer;
  dimer.species = {"Si", "O"};
  dimer.positions = {{0.1, 0.2, 0.3}, {0.1 + 0.6, 0.2 - 0.8, 0.3 + 0.4582575694955840}};  // |d| = 1.1
  dimer.pbc = {false, false, false};
  dimer.source = "dimer";
  FacetModel plain(tiny_hyperparameters(), 13), repelled(with_repulsion(tiny_hyperparameters()), 13);
  const auto a = predict(plain, dimer, true, false), b = predict(repelled, dimer, true, false);
  double pair, derivative;
  ZblPair<double>::make(14, 8, 2.7).evaluate(1.1, pair, derivative);
  ASSERT_GT(pair, 10.0);
  EXPECT_NEAR(b.energy.item<double>() - a.energy.item<double>(), pair, 1e-12 * pair);
  for (int i = 0; i < 2; ++i)
    EXPECT_NEAR(b.atomic_energy[i].item<double>() - a.atomic_energy[i].item<double>(), pair / 2, 1e-12 * pair);
  // The force along the bond changes by -dE/dr: the atoms are pushed apart.
  const auto df = (b.forces - a.forces)[1];
  const double along = (df[0] * 0.6 - df[1] * 0.8 + df[2] * 0.4582575694955840).item<double>() / 1.1;
  EXPECT_NEAR(along, -derivative, 1e-10 * std::abs(derivative));
}

TEST(TorchModel, ForcesAndStressWithRepulsionAreDerivatives) {
  FacetModel model(with_repulsion(tiny_hyperparameters()), 5);
  FacetModel plain(tiny_hyperparameters(), 5);
  const Structure s = rattled_diamond(3);
  const auto p = predict(model, s);
  // The repulsion really contributes here (else the check would not cover it).
  ASSERT_GT((p.forces - predict(plain, s).forces).abs().max().item<double>(), 1e-2);
  // Bounds as in ForcesAreMinusEnergyGradient and StressIsStrainDerivative.
  EXPECT_LT(max_force_error(model, s, p.forces), 1e-8 * std::max(1.0, p.forces.abs().max().item<double>()));
  EXPECT_LT(max_stress_error(model, s, p.stress[0]), 1e-9);
}

TEST(TorchModel, TranslationPermutationAndImageInvariance) {
  FacetModel model(tiny_hyperparameters(), 11);
  const Structure s = rattled_diamond(1);
  const auto ref = predict(model, s);
  const double e0 = ref.energy.item<double>();
  ASSERT_GT(std::abs(e0), 1e-3);  // a trivially zero energy would make the checks vacuous

  Structure moved = s;
  for (auto& p : moved.positions) p = {p[0] + 0.37, p[1] - 1.21, p[2] + 2.9};
  EXPECT_LT(relative(energy(model, moved), e0), 1e-12);

  // Permutation: energies equal, forces permuted.
  Structure perm = s;
  const std::vector<int> order = {5, 2, 7, 0, 3, 6, 1, 4};
  for (int i = 0; i < 8; ++i) {
    perm.positions[i] = s.positions[order[i]];
    perm.species[i] = s.species[order[i]];
  }
  const auto p = predict(model, perm);
  EXPECT_LT(relative(p.energy.item<double>(), e0), 1e-12);
  EXPECT_LT((p.forces - ref.forces.index_select(0, torch::tensor(std::vector<int64_t>(order.begin(), order.end()))))
                .abs().max().item<double>(), 1e-12);

  // Periodic images: moving atoms by lattice vectors changes nothing.
  Structure imaged = s;
  for (int k = 0; k < 3; ++k) imaged.positions[2][k] += s.cell[0][k] - 2 * s.cell[2][k];
  for (int k = 0; k < 3; ++k) imaged.positions[5][k] -= s.cell[1][k];
  const auto q = predict(model, imaged);
  EXPECT_LT(relative(q.energy.item<double>(), e0), 1e-12);
  EXPECT_LT((q.forces - ref.forces).abs().max().item<double>(), 1e-12);
  EXPECT_LT((q.stress - ref.stress).abs().max().item<double>(), 1e-13);
  // Newton's third law: forces sum to zero.
  EXPECT_LT(ref.forces.sum(0).abs().max().item<double>(), 1e-12);
}

TEST(TorchModel, InversionInvariantOnSymmetricGrid) {
  // Features have natural parity and the default grid (n_phi even) is symmetric under u -> -u, so the
  // energy is exactly invariant under inversion of all positions (a mirror image up to a rotation).
  FacetModel model(tiny_hyperparameters(), 3);
  const Structure s = rattled_diamond(2);
  Structure inverted = s;
  for (auto& p : inverted.positions) p = {-p[0], -p[1], -p[2]};
  for (auto& a : inverted.cell) a = {-a[0], -a[1], -a[2]};
  EXPECT_LT(relative(energy(model, inverted), energy(model, s)), 1e-12);
}

TEST(TorchModel, ForcesAreMinusEnergyGradient) {
  FacetModel model(tiny_hyperparameters(), 5);
  const Structure s = rattled_diamond(3);
  const auto forces = predict(model, s).forces;
  // Central differences: truncation ~h^2 |E'''| ~ 1e-10, round-off ~1e-16 |E| / h ~ 1e-11.
  EXPECT_LT(max_force_error(model, s, forces), 1e-8 * std::max(1.0, forces.abs().max().item<double>()));
}

TEST(TorchModel, StressIsStrainDerivative) {
  FacetModel model(tiny_hyperparameters(), 7);
  const Structure s = rattled_diamond(4);
  const auto stress = predict(model, s).stress[0];
  EXPECT_LT(max_stress_error(model, s, stress), 1e-9);
  EXPECT_LT((stress - stress.t()).abs().max().item<double>(), 1e-12);  // invariance makes it symmetric
}

TEST(TorchModel, GauntEqualsCgWithGammaWeightedRadials) {
  // G(l1,l2,l3) = gamma C(l1,l2,l3): a cg model whose per-path radial functions are gamma-weighted copies
  // of a gaunt model's per-l_edge radial functions computes the same energy.
  const auto hp_g = tiny_hyperparameters(TensorProduct::gaunt);
  FacetModel gaunt_model(hp_g, 13);
  Potential pot = gaunt_model->to_potential();
  pot.hyper.tensor_product = TensorProduct::cg;
  const auto paths = coupling_paths(pot.hyper.l_max, pot.hyper.l_edge);
  for (int t = 0; t < pot.hyper.layers; ++t) {
    const std::string name = "layer" + std::to_string(t) + ".radial";
    const Array gaunt_radial = pot.array(name);
    const int64_t per_function = gaunt_radial.shape[1] * gaunt_radial.shape[2];
    Array cg_radial;
    cg_radial.shape = {static_cast<int64_t>(paths.size()), gaunt_radial.shape[1], gaunt_radial.shape[2]};
    for (const auto& p : paths) {
      const CouplingTensor G = gaunt(p.l_in, p.l_edge, p.l_out), C = clebsch_gordan(p.l_in, p.l_edge, p.l_out);
      const double gamma = G(p.l_in, p.l_edge, p.l_out) / C(p.l_in, p.l_edge, p.l_out);  // m1 = m2 = m3 = 0
      for (int64_t v = 0; v < per_function; ++v)
        cg_radial.values.push_back(gamma * gaunt_radial.values[p.l_edge * per_function + v]);
    }
    pot.arrays[name] = cg_radial;
  }
  FacetModel cg_model(pot);
  const Structure s = rattled_diamond(5);
  EXPECT_LT(relative(energy(cg_model, s), energy(gaunt_model, s)), 1e-12);
}

TEST(TorchModel, GridMlpRotationErrorFallsWithGridSize) {
  // The only approximately equivariant step: measure the energy's rotation error against the grid.
  FacetModel base(tiny_hyperparameters(), 17);
  const Potential pot = base->to_potential();
  const Structure s = rattled_diamond(6);
  std::mt19937 rng(99);
  std::vector<std::array<std::array<double, 3>, 3>> rotations;
  for (int k = 0; k < 8; ++k) rotations.push_back(random_rotation(rng));
  const std::vector<std::pair<int, int>> grids = {{3, 6}, {6, 12}, {12, 24}, {24, 48}};
  std::vector<double> errors;
  for (const auto& [nt, np] : grids) {
    Potential p = pot;
    p.hyper.grid_theta = nt;
    p.hyper.grid_phi = np;
    FacetModel model(p);
    const double e0 = energy(model, s);
    double err = 0;
    for (const auto& R : rotations) err = std::max(err, relative(energy(model, rotated(s, R)), e0));
    errors.push_back(err);
    std::cout << "grid " << nt << "x" << np << ": max relative rotation error of E = " << err << "\n";
  }
  for (size_t k = 1; k < errors.size(); ++k) EXPECT_LT(errors[k], errors[k - 1]);
  EXPECT_LT(errors[2], 1e-4);  // the default grid 12 x 24
}

TEST(TorchModel, PotentialRoundTripGivesIdenticalPredictions) {
  FacetModel model(tiny_hyperparameters(TensorProduct::cg), 19);
  const Potential pot = parse_potential(format_potential(model->to_potential({{"note", "test"}})), "mem");
  FacetModel loaded(pot);
  const Structure s = rattled_diamond(7);
  const auto a = predict(model, s), b = predict(loaded, s);
  EXPECT_TRUE(torch::equal(a.energy, b.energy));
  EXPECT_TRUE(torch::equal(a.forces, b.forces));
  EXPECT_TRUE(torch::equal(a.stress, b.stress));
}
