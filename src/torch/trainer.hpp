// The trainer behind `facet-train` and the evaluator behind `facet-eval` (docs/trainer.md). This header has
// no Torch in it, so the tools and the tests that use it compile quickly; trainer.cpp holds the LibTorch part.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "model/extxyz.hpp"
#include "model/potential.hpp"
#include "model/structure.hpp"

namespace facet {

// A bad command line: the message names the flag.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Root-mean-square errors of predictions against the labels of the same frames (NaN where no label).
struct Metrics {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  size_t frames = 0, energy_labels = 0, force_components = 0, stress_labels = 0;
  double energy_rmse = kNone;  // of (E_pred - E) / N_atoms, eV/atom
  double forces_rmse = kNone;  // over force components, eV/Å
  double stress_rmse = kNone;  // over the 9 stress components, eV/Å^3
};

struct LossWeights {
  double energy = 1.0, forces = 10.0, stress = 100.0;
  // --config-type-weight: a factor on all three terms of the frames of a config_type (others: 1); training only
  std::map<std::string, double> config_type;
};

// `predicted` holds the same frames as `reference` with model labels (from predict()).
Metrics compare(const std::vector<Structure>& predicted, const std::vector<Structure>& reference);
// The same per category: per value of the frames' `config_type` (the extended-XYZ key of ASE, MACE and
// NequIP data sets), in order of first appearance, frames without one as "(none)". Empty when the frames
// have fewer than two categories.
std::vector<std::pair<std::string, Metrics>> compare_by_config_type(const std::vector<Structure>& predicted,
                                                                    const std::vector<Structure>& reference);
// Those as a table, one row per category (nothing when there are none).
std::string config_type_table(const std::vector<std::pair<std::string, Metrics>>& rows);
// The training loss of docs/trainer.md on `frames` as one batch (config_type factors included).
double training_loss(const Potential& potential, const std::vector<Structure>& frames, const LossWeights& w);
// The training loss of docs/trainer.md evaluated from RMSEs: sum of weight * RMSE^2 over present terms.
double weighted_loss(const Metrics& m, const LossWeights& w);

// The frames with energy, forces and (for periodic frames) stress replaced by the potential's predictions.
// Each frame is evaluated alone, so its result does not depend on the other frames; facet-train reports
// exactly these numbers.
std::vector<Structure> predict(const Potential& potential, const std::vector<Structure>& frames);

// Element symbols present in the frames, sorted by atomic number.
std::vector<std::string> elements_of(const std::vector<Structure>& frames);

// What the model learns from the training data before the first step (docs/trainer.md).
struct Normalization {
  double avg_num_neighbors = 1.0;
  double energy_scale = 1.0;
  std::vector<double> atomic_energies;
  std::vector<std::string> notes;  // e.g. that a ridge term was needed; printed and stored as meta
};
// Least squares of the total energies (less `offsets[k]` of frame k, when given) on the element counts (normal
// equations, with a tiny ridge term when they are singular, which `note` then explains). Frames without an
// energy are skipped.
std::vector<double> fit_atomic_energies(const std::vector<Structure>& frames, const std::vector<std::string>& elements,
                                        std::string* note = nullptr, const std::vector<double>& offsets = {});
// How energy_scale follows from the training forces: the RMS of all force components, or the median over the
// frames of each frame's RMS force component, which a few frames of very large forces do not set.
enum class EnergyScaleRule { rms_force, median_frame_force };
// avg_num_neighbors, atomic energies and energy_scale for a model with hp's elements, r_cut and repulsion
// (the atomic energies are fitted to what the repulsion leaves of the energies).
Normalization normalization_from_data(const std::vector<Structure>& frames, const ModelHyperparameters& hp,
                                      EnergyScaleRule rule = EnergyScaleRule::rms_force);
// The short-range repulsion energy of a structure under hp (0 without repulsion).
double repulsion_energy(const Structure& s, const ModelHyperparameters& hp);
// hp.repulsion_radii for hp.repulsion: the covalent radii of hp.elements for zbl; throws UsageError naming an
// element without a tabulated radius.
std::vector<double> default_repulsion_radii(const ModelHyperparameters& hp);

struct TrainOptions {
  std::vector<std::string> train_files;
  std::string valid_file, test_file;
  double valid_fraction = 0.1;
  ExtxyzKeys keys;
  std::vector<std::string> elements;  // empty: from the data
  ModelHyperparameters hyper;         // the fields not learned from the data
  LossWeights weights;
  // --valid-weights: the energy, force and stress weights of the validation loss, which picks the best epoch and
  // drives the learning-rate schedule, early stopping and the divergence check (default: those of `weights`)
  std::optional<LossWeights> valid_weights;
  double lr = 5e-3, lr_factor = 0.5, min_lr = 1e-5, ema_decay = 0.99, clip_grad = 0.0;
  // --radial-smoothness: weight of the curvature penalty on the radial spline coefficients (radial_curvature)
  double radial_smoothness = 0.0;
  // An epoch whose validation loss exceeds restart_factor x the best so far (or whose training loss is not finite)
  // has diverged: training goes on from the best weights with a fresh optimiser at lr x lr_factor. 0 = off.
  double restart_factor = 10.0;
  int batch_size = 4, epochs = 200, lr_patience = 10, patience = 40;
  uint64_t seed = 1;
  int threads = 1;  // 1: the same bits on every machine (docs/trainer.md, "Determinism")
  std::string output = "potential.facet", log, plots, checkpoint;  // log, plots: defaults derived from output
  std::string init;  // --init FILE: start from this potential's weights, hyperparameters and normalisation
  // --grow l_max=N / layers=N: enlarge the --init model so that it computes the same function (grow_potential)
  std::optional<int> grow_l_max, grow_layers;
  bool repulsion_given = false;  // --repulsion: applies to an --init model too (the term has no weights)
  EnergyScaleRule energy_scale = EnergyScaleRule::rms_force;  // --energy-scale (not used with --init)
  bool resume = false, make_plots = true;
  std::string command_line;  // stored as provenance
};

// One row of the CSV log. RMSEs in eV units here; the log and stdout print meV.
struct EpochRecord {
  int epoch = 0;
  double train_loss = 0, valid_loss = 0, energy_rmse = 0, forces_rmse = 0, stress_rmse = 0, lr = 0,
         elapsed = 0, eta = 0;
};

struct TrainResult {
  Potential potential;           // as written (best-validation EMA weights, with meta)
  Metrics valid;                 // of `potential` on the validation frames
  std::optional<Metrics> test;   // of `potential` on --test
  std::vector<EpochRecord> history;
  int best_epoch = 0;
  std::vector<Structure> valid_frames;  // the validation set in evaluation order
};

// The mean squared second difference of the radial spline coefficients theta_{b-1} - 2 theta_b + theta_{b+1} over
// every layer, radial function and channel: on uniform knots h^2 times the second derivative of the spline, the
// curvature penalty of spline potentials (UF3), which --radial-smoothness W adds to the training loss times W.
double radial_curvature(const Potential& potential);

// Trains, writes the potential (and log, plots, checkpoints); progress goes to `out`.
TrainResult train(const TrainOptions& options, std::ostream& out);

// Command lines (args without the program name). parse_* throw UsageError.
TrainOptions parse_train_args(const std::vector<std::string>& args);
// Whole programs: return the exit status, print errors to `err`.
int train_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int eval_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// at::set_num_threads for n > 0 (LibTorch's intra-op threads); n <= 0 keeps LibTorch's default.
void set_num_threads(int n);

// Recomputes the checksum line of a (hand-edited) potential file in place; throws if the result does not read.
void rehash_potential(const std::string& path);

}  // namespace facet
