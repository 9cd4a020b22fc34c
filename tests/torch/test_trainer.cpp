// facet-train and facet-eval: learning on analytic data, determinism and resume, the normalisation learned from
// the data, agreement of the trainer's metrics with facet-eval's, and the error messages for bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/zbl.hpp"
#include "model/neighbors.hpp"
#include "torch/model.hpp"
#include "torch/trainer.hpp"

using namespace facet;
namespace fs = std::filesystem;

namespace {

// Reference data: a two-element Morse pair potential, shifted-force cut off at kPairCut (value and slope vanish
// there), plus per-element offsets E0, so that the trainer's least squares has something to find.
constexpr double kPairCut = 4.0;
const std::map<std::string, double> kE0 = {{"Si", -1.5}, {"Ge", -1.2}};

struct Morse {
  double D, a, r0;
  double value(double r) const { const double e = std::exp(-a * (r - r0)); return D * ((1 - e) * (1 - e) - 1); }
  double slope(double r) const { const double e = std::exp(-a * (r - r0)); return 2 * D * a * e * (1 - e); }
};

Morse morse(const std::string& x, const std::string& y) {
  if (x != y) return {0.35, 1.55, 2.40};
  return x == "Si" ? Morse{0.30, 1.6, 2.35} : Morse{0.25, 1.5, 2.45};
}

// E = sum_i E0_i + 1/2 sum_edges phi(r); F_i = sum_{edges i->j} phi'(r) r_ij / r; sigma = 1/(2V) sum phi' r r^T / r.
void label(Structure& s) {
  const NeighborList nl = build_neighbor_list(s, kPairCut);
  double energy = 0;
  for (const auto& e : s.species) energy += kE0.at(e);
  s.forces.assign(s.size(), {0, 0, 0});
  std::array<double, 9> stress{};
  for (size_t k = 0; k < nl.size(); ++k) {
    const int i = nl.first[k], j = nl.second[k];
    double r[3], len = 0;
    for (int a = 0; a < 3; ++a) {
      r[a] = s.positions[j][a] - s.positions[i][a];
      for (int b = 0; b < 3; ++b) r[a] += nl.shift[k][b] * s.cell[b][a];
      len += r[a] * r[a];
    }
    len = std::sqrt(len);
    const Morse m = morse(s.species[i], s.species[j]);
    energy += 0.5 * (m.value(len) - m.value(kPairCut) - (len - kPairCut) * m.slope(kPairCut));
    const double g = m.slope(len) - m.slope(kPairCut);
    for (int a = 0; a < 3; ++a) {
      s.forces[i][a] += g * r[a] / len;
      for (int b = 0; b < 3; ++b) stress[3 * a + b] += 0.5 * g * r[a] * r[b] / len;
    }
  }
  for (double& v : stress) v /= s.volume();
  s.energy = energy;
  s.stress = stress;
}

// A periodic, slightly triclinic cell of n atoms about 13 Å^3 each, no two closer than 2 Å.
Structure random_cell(std::mt19937_64& rng, int n) {
  std::uniform_real_distribution<double> u(0, 1);
  for (;;) {
    Structure s;
    s.pbc = {true, true, true};
    s.source = "generated";
    const double a = std::cbrt(n * (12.0 + 3.0 * u(rng)));
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 3; ++k) s.cell[i][k] = (i == k ? a : 0.0) + 0.08 * a * (u(rng) - 0.5);
    for (int tries = 0; tries < 500 && static_cast<int>(s.size()) < n; ++tries) {
      const double f[3] = {u(rng), u(rng), u(rng)};
      std::array<double, 3> x{};
      for (int k = 0; k < 3; ++k) x[k] = f[0] * s.cell[0][k] + f[1] * s.cell[1][k] + f[2] * s.cell[2][k];
      s.species.push_back(u(rng) < 0.5 ? "Si" : "Ge");
      s.positions.push_back(x);
      if (build_neighbor_list(s, 2.0).size() > 0) s.species.pop_back(), s.positions.pop_back();
    }
    if (static_cast<int>(s.size()) == n) {
      label(s);
      return s;
    }
  }
}

std::vector<Structure> data_set(int frames, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Structure> out;
  for (int k = 0; k < frames; ++k) out.push_back(random_cell(rng, 2 + static_cast<int>(rng() % 7)));
  return out;
}

void write_frames(const fs::path& path, const std::vector<Structure>& frames) {
  std::ofstream out(path);
  for (const auto& s : frames) write_extxyz(out, s);
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("facet_trainer_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A model small enough to train in seconds on one core.
TrainOptions tiny_options(const fs::path& dir) {
  TrainOptions o;
  auto& h = o.hyper;
  h.r_cut = kPairCut;
  h.l_max = 1, h.l_edge = 1, h.channels = 6, h.layers = 1, h.radial_basis = 8;
  h.grid_channels = 4, h.grid_hidden = 8, h.grid_theta = 4, h.grid_phi = 8, h.readout_hidden = 8;
  o.batch_size = 4, o.epochs = 4, o.lr = 1e-2, o.seed = 7, o.threads = 1, o.make_plots = false;
  o.output = (dir / "model.facet").string();
  return o;
}

// The same, training on `frames`, written to dir/train.xyz.
TrainOptions tiny_options(const fs::path& dir, const std::vector<Structure>& frames) {
  write_frames(dir / "train.xyz", frames);
  TrainOptions o = tiny_options(dir);
  o.train_files = {(dir / "train.xyz").string()};
  return o;
}

double rms_forces(const std::vector<Structure>& frames) {
  double sum = 0, n = 0;
  for (const auto& s : frames)
    for (const auto& f : s.forces)
      for (double v : f) sum += v * v, n += 1;
  return std::sqrt(sum / n);
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(TrainerData, PairLabelsAreDerivativesOfTheEnergy) {
  // The learning test is only as good as its labels: check forces and stress by central differences.
  std::mt19937_64 rng(3);
  const Structure s = random_cell(rng, 5);
  auto energy = [](Structure t) { label(t); return *t.energy; };
  const double h = 1e-5;
  double err = 0;
  for (int a = 0; a < 3; ++a) {
    Structure p = s, m = s;
    p.positions[1][a] += h, m.positions[1][a] -= h;
    err = std::max(err, std::abs(-(energy(p) - energy(m)) / (2 * h) - s.forces[1][a]));
    for (int b = 0; b < 3; ++b) {
      auto strained = [&](double eps) {
        Structure t = s;
        for (auto& x : t.positions) x[b] += eps * x[a];
        for (auto& c : t.cell) c[b] += eps * c[a];
        return energy(t);
      };
      err = std::max(err, std::abs((strained(h) - strained(-h)) / (2 * h) / s.volume() - (*s.stress)[3 * a + b]));
    }
  }
  EXPECT_LT(err, 1e-7);
}

TEST(TrainerNormalization, AtomicEnergiesRecoverKnownOffsets) {
  const std::vector<std::string> elements = {"H", "O", "Si"};
  const double E0[3] = {-13.6, -432.1, -107.25};
  std::mt19937_64 rng(5);
  std::vector<Structure> frames(12);
  for (auto& s : frames) {
    s.energy = 0.0;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 9); ++k) {
      const int z = static_cast<int>(rng() % 3);
      s.species.push_back(elements[z]);
      *s.energy += E0[z];
    }
  }
  std::string note;
  const auto fit = fit_atomic_energies(frames, elements, &note);
  for (int z = 0; z < 3; ++z) EXPECT_NEAR(fit[z], E0[z], 1e-10) << elements[z];
  EXPECT_EQ(note, "");

  // SiO2 only: the counts fix E0_Si + 2 E0_O but not each; the ridge keeps it solvable and says so.
  std::vector<Structure> silica(4);
  for (size_t k = 0; k < silica.size(); ++k) {
    for (size_t u = 0; u <= k; ++u) silica[k].species.insert(silica[k].species.end(), {"Si", "O", "O"});
    silica[k].energy = -20.0 * double(k + 1);
  }
  const auto ridge = fit_atomic_energies(silica, {"O", "Si"}, &note);
  EXPECT_NE(note.find("ridge"), std::string::npos) << note;
  EXPECT_NEAR(ridge[1] + 2 * ridge[0], -20.0, 1e-6);
}

TEST(TrainerNormalization, NeighboursAndScaleFromTheData) {
  Structure s;  // simple cubic, a = 2.5: 6 neighbours within 3.0 Å
  s.species = {"Si"};
  s.positions = {{0, 0, 0}};
  s.cell = {{{2.5, 0, 0}, {0, 2.5, 0}, {0, 0, 2.5}}};
  s.pbc = {true, true, true};
  s.energy = -4.0;
  s.forces = {{0.3, -0.4, 0.0}};
  ModelHyperparameters hp;
  hp.elements = {"Si"};
  hp.r_cut = 3.0;
  const Normalization n = normalization_from_data({s}, hp);
  EXPECT_DOUBLE_EQ(n.avg_num_neighbors, 6.0);
  EXPECT_DOUBLE_EQ(n.energy_scale, std::sqrt(0.25 / 3));  // RMS of the force components
  EXPECT_DOUBLE_EQ(n.atomic_energies[0], -4.0);
}

TEST(TrainerNormalization, MedianFrameForceScaleIgnoresAFewLargeForces) {
  // Three one-atom frames with RMS force components 0.1, 0.2 and 10: the RMS over all components is set by the
  // outlier, the median frame is not; with a fourth frame (0.3) the median is the mean of the middle two.
  auto frame = [](double rms) {
    Structure s;
    s.species = {"Si"};
    s.positions = {{0, 0, 0}};
    s.cell = {{{2.5, 0, 0}, {0, 2.5, 0}, {0, 0, 2.5}}};
    s.pbc = {true, true, true};
    s.energy = -4.0;
    s.forces = {{rms, -rms, rms}};
    return s;
  };
  ModelHyperparameters hp;
  hp.elements = {"Si"};
  hp.r_cut = 3.0;
  std::vector<Structure> frames = {frame(10.0), frame(0.1), frame(0.2)};
  EXPECT_NEAR(normalization_from_data(frames, hp).energy_scale, std::sqrt((100.0 + 0.01 + 0.04) / 3), 1e-14);
  EXPECT_NEAR(normalization_from_data(frames, hp, EnergyScaleRule::median_frame_force).energy_scale, 0.2, 1e-15);
  frames.push_back(frame(0.3));
  EXPECT_NEAR(normalization_from_data(frames, hp, EnergyScaleRule::median_frame_force).energy_scale, 0.25, 1e-15);
}

TEST(TrainerNormalization, AtomicEnergiesAreFittedToWhatTheRepulsionLeaves) {
  // Two Si atoms 1.5 Å apart in a large cubic box: the repulsion energy is one ZBL pair (Si-Si switched off at
  // 2 x 1.11 Å); E0 = (E - E_rep) / 2.
  Structure s;
  s.species = {"Si", "Si"};
  s.positions = {{1, 1, 1}, {1, 1, 2.5}};
  s.cell = {{{12, 0, 0}, {0, 12, 0}, {0, 0, 12}}};
  s.pbc = {true, true, true};
  s.energy = -7.0;
  ModelHyperparameters hp;
  hp.elements = {"Si"};
  hp.r_cut = 5.0;
  EXPECT_EQ(repulsion_energy(s, hp), 0.0);
  hp.repulsion = Repulsion::zbl;
  hp.repulsion_radii = default_repulsion_radii(hp);
  ASSERT_EQ(hp.repulsion_radii, std::vector<double>{1.11});
  double pair, derivative;
  ZblPair<double>::make(14, 14, 2.22).evaluate(1.5, pair, derivative);
  ASSERT_GT(pair, 1.0);
  EXPECT_NEAR(repulsion_energy(s, hp), pair, 1e-13 * pair);
  EXPECT_NEAR(normalization_from_data({s}, hp).atomic_energies[0], (-7.0 - pair) / 2, 1e-12);
}

TEST(Trainer, RepulsionFlagBuildsAndExtendsModels) {
  const fs::path dir = fresh_dir("repulsion");
  TrainOptions o = tiny_options(dir, data_set(8, 51));
  o.valid_fraction = 0.25;
  o.epochs = 1;
  o.output = (dir / "plain.facet").string();
  std::ostringstream quiet;
  train(o, quiet);
  EXPECT_EQ(read_potential(o.output).hyper.repulsion, Repulsion::none);

  // --repulsion zbl with --init: the file's weights and normalisation, the term added with covalent radii.
  TrainOptions i = tiny_options(dir);
  i.train_files = o.train_files;
  i.valid_fraction = 0.25;
  i.init = o.output;
  i.epochs = 1;
  i = parse_train_args({"--train", o.train_files[0], "--init", o.output, "--repulsion", "zbl", "--epochs", "1",
                        "--output", (dir / "zbl.facet").string(), "--no-plots", "--valid-fraction", "0.25"});
  std::ostringstream log;
  train(i, log);
  EXPECT_NE(log.str().find("repulsion zbl, radii Si 1.11 Ge 1.20 Å"), std::string::npos) << log.str();
  const Potential plain = read_potential(o.output), zbl = read_potential(i.output);
  EXPECT_EQ(zbl.hyper.repulsion, Repulsion::zbl);
  EXPECT_EQ(zbl.hyper.repulsion_radii, (std::vector<double>{1.11, 1.20}));
  EXPECT_EQ(zbl.hyper.atomic_energies, plain.hyper.atomic_energies);

  std::ostringstream out, err;
  EXPECT_EQ(train_main({"--train", "t.xyz", "--repulsion", "lj"}, out, err), 2);
  EXPECT_NE(err.str().find("--repulsion: 'lj'"), std::string::npos) << err.str();
}

// --config-type-weight multiplies every loss term of a frame of that config_type. Two frames of equal size in one
// batch: each term is a mean over both, so each frame's loss enters with 1/2 (energies per structure, forces per
// component, stress per component alike) and its factor.
TEST(Trainer, ConfigTypeWeightsScaleTheLossOfTheirFrames) {
  std::mt19937_64 rng(5);
  Structure a = random_cell(rng, 5), b = random_cell(rng, 5);
  a.info["config_type"] = "a", b.info["config_type"] = "b";
  TrainOptions o = tiny_options(fresh_dir("config_type"));
  o.hyper.elements = {"Si", "Ge"};
  o.hyper.atomic_energies = {-1.5, -1.2};
  const Potential pot = FacetModel(o.hyper, 3)->to_potential();
  LossWeights w;
  w.energy = 1, w.forces = 10, w.stress = 100;
  const double loss_a = training_loss(pot, {a}, w), loss_b = training_loss(pot, {b}, w);
  const double both = training_loss(pot, {a, b}, w);
  ASSERT_GT(loss_a, 0);
  ASSERT_GT(std::abs(loss_a - loss_b), 0.1 * loss_a);  // different frames, so the factors are told apart
  EXPECT_NEAR(both, 0.5 * (loss_a + loss_b), 1e-10 * both);
  w.config_type = {{"a", 3.0}};
  EXPECT_NEAR(training_loss(pot, {a, b}, w), 0.5 * (3 * loss_a + loss_b), 1e-10 * both);
  w.config_type = {{"a", 0.0}, {"b", 2.0}};
  EXPECT_NEAR(training_loss(pot, {a, b}, w), loss_b, 1e-10 * both);
  w.config_type = {{"c", 5.0}};  // no frame of that type: nothing changes
  EXPECT_NEAR(training_loss(pot, {a, b}, w), both, 1e-10 * both);

  // facet-train names a type that no training frame has (a typo would otherwise weigh nothing, silently).
  const fs::path dir = fresh_dir("config_type_train");
  write_frames(dir / "train.xyz", {a, b, a, b});
  o.output = (dir / "model.facet").string();
  o.train_files = {(dir / "train.xyz").string()};
  o.valid_fraction = 0.25;
  o.weights.config_type = {{"elastc", 10.0}};
  std::ostringstream out;
  try {
    train(o, out);
    ADD_FAILURE() << "no error for a config_type that no training frame has";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("no training frame has config_type 'elastc'"), std::string::npos) << e.what();
  }
}

TEST(Trainer, LearnsAPairPotential) {
  const fs::path dir = fresh_dir("learn");
  const auto frames = data_set(32, 11);
  TrainOptions o = tiny_options(dir, frames);
  o.valid_fraction = 0.25;
  o.epochs = 40;
  o.lr = 3e-2;
  o.make_plots = true;
  const auto t0 = std::chrono::steady_clock::now();
  const TrainResult r = train(o, std::cout);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const double baseline = rms_forces(r.valid_frames);  // the error of predicting zero forces
  const double first = r.history.front().forces_rmse, last = r.valid.forces_rmse;
  std::cout << "force RMSE: zero-force baseline " << baseline << ", epoch 1 " << first << ", best " << last
            << " eV/A: baseline/best = " << baseline / last << ", epoch1/best = " << first / last << "; " << seconds
            << " s\n";
  EXPECT_GT(baseline / last, 8.0);       // measured 22.0x (40 epochs, seed 7)
  EXPECT_GT(first / last, 4.0);          // measured 10.7x
  EXPECT_LT(r.valid.energy_rmse, 0.03);  // measured 10.7 meV/atom

  // The CSV log and the pictures.
  const std::string log = read_text(dir / "model.csv");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), o.epochs + 1);  // header + one row per epoch
  if (std::system("command -v gnuplot > /dev/null 2>&1") == 0) {
    for (const char* png : {"learning_curve.png", "parity_energy.png", "parity_forces.png", "parity_stress.png"})
      EXPECT_TRUE(fs::exists(dir / "model-plots" / png)) << png;
  }
}

// --valid-weights: the validation loss that picks the best epoch has its own weights (here the forces alone), and a
// run resumed with other ones is refused.
TEST(Trainer, ValidWeightsPickTheBestEpoch) {
  const fs::path dir = fresh_dir("valid_weights");
  TrainOptions o = tiny_options(dir, data_set(12, 31));
  o.valid_fraction = 0.25;
  o.epochs = 8;
  o.lr = 3e-2;
  o.checkpoint = (dir / "ckpt").string();
  LossWeights forces_only;
  forces_only.energy = 0, forces_only.forces = 1, forces_only.stress = 0;
  o.valid_weights = forces_only;
  std::ostringstream quiet;
  const TrainResult r = train(o, quiet);
  ASSERT_EQ(r.history.size(), 8u);
  size_t best = 0;
  for (size_t k = 0; k < r.history.size(); ++k) {
    const auto& e = r.history[k];
    EXPECT_NEAR(e.valid_loss, e.forces_rmse * e.forces_rmse, 1e-12 * e.valid_loss) << "epoch " << e.epoch;
    if (e.forces_rmse < r.history[best].forces_rmse) best = k;
  }
  EXPECT_EQ(r.best_epoch, r.history[best].epoch);
  // The weights of the run make a different loss, so the test above can tell them apart.
  EXPECT_GT(std::abs(weighted_loss(r.valid, o.weights) - r.valid.forces_rmse * r.valid.forces_rmse),
            0.01 * weighted_loss(r.valid, o.weights));

  o.resume = true, o.valid_weights.reset();
  EXPECT_NE(error_of([&] { train(o, quiet); }).find("--valid-weights"), std::string::npos);
}

TEST(Trainer, DeterministicAndResumable) {
  const fs::path dir = fresh_dir("resume");
  write_frames(dir / "train.xyz", data_set(10, 21));
  setenv("SOURCE_DATE_EPOCH", "1700000000", 1);  // pins the date meta line
  TrainOptions o = tiny_options(dir);
  o.train_files = {(dir / "train.xyz").string()};
  o.valid_fraction = 0.2;
  o.batch_size = 3;
  o.epochs = 6;
  o.lr = 3e-2, o.lr_patience = 1;  // epochs 4 and 5 do not improve: the learning rate drops across the resume
  std::ostringstream quiet;

  o.output = (dir / "a.facet").string();
  const TrainResult a = train(o, quiet);
  o.output = (dir / "b.facet").string();
  train(o, quiet);
  EXPECT_EQ(read_text(dir / "a.facet"), read_text(dir / "b.facet"));  // the same command, the same file

  o.output = (dir / "c.facet").string();
  o.checkpoint = (dir / "ckpt").string();
  o.epochs = 4;
  train(o, quiet);
  o.epochs = 6;
  o.resume = true;
  const TrainResult c = train(o, quiet);
  EXPECT_EQ(read_text(dir / "a.facet"), read_text(dir / "c.facet"));  // 4 + 2 epochs give the 6-epoch potential
  EXPECT_LT(a.history.back().lr, o.lr);                                 // the scheduler state was exercised
  ASSERT_EQ(a.history.size(), c.history.size());
  for (size_t k = 0; k < a.history.size(); ++k) {
    EXPECT_EQ(a.history[k].train_loss, c.history[k].train_loss) << "epoch " << k + 1;
    EXPECT_EQ(a.history[k].lr, c.history[k].lr) << "epoch " << k + 1;
  }
  // Resuming a finished run trains no epoch but writes the potential and the whole log again.
  o.output = (dir / "d.facet").string();
  train(o, quiet);
  EXPECT_EQ(read_text(dir / "a.facet"), read_text(dir / "d.facet"));
  EXPECT_EQ(read_text(dir / "c.csv"), read_text(dir / "d.csv"));

  o.batch_size = 2;  // a resume with other settings is refused, naming the setting
  EXPECT_NE(error_of([&] { train(o, quiet); }).find("--batch-size"), std::string::npos);
}

// A learning rate far too large makes the loss explode; with --restart-factor the run goes back to its best weights
// at half the rate each time and still ends with a potential, without it the run is left where it blew up.
TEST(Trainer, GoesOnFromTheBestWeightsAfterADivergence) {
  const fs::path dir = fresh_dir("restart");
  TrainOptions o = tiny_options(dir, data_set(12, 51));
  write_frames(dir / "valid.xyz", data_set(4, 52));
  o.valid_file = (dir / "valid.xyz").string();
  o.epochs = 12, o.lr = 0.5, o.lr_patience = 100;  // only a restart changes the learning rate here
  std::ostringstream log;
  const TrainResult r = train(o, log);
  std::cout << log.str();
  ASSERT_EQ(r.history.size(), size_t(o.epochs));
  int restarts = 0;
  double best = std::numeric_limits<double>::infinity();
  for (size_t k = 0; k + 1 < r.history.size(); ++k) {
    const auto& e = r.history[k];
    const bool diverged = k > 0 && !(e.valid_loss <= o.restart_factor * best);
    // the rate of the next epoch is halved exactly after a divergence, and unchanged otherwise
    EXPECT_EQ(r.history[k + 1].lr, diverged ? 0.5 * e.lr : e.lr) << "epoch " << e.epoch;
    restarts += diverged;
    if (!diverged) best = std::min(best, e.valid_loss);
  }
  EXPECT_GE(restarts, 1) << "the learning rate of this test no longer makes the run diverge";
  const std::string text = log.str();
  size_t lines = 0;
  for (size_t at = text.find("diverged ("); at != std::string::npos; at = text.find("diverged (", at + 1)) ++lines;
  EXPECT_GE(lines, size_t(restarts));  // every restart is reported (the last epoch's too)
  EXPECT_NE(text.find("going on from the best weights (epoch "), std::string::npos) << text;
  // The written potential is the best epoch's, which is never a diverged one.
  EXPECT_LE(r.history[r.best_epoch - 1].valid_loss, best);
  const double zero_force_rmse = rms_forces(r.valid_frames);

  // Off: the same run never restarts and keeps its learning rate.
  o.restart_factor = 0;
  o.output = (dir / "off.facet").string();
  std::ostringstream off_log;
  const TrainResult off = train(o, off_log);
  EXPECT_EQ(off_log.str().find("diverged ("), std::string::npos);
  for (const auto& e : off.history) EXPECT_EQ(e.lr, o.lr);
  std::cout << "best validation force RMSE: with restarts " << r.valid.forces_rmse << " eV/A (" << restarts
            << " restarts), without " << off.valid.forces_rmse << ", predicting zero forces " << zero_force_rmse
            << "\n";
  // Without restarts the run ends as the Si-PBE trials did, in a state that predicts no forces at all (its
  // saturated weights get no gradient: measured 0.740 eV/A, all of the 0.740 of zero forces); with them it learns
  // on (measured 0.398 eV/A after 12 epochs, seed 7).
  EXPECT_LT(r.valid.forces_rmse, 0.7 * off.valid.forces_rmse);
}

TEST(Trainer, InitStartsFromTheWeightsOfAPotential) {
  const fs::path dir = fresh_dir("init");
  TrainOptions o = tiny_options(dir, data_set(10, 41));
  write_frames(dir / "valid.xyz", data_set(5, 42));
  o.valid_file = (dir / "valid.xyz").string();
  o.epochs = 6, o.lr = 3e-2;
  o.output = (dir / "a.facet").string();
  std::ostringstream quiet;
  const TrainResult a = train(o, quiet);
  const Potential pa = read_potential(o.output);

  // One epoch from --init with a vanishing learning rate: the file's shape, normalisation and predictions.
  TrainOptions i = tiny_options(dir);
  i.train_files = o.train_files;
  i.valid_file = o.valid_file;
  i.hyper.channels = 3, i.hyper.r_cut = 3.0;  // model flags are not used with --init
  i.init = o.output;
  i.epochs = 1, i.lr = 1e-14, i.seed = 99;
  i.output = (dir / "b.facet").string();
  std::ostringstream log;
  const TrainResult b = train(i, log);
  EXPECT_NE(log.str().find("initialised from"), std::string::npos) << log.str();
  const Potential pb = read_potential(i.output);
  EXPECT_EQ(pb.hyper, pa.hyper);  // hyperparameters and normalisation (E0, avg_num_neighbors, energy_scale)
  const auto valid = read_extxyz(o.valid_file);
  const auto before = predict(pa, valid), after = predict(pb, valid);
  ASSERT_EQ(before.size(), after.size());
  for (size_t k = 0; k < before.size(); ++k) {
    EXPECT_NEAR(*after[k].energy, *before[k].energy, 1e-9) << "frame " << k;
    for (size_t j = 0; j < before[k].forces.size(); ++j)
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(after[k].forces[j][c], before[k].forces[j][c], 1e-9);
  }
  EXPECT_NEAR(b.history.front().forces_rmse, a.valid.forces_rmse, 1e-9);  // epoch 1 starts where the file was
  EXPECT_NEAR(b.valid.energy_rmse, a.valid.energy_rmse, 1e-9);

  // Elements that contradict the file are refused.
  i.elements = {pa.hyper.elements.rbegin(), pa.hyper.elements.rend()};
  EXPECT_NE(error_of([&] { train(i, quiet); }).find("--elements"), std::string::npos);
}

TEST(Trainer, GrowKeepsTheFunctionAndTrainsTheNewWeights) {
  const fs::path dir = fresh_dir("grow");
  TrainOptions o = tiny_options(dir, data_set(10, 61));
  write_frames(dir / "valid.xyz", data_set(5, 62));
  o.valid_file = (dir / "valid.xyz").string();
  o.output = (dir / "small.facet").string();
  std::ostringstream quiet;
  train(o, quiet);
  const Potential small = read_potential(o.output);
  const int L = small.hyper.l_max, T = small.hyper.layers;

  // One more degree and one more layer: the same energies and forces, to round-off (the new terms are exact
  // zeros, but the grid projections of the larger degree set sum in another order).
  const Potential big = grow_potential(small, L + 1, T + 1, 3);
  EXPECT_EQ(big.hyper.l_max, L + 1);
  EXPECT_EQ(big.hyper.layers, T + 1);
  const auto valid = read_extxyz(o.valid_file);
  const auto before = predict(small, valid), after = predict(big, valid);
  for (size_t k = 0; k < before.size(); ++k) {
    EXPECT_NEAR(*after[k].energy, *before[k].energy, 1e-10 * std::abs(*before[k].energy)) << "frame " << k;
    for (size_t j = 0; j < before[k].forces.size(); ++j)
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(after[k].forces[j][c], before[k].forces[j][c], 1e-10);
  }

  // Trained through --init / --grow, the weights that started at zero learn: the new layer's msg and out, and the
  // kept layer's out for the new degree (the grid MLP's output has every degree; it reaches the energy through the
  // new layer's up). Layer 0 has no message of the new degree (scalar features times l <= l_edge = L harmonics),
  // so its mid and msg there get no gradient, as in a model made that size.
  TrainOptions g = o;
  g.init = o.output;
  g.grow_l_max = L + 1, g.grow_layers = T + 1;
  g.epochs = 1;
  g.output = (dir / "big.facet").string();
  std::ostringstream log;
  train(g, log);
  EXPECT_NE(log.str().find("grown to l_max " + std::to_string(L + 1)), std::string::npos) << log.str();
  const Potential trained = read_potential(g.output);
  EXPECT_EQ(trained.hyper.l_max, L + 1);
  auto max_abs = [&](const std::string& name, int64_t from_degree) {
    const Array& a = trained.array(name);
    const int64_t block = a.size() / a.shape[0];
    double m = 0;
    for (int64_t k = from_degree * block; k < a.size(); ++k) m = std::max(m, std::abs(a.values[k]));
    return m;
  };
  const std::string kept = "layer" + std::to_string(T - 1) + ".", added = "layer" + std::to_string(T) + ".";
  EXPECT_GT(max_abs(added + "msg", 0), 1e-6);
  EXPECT_GT(max_abs(added + "out", 0), 1e-6);
  EXPECT_GT(max_abs(kept + "out", L + 1), 1e-6);

  // What cannot grow is refused with the flag's name.
  EXPECT_NE(error_of([&] { grow_potential(small, L - 1, T, 3); }).find("smaller"), std::string::npos);
  Potential cg = small;
  cg.hyper.tensor_product = TensorProduct::cg;
  EXPECT_NE(error_of([&] { grow_potential(cg, L + 1, T, 3); }).find("gaunt"), std::string::npos);
  g.grow_l_max = L - 1;
  EXPECT_NE(error_of([&] { train(g, quiet); }).find("--grow: " + o.output), std::string::npos);
  EXPECT_NE(error_of([&] { parse_train_args({"--train", "x.xyz", "--grow", "layers=3"}); }).find("needs --init"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_train_args({"--train", "x.xyz", "--init", "a.facet", "--grow", "width=3"}); })
                .find("l_max=N or layers=N"),
            std::string::npos);
}

TEST(Trainer, RadialSmoothnessLowersTheCurvatureOfTheRadialFunctions) {
  const fs::path dir = fresh_dir("smooth");
  TrainOptions o = tiny_options(dir, data_set(10, 71));
  o.epochs = 30, o.lr = 5e-2;  // Adam moves each coefficient by ~lr per step: enough steps to smooth O(1) wiggles
  std::ostringstream quiet;
  const TrainResult plain = train(o, quiet);
  // By hand on one array: theta_b = b^2 has second differences 2 everywhere.
  Potential p = plain.potential;
  for (auto& [name, a] : p.arrays)
    if (name.find(".radial") != std::string::npos)
      for (int64_t k = 0; k < a.size(); ++k) {
        const int64_t b = (k / a.shape[2]) % a.shape[1];
        a.values[k] = double(b * b);
      }
  EXPECT_NEAR(radial_curvature(p), 4.0, 1e-12);

  o.radial_smoothness = 100;
  o.output = (dir / "smooth.facet").string();
  const TrainResult smooth = train(o, quiet);
  // The same seed and data: the penalty alone makes the splines several times smoother.
  EXPECT_LT(radial_curvature(smooth.potential), 0.5 * radial_curvature(plain.potential))
      << radial_curvature(smooth.potential) << " vs " << radial_curvature(plain.potential);
  EXPECT_NE(error_of([&] { parse_train_args({"--train", "x.xyz", "--radial-smoothness", "-1"}); })
                .find("--radial-smoothness"),
            std::string::npos);
}

TEST(Trainer, MetricsEqualFacetEvalOnTheWrittenPotential) {
  const fs::path dir = fresh_dir("eval");
  TrainOptions o = tiny_options(dir, data_set(8, 31));
  write_frames(dir / "valid.xyz", data_set(5, 32));
  o.valid_file = (dir / "valid.xyz").string();
  o.epochs = 2;
  std::ostringstream quiet;
  const TrainResult r = train(o, quiet);

  // The library path of facet-eval: read the file, predict, compare.
  const Potential written = read_potential(o.output);
  const auto valid = read_extxyz((dir / "valid.xyz").string());
  const auto predicted = predict(written, valid);
  const Metrics m = compare(predicted, valid);
  EXPECT_EQ(m.energy_rmse, r.valid.energy_rmse);
  EXPECT_EQ(m.forces_rmse, r.valid.forces_rmse);
  EXPECT_EQ(m.stress_rmse, r.valid.stress_rmse);
  // ... and the epoch line of the best epoch reported the same numbers.
  const EpochRecord& best = r.history.at(r.best_epoch - 1);
  EXPECT_EQ(best.forces_rmse, r.valid.forces_rmse);
  EXPECT_EQ(best.energy_rmse, r.valid.energy_rmse);

  // A frame's prediction does not depend on the frames around it: the validation frames, reversed, amid others.
  std::vector<Structure> mixed = read_extxyz((dir / "train.xyz").string());
  mixed.insert(mixed.begin() + 3, valid.rbegin(), valid.rend());
  const auto mixed_predicted = predict(written, mixed);
  for (size_t k = 0; k < valid.size(); ++k) {
    EXPECT_EQ(mixed_predicted[3 + valid.size() - 1 - k].energy, predicted[k].energy);
    EXPECT_EQ(mixed_predicted[3 + valid.size() - 1 - k].forces, predicted[k].forces);
  }

  // The program: its --output holds exactly those predictions.
  std::ostringstream out, err;
  ASSERT_EQ(eval_main({o.output, (dir / "valid.xyz").string(), "--output", (dir / "pred.xyz").string()}, out, err), 0)
      << err.str();
  const auto from_file = read_extxyz((dir / "pred.xyz").string());
  ASSERT_EQ(from_file.size(), predicted.size());
  for (size_t k = 0; k < from_file.size(); ++k) {
    EXPECT_EQ(from_file[k].energy, predicted[k].energy);
    EXPECT_EQ(from_file[k].forces, predicted[k].forces);
    EXPECT_EQ(from_file[k].stress, predicted[k].stress);
  }
  EXPECT_NE(out.str().find("forces RMSE"), std::string::npos) << out.str();
}

TEST(Metrics, PerConfigTypeSplitsTheFramesByCategory) {
  // Three frames of two categories with known prediction errors: each category's RMSE is that of its own
  // frames, and the categories come in order of first appearance.
  auto frame = [](const char* type, size_t atoms, double energy, double force) {
    Structure s;
    s.species.assign(atoms, "Si");
    s.positions.assign(atoms, {0.0, 0.0, 0.0});
    s.energy = energy;
    s.forces.assign(atoms, {force, 0.0, 0.0});
    if (type) s.info["config_type"] = type;
    return s;
  };
  const std::vector<Structure> reference = {frame("bulk", 2, 1.0, 0.0), frame("surface", 4, 2.0, 0.0),
                                            frame("bulk", 2, 3.0, 0.0)};
  const std::vector<Structure> predicted = {frame("bulk", 2, 1.2, 0.3), frame("surface", 4, 1.0, -0.1),
                                            frame("bulk", 2, 3.0, 0.0)};
  const auto rows = compare_by_config_type(predicted, reference);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].first, "bulk");
  EXPECT_EQ(rows[0].second.frames, 2u);
  EXPECT_NEAR(rows[0].second.energy_rmse, std::sqrt((0.1 * 0.1 + 0.0) / 2), 1e-15);  // 0.2 eV over 2 atoms
  EXPECT_NEAR(rows[0].second.forces_rmse, std::sqrt(2 * 0.09 / 12), 1e-15);           // 2 of 12 components
  EXPECT_EQ(rows[1].first, "surface");
  EXPECT_NEAR(rows[1].second.energy_rmse, 0.25, 1e-15);
  EXPECT_NEAR(rows[1].second.forces_rmse, std::sqrt(4 * 0.01 / 12), 1e-15);
  const std::string table = config_type_table(rows);
  EXPECT_NE(table.find("surface"), std::string::npos) << table;
  EXPECT_NE(table.find("250.000"), std::string::npos) << table;  // meV/atom

  // One category (or none): no breakdown.
  const std::vector<Structure> single = {frame("bulk", 2, 1.0, 0.0), frame(nullptr, 2, 1.0, 0.0)};
  EXPECT_EQ(compare_by_config_type(single, single).size(), 2u);  // "(none)" is a category of its own
  EXPECT_TRUE(compare_by_config_type({reference[0]}, {reference[0]}).empty());
  EXPECT_EQ(config_type_table({}), "");
}

TEST(TrainerCli, BadFlagsAreNamed) {
  auto usage_error = [](std::vector<std::string> args) {
    try {
      parse_train_args(args);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(usage_error({"--train", "t.xyz", "--bogus", "1"}).find("--bogus: unknown flag"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--lr", "fast"}).find("--lr: 'fast'"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--lr=-1"}).find("--lr"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--grid", "12by24"}).find("--grid"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--channels", "0"}).find("--channels"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--tensor-product", "cartesian"}).find("--tensor-product"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--elements", "Si,Xx"}).find("'Xx'"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--energy-scale", "max"}).find("--energy-scale: 'max'"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--config-type-weight", "elastic"}).find("--config-type-weight"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--config-type-weight", "elastic=-1"}).find("W must be >= 0"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--valid-weights", "1,10"}).find("three weights E,F,S"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--valid-weights", "1,-1,0"}).find("--valid-weights: '1,-1,0'"),
            std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--valid-weights", "0,0,0"}).find("at least one positive"), std::string::npos);
  EXPECT_EQ(parse_train_args({"--train", "t.xyz", "--valid-weights", "1000,10,1000"}).valid_weights->stress, 1000.0);
  EXPECT_FALSE(parse_train_args({"--train", "t.xyz"}).valid_weights);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--restart-factor", "0.5"}).find("--restart-factor: '0.5'"), std::string::npos);
  EXPECT_EQ(parse_train_args({"--train", "t.xyz", "--restart-factor", "0"}).restart_factor, 0.0);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--epochs"}).find("--epochs: needs a value"), std::string::npos);
  EXPECT_NE(usage_error({"--lr", "0.01"}).find("--train"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--l-max", "3", "--grid", "3x6"}).find("--grid: grid 3 x 6"), std::string::npos);
  EXPECT_NE(usage_error({"--train", "t.xyz", "--l-max", "9"}).find("--l-max: l_max must be in 0..8"), std::string::npos);

  const TrainOptions o = parse_train_args({"--train", "a.xyz", "--train=b.xyz", "--grid", "8x16", "--seed", "9",
                                           "--elements", "O,Si", "--no-plots"});
  EXPECT_EQ(o.train_files, (std::vector<std::string>{"a.xyz", "b.xyz"}));
  EXPECT_EQ(o.hyper.grid_theta, 8);
  EXPECT_EQ(o.hyper.grid_phi, 16);
  EXPECT_EQ(o.seed, 9u);
  EXPECT_EQ(o.elements, (std::vector<std::string>{"O", "Si"}));
  EXPECT_FALSE(o.make_plots);
  EXPECT_EQ(o.energy_scale, EnergyScaleRule::rms_force);
  EXPECT_EQ(parse_train_args({"--train", "a.xyz", "--config-type-weight", "elastic=10", "--config-type-weight", "x=y=0.5"})
                .weights.config_type,
            (std::map<std::string, double>{{"elastic", 10.0}, {"x=y", 0.5}}));
  EXPECT_EQ(parse_train_args({"--train", "a.xyz", "--energy-scale", "median"}).energy_scale,
            EnergyScaleRule::median_frame_force);

  std::ostringstream out, err;
  EXPECT_EQ(train_main({"--train", "t.xyz", "--batch-size", "many"}, out, err), 2);
  EXPECT_NE(err.str().find("--batch-size"), std::string::npos) << err.str();
  EXPECT_EQ(eval_main({"only-one-argument"}, out, err), 2);
}

TEST(TrainerCli, BadDataIsNamedByFileAndLine) {
  const fs::path dir = fresh_dir("baddata");
  TrainOptions o = tiny_options(dir);
  std::ostringstream quiet;
  auto train_on = [&](const std::string& name, const std::string& text) {
    write_text(dir / name, text);
    o.train_files = {(dir / name).string()};
    return error_of([&] { train(o, quiet); });
  };
  const std::string good =
      "1\nLattice=\"3 0 0 0 3 0 0 0 3\" Properties=species:S:1:pos:R:3 energy=-1.0\nSi 0 0 0\n";
  EXPECT_NE(train_on("bad.xyz", good + "2\nenergy=-1\nSi 0 0 0\nSi 1 1\n").find("bad.xyz:7:"), std::string::npos);
  EXPECT_NE(train_on("empty.xyz", "").find("empty.xyz: no frames"), std::string::npos);
  const std::string unlabelled = train_on("nolabel.xyz", good + good + "1\nLattice=\"3 0 0 0 3 0 0 0 3\"\nSi 0 0 0\n");
  EXPECT_NE(unlabelled.find("nolabel.xyz:7: frame has no energy, forces or stress label"), std::string::npos)
      << unlabelled;
  o.elements = {"Si"};
  const std::string ge = good + "1\nLattice=\"3 0 0 0 3 0 0 0 3\" energy=-2\nGe 0 0 0\n";
  EXPECT_NE(train_on("ge.xyz", ge + ge).find("ge.xyz:4: element 'Ge'"), std::string::npos);
}

TEST(FacetEval, RehashBlessesAHandEditedFile) {
  const fs::path dir = fresh_dir("rehash");
  Potential p;  // zero weights: the energy is the sum of the atomic energies
  p.hyper.elements = {"Si"};
  p.hyper.channels = 2, p.hyper.layers = 1, p.hyper.grid_channels = 2, p.hyper.grid_hidden = 2;
  p.hyper.readout_hidden = 2, p.hyper.atomic_energies = {-4.5};
  for (const auto& [name, shape] : expected_arrays(p.hyper)) {
    Array a;
    a.shape = shape;
    a.values.assign(a.size(), 0.0);
    p.arrays[name] = a;
  }
  const fs::path file = dir / "si.facet";
  write_potential(p, file.string());
  std::string text = read_text(file);
  text.replace(text.find("atomic_energies -4.5"), 20, "atomic_energies -4.7");
  write_text(file, text);
  EXPECT_NE(error_of([&] { read_potential(file.string()); }).find("checksum mismatch"), std::string::npos);

  std::ostringstream out, err;
  ASSERT_EQ(eval_main({"--rehash", file.string()}, out, err), 0) << err.str();
  EXPECT_EQ(read_potential(file.string()).hyper.atomic_energies, std::vector<double>{-4.7});

  write_text(dir / "two.xyz", "2\nLattice=\"4 0 0 0 4 0 0 0 4\" energy=-9.0\nSi 0 0 0\nSi 2 2 2\n");
  ASSERT_EQ(eval_main({file.string(), (dir / "two.xyz").string(), "--per-frame"}, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("energy RMSE 200 meV/atom"), std::string::npos) << out.str();  // (-9.4 + 9.0) / 2 atoms
}
