// facet-train's LibTorch part: normalisation from the data, the loss, Adam + EMA + reduce-on-plateau, the
// checkpoint, and evaluation (shared with facet-eval so that both report the same numbers).
#include "torch/trainer.hpp"

#include "model/elements.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "core/zbl.hpp"
#include "model/neighbors.hpp"
#include "torch/model.hpp"
#include "torch/plots.hpp"

#ifndef FACET_VERSION
#define FACET_VERSION "unknown"
#endif

namespace facet {

namespace fs = std::filesystem;

namespace {

std::string where(const Structure& s) { return s.source + ":" + std::to_string(s.line); }

bool periodic(const Structure& s) { return s.pbc[0] || s.pbc[1] || s.pbc[2]; }

// A permutation of 0..n-1 from (seed, stream). Fisher-Yates with mt19937_64 (both fully specified by the
// standard, unlike std::shuffle), so the order is the same with every compiler and library.
std::vector<size_t> permutation(size_t n, uint64_t seed, uint64_t stream) {
  std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32), uint32_t(stream), uint32_t(stream >> 32)};
  std::mt19937_64 rng(seq);
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  for (size_t i = n; i > 1; --i) std::swap(p[i - 1], p[rng() % i]);
  return p;
}

std::string fmt(double v, const char* f = "%.17g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string hms(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

// Potential files are ASCII with one-line meta values.
std::string ascii(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '?';
  return s;
}

std::string utc_date() {
  // SOURCE_DATE_EPOCH (reproducible-builds convention) pins the date, e.g. to compare whole files.
  std::time_t t = std::time(nullptr);
  if (const char* e = std::getenv("SOURCE_DATE_EPOCH")) t = static_cast<std::time_t>(std::strtoll(e, nullptr, 10));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string metrics_text(const Metrics& m) {
  auto item = [](const char* name, double v, size_t n, const char* unit) {
    return n ? std::string(name) + " " + fmt(v * 1000, "%.4g") + " " + unit : std::string(name) + " -";
  };
  return item("energy", m.energy_rmse, m.energy_labels, "meV/atom") + ", " +
         item("forces", m.forces_rmse, m.force_components, "meV/A") + ", " +
         item("stress", m.stress_rmse, m.stress_labels, "meV/A^3") + " (" + std::to_string(m.frames) + " frames)";
}

// Tensors of one training batch: the model input and the labels it has.
struct TrainBatch {
  Batch batch;
  torch::Tensor energy, energy_index, energy_atoms;  // labelled structures
  torch::Tensor forces, force_atoms;                  // labelled atoms
  torch::Tensor stress, stress_index;                 // labelled periodic structures
  // Per label: the --config-type-weight factor of its frame; undefined without factors (the plain means).
  torch::Tensor energy_factor, force_factor, stress_factor;
};

// A frame's config_type (the extended-XYZ key of ASE, MACE and NequIP data sets), or nullptr.
const std::string* config_type_of(const Structure& s) {
  const auto it = s.info.find("config_type");
  return it == s.info.end() ? nullptr : &it->second;
}

// The --config-type-weight factor of a frame: that of its config_type, else 1.
double config_type_factor(const Structure& s, const std::map<std::string, double>& factors) {
  const std::string* type = config_type_of(s);
  if (!type) return 1.0;
  const auto f = factors.find(*type);
  return f == factors.end() ? 1.0 : f->second;
}

TrainBatch make_train_batch(const std::vector<const Structure*>& frames, const ModelHyperparameters& hp,
                            const std::map<std::string, double>& type_factors) {
  TrainBatch b;
  b.batch = make_batch(frames, hp.elements, hp.r_cut);
  std::vector<double> energy, energy_atoms, forces, stress, energy_factor, force_factor, stress_factor;
  std::vector<int64_t> energy_index, force_atoms, stress_index;
  int64_t offset = 0;
  for (size_t k = 0; k < frames.size(); ++k) {
    const Structure& s = *frames[k];
    const double factor = config_type_factor(s, type_factors);
    if (s.energy) {
      energy.push_back(*s.energy);
      energy_atoms.push_back(static_cast<double>(s.size()));
      energy_index.push_back(static_cast<int64_t>(k));
      energy_factor.push_back(factor);
    }
    for (size_t i = 0; i < s.forces.size(); ++i) {
      forces.insert(forces.end(), s.forces[i].begin(), s.forces[i].end());
      force_atoms.push_back(offset + static_cast<int64_t>(i));
      force_factor.push_back(factor);
    }
    if (s.stress && periodic(s)) {
      stress.insert(stress.end(), s.stress->begin(), s.stress->end());
      stress_index.push_back(static_cast<int64_t>(k));
      stress_factor.push_back(factor);
    }
    offset += static_cast<int64_t>(s.size());
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  b.energy = torch::tensor(energy, f64);
  b.energy_atoms = torch::tensor(energy_atoms, f64);
  b.energy_index = torch::tensor(energy_index, torch::kInt64);
  b.forces = torch::tensor(forces, f64).reshape({-1, 3});
  b.force_atoms = torch::tensor(force_atoms, torch::kInt64);
  b.stress = torch::tensor(stress, f64).reshape({-1, 3, 3});
  b.stress_index = torch::tensor(stress_index, torch::kInt64);
  if (!type_factors.empty()) {
    b.energy_factor = torch::tensor(energy_factor, f64);
    b.force_factor = torch::tensor(force_factor, f64).reshape({-1, 1});
    b.stress_factor = torch::tensor(stress_factor, f64).reshape({-1, 1, 1});
  }
  return b;
}

// The loss of docs/trainer.md on one batch, with the graph for backpropagation.
torch::Tensor batch_loss(FacetModel& model, const TrainBatch& b, const LossWeights& w) {
  const bool forces = w.forces > 0 && b.force_atoms.numel() > 0;
  const bool stress = w.stress > 0 && b.stress_index.numel() > 0;
  const Prediction p = model->predict(b.batch, forces, stress, /*create_graph=*/forces || stress);
  // Without config_type factors the plain means, so that the losses (and trained bits) stay as they were.
  auto mean = [](const torch::Tensor& squares, const torch::Tensor& factor) {
    return factor.defined() ? (factor * squares).mean() : squares.mean();
  };
  auto loss = torch::zeros({}, torch::kFloat64);
  if (w.energy > 0 && b.energy_index.numel() > 0)
    loss = loss + w.energy * mean(((p.energy.index_select(0, b.energy_index) - b.energy) / b.energy_atoms).pow(2),
                                  b.energy_factor);
  if (forces) loss = loss + w.forces * mean((p.forces.index_select(0, b.force_atoms) - b.forces).pow(2), b.force_factor);
  if (stress)
    loss = loss + w.stress * mean((p.stress.index_select(0, b.stress_index) - b.stress).pow(2), b.stress_factor);
  return loss;
}

// One frame at a time: batching changes the last bits of a frame's result with its batch mates (measured),
// and a frame's prediction must not depend on which file, or where in it, the frame stands.
std::vector<Structure> predict_with(FacetModel& model, const std::vector<Structure>& frames, const ExtxyzKeys& keys) {
  std::vector<Structure> out;
  out.reserve(frames.size());
  for (const Structure& frame : frames) {
    const Batch batch = make_batch({&frame}, model->hyper().elements, model->hyper().r_cut);
    const Prediction p = model->predict(batch, true, periodic(frame));
    Structure s = frame;
    s.energy = p.energy.item<double>();
    const auto forces = p.forces.detach().contiguous();
    const double* F = forces.data_ptr<double>();
    s.forces.resize(s.size());
    for (size_t i = 0; i < s.size(); ++i) s.forces[i] = {F[3 * i], F[3 * i + 1], F[3 * i + 2]};
    s.stress.reset();
    if (periodic(frame)) {
      const auto stress = p.stress.detach().contiguous();
      const double* S = stress.data_ptr<double>();
      s.stress = std::array<double, 9>{S[0], S[1], S[2], S[3], S[4], S[5], S[6], S[7], S[8]};
    }
    s.info.erase(keys.virial);  // a stale label: the prediction has its own stress
    out.push_back(std::move(s));
  }
  return out;
}

void check_labels(const std::vector<Structure>& frames) {
  for (const auto& s : frames)
    if (!s.energy && s.forces.empty() && !s.stress)
      throw std::runtime_error(where(s) + ": frame has no energy, forces or stress label (are --energy-key, "
                               "--forces-key, --stress-key right?)");
}

std::vector<Structure> read_frames(const std::string& path, const ExtxyzKeys& keys) {
  auto frames = read_extxyz(path, keys);
  if (frames.empty()) throw std::runtime_error(path + ": no frames");
  check_labels(frames);
  return frames;
}

// radial_curvature of trainer.hpp, differentiable in the weights.
torch::Tensor radial_curvature_of(const FacetModel& model) {
  std::vector<torch::Tensor> terms;
  for (const auto& [name, theta] : model->arrays())
    if (name.size() > 7 && name.compare(name.size() - 7, 7, ".radial") == 0) {  // [radial functions, K, C]
      const int64_t K = theta.size(1);
      terms.push_back((theta.narrow(1, 2, K - 2) - 2 * theta.narrow(1, 1, K - 2) + theta.narrow(1, 0, K - 2))
                          .pow(2).flatten());
    }
  return torch::cat(terms).mean();
}

// The loss weights as the checkpoint fingerprint records them (the config_type factors only when given, so that
// checkpoints written before they existed still resume).
std::string loss_weights_text(const LossWeights& w) {
  std::string text = fmt(w.energy) + " " + fmt(w.forces) + " " + fmt(w.stress);
  for (const auto& [type, factor] : w.config_type) text += " " + type + "=" + fmt(factor);
  return text;
}

// Hyperparameters, data and optimiser settings that a resumed run must share with the checkpoint.
std::vector<std::pair<std::string, std::string>> fingerprint(const TrainOptions& o, const Potential& initial,
                                                             size_t n_train, size_t n_valid) {
  std::string hyper = format_potential(initial);
  hyper = hyper.substr(0, hyper.find("\narray "));  // hyperparameters and normalisation, not the weights
  std::vector<std::pair<std::string, std::string>> items{{"hyperparameters", hyper},
          {"training frames", std::to_string(n_train)},
          {"validation frames", std::to_string(n_valid)},
          {"--seed", std::to_string(o.seed)},
          {"--batch-size", std::to_string(o.batch_size)},
          {"loss weights", loss_weights_text(o.weights)},
          {"--lr", fmt(o.lr)},
          {"--lr-factor/--lr-patience/--min-lr", fmt(o.lr_factor) + " " + std::to_string(o.lr_patience) + " " + fmt(o.min_lr)},
          {"--ema-decay", fmt(o.ema_decay)},
          {"--clip-grad", fmt(o.clip_grad)}};
  // Only when changed from the default, so that checkpoints written before the flag existed still resume.
  if (o.restart_factor != TrainOptions{}.restart_factor) items.emplace_back("--restart-factor", fmt(o.restart_factor));
  if (o.valid_weights) items.emplace_back("--valid-weights", loss_weights_text(*o.valid_weights));
  if (o.radial_smoothness > 0) items.emplace_back("--radial-smoothness", fmt(o.radial_smoothness));
  return items;
}

// After a divergence: the model and its average take the given (best) weights, and Adam forgets its moments.
void restart_from(const Potential& best, FacetModel& model, FacetModel& ema, torch::optim::Adam& opt) {
  FacetModel restored(best);
  torch::NoGradGuard no_grad;
  auto from = restored->named_parameters();
  for (auto& item : model->named_parameters()) item.value().copy_(from[item.key()]);
  for (auto& item : ema->named_parameters()) item.value().copy_(from[item.key()]);
  opt.state().clear();
}

// Mutable training state beyond the tensors; all of it goes into the checkpoint.
struct State {
  int epoch = 0, best_epoch = 0, since_best = 0, plateau = 0;
  double lr = 0, best_loss = std::numeric_limits<double>::infinity(), elapsed = 0, ema_updates = 0;
  std::vector<EpochRecord> history;
  std::string best;  // format_potential of the best EMA weights
};

constexpr int kRecordFields = 9;

void save_checkpoint(const std::string& dir, FacetModel& model, FacetModel& ema, const torch::optim::Adam& opt,
                     const State& st, const std::string& fp) {
  torch::serialize::OutputArchive ar, m, e, o;
  model->save(m);
  ema->save(e);
  opt.save(o);
  ar.write("model", m);
  ar.write("ema", e);
  ar.write("optimizer", o);
  ar.write("state", torch::tensor(std::vector<double>{double(st.epoch), double(st.best_epoch), double(st.since_best),
                                                      double(st.plateau), st.lr, st.best_loss, st.elapsed,
                                                      st.ema_updates},
                                  torch::kFloat64));
  std::vector<double> h;
  for (const auto& r : st.history)
    h.insert(h.end(), {double(r.epoch), r.train_loss, r.valid_loss, r.energy_rmse, r.forces_rmse, r.stress_rmse, r.lr,
                       r.elapsed, r.eta});
  ar.write("history", torch::tensor(h, torch::kFloat64));
  ar.write("best", c10::IValue(st.best));
  ar.write("fingerprint", c10::IValue(fp));
  const fs::path path = fs::path(dir) / "checkpoint.pt", tmp = fs::path(dir) / "checkpoint.pt.tmp";
  ar.save_to(tmp.string());
  fs::rename(tmp, path);  // atomic: an interrupted write leaves the previous checkpoint intact
}

void load_checkpoint(const std::string& dir, FacetModel& model, FacetModel& ema, torch::optim::Adam& opt, State& st,
                     const std::vector<std::pair<std::string, std::string>>& fp) {
  const fs::path path = fs::path(dir) / "checkpoint.pt";
  if (!fs::exists(path)) throw std::runtime_error("--resume: " + path.string() + " does not exist");
  torch::serialize::InputArchive ar, m, e, o;
  ar.load_from(path.string());
  c10::IValue saved_fp, best;
  ar.read("fingerprint", saved_fp);
  // Item by item ("key=value", separated by 0x1f; keys have no '='), so that an item only one side has (a flag
  // recorded only when given) is named too.
  std::map<std::string, std::string> saved;
  std::istringstream items(saved_fp.toStringRef());
  for (std::string item; std::getline(items, item, '\x1f');) {
    const size_t eq = item.find('=');
    saved[item.substr(0, eq)] = eq == std::string::npos ? "" : item.substr(eq + 1);
  }
  auto refuse = [&](const std::string& key, const std::string& was, const std::string& is) {
    std::istringstream a(was), b(is);  // name the first line that differs (the hyperparameters are many)
    std::string la, lb;
    while (std::getline(a, la) && std::getline(b, lb) && la == lb) {}
    throw std::runtime_error("--resume: " + path.string() + " was written with other settings (" + key +
                             ": checkpoint '" + la + "', this run '" + lb + "'); resume with the same data and "
                             "settings (only --epochs, --patience and the output paths may change)");
  };
  for (const auto& [key, value] : fp) {
    const auto it = saved.find(key);
    if (it == saved.end()) refuse(key, "(not given)", value);
    if (it->second != value) refuse(key, it->second, value);
    saved.erase(it);
  }
  if (!saved.empty()) refuse(saved.begin()->first, saved.begin()->second, "(not given)");
  ar.read("model", m);
  ar.read("ema", e);
  ar.read("optimizer", o);
  model->load(m);
  ema->load(e);
  opt.load(o);
  torch::Tensor s, h;
  ar.read("state", s);
  ar.read("history", h);
  ar.read("best", best);
  const auto v = s.contiguous();
  const double* x = v.data_ptr<double>();
  st.epoch = int(x[0]), st.best_epoch = int(x[1]), st.since_best = int(x[2]), st.plateau = int(x[3]);
  st.lr = x[4], st.best_loss = x[5], st.elapsed = x[6], st.ema_updates = x[7];
  st.history.clear();
  const auto hv = h.contiguous();
  for (int64_t k = 0; k < hv.numel() / kRecordFields; ++k) {
    const double* r = hv.data_ptr<double>() + k * kRecordFields;
    st.history.push_back({int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]});
  }
  st.best = best.toStringRef();
}

void write_log(const std::string& path, const std::vector<EpochRecord>& history) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw std::runtime_error(path + ": cannot write the log");
    out << "epoch,train_loss,valid_loss,energy_rmse_meV_per_atom,forces_rmse_meV_per_A,stress_rmse_meV_per_A3,lr,"
           "elapsed_s,eta_s\n";
    for (const auto& r : history)
      out << r.epoch << "," << fmt(r.train_loss, "%.8g") << "," << fmt(r.valid_loss, "%.8g") << ","
          << fmt(1000 * r.energy_rmse, "%.8g") << "," << fmt(1000 * r.forces_rmse, "%.8g") << ","
          << fmt(1000 * r.stress_rmse, "%.8g") << "," << fmt(r.lr, "%.6g") << "," << fmt(r.elapsed, "%.1f") << ","
          << fmt(r.eta, "%.1f") << "\n";
  }
  fs::rename(tmp, path);
}

}  // namespace

std::vector<std::string> elements_of(const std::vector<Structure>& frames) {
  std::set<int> z;
  for (const auto& s : frames)
    for (const auto& e : s.species) z.insert(atomic_number(e));
  std::vector<std::string> out;
  for (int n : z) out.emplace_back(kElementSymbols.at(n - 1));
  return out;
}

Metrics compare(const std::vector<Structure>& predicted, const std::vector<Structure>& reference) {
  if (predicted.size() != reference.size()) throw std::invalid_argument("compare: different numbers of frames");
  Metrics m;
  m.frames = reference.size();
  double se = 0, sf = 0, ss = 0;
  for (size_t k = 0; k < reference.size(); ++k) {
    const Structure &p = predicted[k], &r = reference[k];
    if (r.energy && p.energy) {
      const double d = (*p.energy - *r.energy) / static_cast<double>(r.size());
      se += d * d;
      ++m.energy_labels;
    }
    if (!r.forces.empty() && p.forces.size() == r.forces.size())
      for (size_t i = 0; i < r.forces.size(); ++i)
        for (int a = 0; a < 3; ++a) {
          const double d = p.forces[i][a] - r.forces[i][a];
          sf += d * d;
          ++m.force_components;
        }
    if (r.stress && p.stress) {
      for (int a = 0; a < 9; ++a) {
        const double d = (*p.stress)[a] - (*r.stress)[a];
        ss += d * d;
      }
      ++m.stress_labels;
    }
  }
  if (m.energy_labels) m.energy_rmse = std::sqrt(se / double(m.energy_labels));
  if (m.force_components) m.forces_rmse = std::sqrt(sf / double(m.force_components));
  if (m.stress_labels) m.stress_rmse = std::sqrt(ss / (9.0 * double(m.stress_labels)));
  return m;
}

std::vector<std::pair<std::string, Metrics>> compare_by_config_type(const std::vector<Structure>& predicted,
                                                                    const std::vector<Structure>& reference) {
  if (predicted.size() != reference.size()) throw std::invalid_argument("compare: different numbers of frames");
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::vector<Structure>, std::vector<Structure>>> groups;
  for (size_t k = 0; k < reference.size(); ++k) {
    const std::string* given = config_type_of(reference[k]);
    const std::string type = given ? *given : "(none)";
    auto& g = groups[type];
    if (g.first.empty()) order.push_back(type);
    g.first.push_back(predicted[k]);
    g.second.push_back(reference[k]);
  }
  std::vector<std::pair<std::string, Metrics>> rows;
  if (order.size() < 2) return rows;
  for (const auto& type : order) rows.emplace_back(type, compare(groups[type].first, groups[type].second));
  return rows;
}

std::string config_type_table(const std::vector<std::pair<std::string, Metrics>>& rows) {
  if (rows.empty()) return {};
  size_t width = 11;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  auto cell = [](double v, size_t n) { return n ? fmt(1000 * v, "%12.3f") : std::string("           -"); };
  std::string text = "  " + ascii(std::string("config_type") + std::string(width - 11, ' ')) +
                     "  frames  E meV/atom    F meV/A  S meV/A^3\n";
  for (const auto& [type, m] : rows)
    text += "  " + ascii(type + std::string(width - type.size(), ' ')) + fmt(double(m.frames), "%8.0f") +
            cell(m.energy_rmse, m.energy_labels) + cell(m.forces_rmse, m.force_components) +
            cell(m.stress_rmse, m.stress_labels) + "\n";
  return text;
}

double radial_curvature(const Potential& potential) {
  torch::NoGradGuard no_grad;
  return radial_curvature_of(FacetModel(potential)).item<double>();
}

double training_loss(const Potential& potential, const std::vector<Structure>& frames, const LossWeights& w) {
  FacetModel model(potential);
  std::vector<const Structure*> batch;
  for (const auto& s : frames) batch.push_back(&s);
  return batch_loss(model, make_train_batch(batch, potential.hyper, w.config_type), w).item<double>();
}

double weighted_loss(const Metrics& m, const LossWeights& w) {
  double loss = 0;
  if (m.energy_labels) loss += w.energy * m.energy_rmse * m.energy_rmse;
  if (m.force_components) loss += w.forces * m.forces_rmse * m.forces_rmse;
  if (m.stress_labels) loss += w.stress * m.stress_rmse * m.stress_rmse;
  return loss;
}

std::vector<Structure> predict(const Potential& potential, const std::vector<Structure>& frames) {
  FacetModel model(potential);
  for (auto& p : model->parameters()) p.requires_grad_(false);
  return predict_with(model, frames, ExtxyzKeys{});
}

std::vector<double> fit_atomic_energies(const std::vector<Structure>& frames, const std::vector<std::string>& elements,
                                        std::string* note, const std::vector<double>& offsets) {
  const size_t S = elements.size();
  std::vector<double> A(S * S, 0.0), b(S, 0.0);  // normal equations A x = b, A = C^T C, b = C^T E
  size_t labelled = 0;
  for (size_t k = 0; k < frames.size(); ++k) {
    const Structure& s = frames[k];
    if (!s.energy) continue;
    ++labelled;
    const double energy = *s.energy - (offsets.empty() ? 0.0 : offsets[k]);
    std::vector<double> c(S, 0.0);
    for (const auto& e : s.species) c[std::find(elements.begin(), elements.end(), e) - elements.begin()] += 1;
    for (size_t i = 0; i < S; ++i) {
      b[i] += c[i] * energy;
      for (size_t j = 0; j < S; ++j) A[i * S + j] += c[i] * c[j];
    }
  }
  if (note) note->clear();
  if (labelled == 0) {
    if (note) *note = "no frame has an energy: atomic energies set to 0";
    return std::vector<double>(S, 0.0);
  }
  // Cholesky; a pivot that vanishes against the diagonal means the counts do not determine every E0.
  auto cholesky = [&](std::vector<double> L, std::vector<size_t>* weak) {
    const double max_diag = *std::max_element(L.begin(), L.end());
    for (size_t j = 0; j < S; ++j) {
      for (size_t k = 0; k < j; ++k) L[j * S + j] -= L[j * S + k] * L[j * S + k];
      if (L[j * S + j] <= 1e-12 * max_diag) {
        if (weak) weak->push_back(j);
        L[j * S + j] = std::numeric_limits<double>::quiet_NaN();
      }
      L[j * S + j] = std::sqrt(L[j * S + j]);
      for (size_t i = j + 1; i < S; ++i) {
        for (size_t k = 0; k < j; ++k) L[i * S + j] -= L[i * S + k] * L[j * S + k];
        L[i * S + j] /= L[j * S + j];
      }
    }
    return L;
  };
  std::vector<size_t> weak;
  std::vector<double> L = cholesky(A, &weak);
  if (!weak.empty()) {
    const double ridge = 1e-8 * *std::max_element(A.begin(), A.end());
    for (size_t i = 0; i < S; ++i) A[i * S + i] += ridge;
    L = cholesky(A, nullptr);
    if (note) {
      *note = "atomic energies: the element counts of the energy-labelled frames do not determine E0 of";
      for (size_t j : weak) *note += " " + elements[j];
      *note += " separately (collinear or empty count columns); added a ridge term " + fmt(ridge, "%.3g") +
               " to the normal equations";
    }
  }
  std::vector<double> x(b);
  for (size_t i = 0; i < S; ++i) {  // L y = b, then L^T x = y
    for (size_t k = 0; k < i; ++k) x[i] -= L[i * S + k] * x[k];
    x[i] /= L[i * S + i];
  }
  for (size_t i = S; i-- > 0;) {
    for (size_t k = i + 1; k < S; ++k) x[i] -= L[k * S + i] * x[k];
    x[i] /= L[i * S + i];
  }
  return x;
}

namespace {

// repulsion_energy with the structure's neighbour list (cutoff hp.r_cut) at hand.
double repulsion_energy(const Structure& s, const ModelHyperparameters& hp, const NeighborList& nl) {
  if (hp.repulsion == Repulsion::none) return 0.0;
  std::vector<int> z(s.size());
  std::vector<double> radius(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const size_t k = std::find(hp.elements.begin(), hp.elements.end(), s.species[i]) - hp.elements.begin();
    if (k == hp.elements.size()) throw std::runtime_error(where(s) + ": element '" + s.species[i] + "' is not one of the model's elements");
    z[i] = atomic_number(s.species[i]);
    radius[i] = hp.repulsion_radii[k];
  }
  double energy = 0;
  for (size_t e = 0; e < nl.size(); ++e) {
    const int i = nl.first[e], j = nl.second[e];
    double r2 = 0;
    for (int k = 0; k < 3; ++k) {
      double d = s.positions[j][k] - s.positions[i][k];
      for (int a = 0; a < 3; ++a) d += nl.shift[e][a] * s.cell[a][k];
      r2 += d * d;
    }
    double pair, derivative;
    ZblPair<double>::make(z[i], z[j], radius[i] + radius[j]).evaluate(std::sqrt(r2), pair, derivative);
    energy += 0.5 * pair;  // each pair appears in both directions
  }
  return energy;
}

}  // namespace

double repulsion_energy(const Structure& s, const ModelHyperparameters& hp) {
  if (hp.repulsion == Repulsion::none) return 0.0;
  return repulsion_energy(s, hp, build_neighbor_list(s, hp.r_cut));
}

std::vector<double> default_repulsion_radii(const ModelHyperparameters& hp) {
  std::vector<double> radii;
  if (hp.repulsion == Repulsion::none) return radii;
  for (const auto& e : hp.elements) {
    radii.push_back(covalent_radius(e));
    if (radii.back() <= 0) throw UsageError("--repulsion zbl: no covalent radius is tabulated for " + e + " (Z > 96)");
  }
  return radii;
}

Normalization normalization_from_data(const std::vector<Structure>& frames, const ModelHyperparameters& hp,
                                      EnergyScaleRule rule) {
  const auto& elements = hp.elements;
  Normalization n;
  double edges = 0, atoms = 0;
  std::vector<double> repulsion;
  for (const auto& s : frames) {
    const NeighborList nl = build_neighbor_list(s, hp.r_cut);
    edges += static_cast<double>(nl.size());
    atoms += static_cast<double>(s.size());
    if (hp.repulsion != Repulsion::none) repulsion.push_back(repulsion_energy(s, hp, nl));
  }
  n.avg_num_neighbors = edges / atoms;
  if (!(n.avg_num_neighbors > 0)) {
    n.avg_num_neighbors = 1.0;
    n.notes.push_back("no atom has a neighbour within r_cut: avg_num_neighbors set to 1");
  }
  std::string note;
  n.atomic_energies = fit_atomic_energies(frames, elements, &note, repulsion);
  if (!note.empty()) n.notes.push_back(note);

  double sum2 = 0, count = 0;
  std::vector<double> frame_rms;  // per frame with forces: its RMS force component
  for (const auto& s : frames) {
    double frame_sum2 = 0, frame_count = 0;
    for (const auto& f : s.forces)
      for (double v : f) sum2 += v * v, count += 1, frame_sum2 += v * v, frame_count += 1;
    if (frame_count > 0) frame_rms.push_back(std::sqrt(frame_sum2 / frame_count));
  }
  if (count > 0 && rule == EnergyScaleRule::median_frame_force) {
    std::sort(frame_rms.begin(), frame_rms.end());
    const size_t m = frame_rms.size() / 2;
    n.energy_scale = frame_rms.size() % 2 ? frame_rms[m] : 0.5 * (frame_rms[m - 1] + frame_rms[m]);
  } else if (count > 0) {
    n.energy_scale = std::sqrt(sum2 / count);
  } else {  // no forces: the spread of the energy per atom that E0 leaves
    double sum = 0;
    for (const auto& s : frames) {
      if (!s.energy) continue;
      double e = *s.energy;
      for (const auto& sym : s.species)
        e -= n.atomic_energies[std::find(elements.begin(), elements.end(), sym) - elements.begin()];
      e /= static_cast<double>(s.size());
      sum += e, sum2 += e * e, count += 1;
    }
    if (count > 0) n.energy_scale = std::sqrt(std::max(0.0, sum2 / count - (sum / count) * (sum / count)));
  }
  if (!(n.energy_scale > 1e-12)) {
    n.energy_scale = 1.0;
    n.notes.push_back("the labels have no spread (all forces zero or one residual energy): energy_scale set to 1");
  }
  return n;
}

TrainResult train(const TrainOptions& o, std::ostream& out) {
  const auto t_start = std::chrono::steady_clock::now();
  set_num_threads(o.threads);
  torch::manual_seed(o.seed);

  if (o.train_files.empty()) throw UsageError("--train: no training file given");
  // Output folders first, so that a typo in a path fails now rather than after the training.
  const fs::path stem = fs::path(o.output).replace_extension("");
  const std::string log_path = o.log.empty() ? stem.string() + ".csv" : o.log;
  for (const auto& p : {fs::path(o.output), fs::path(log_path)})
    if (p.has_parent_path()) fs::create_directories(p.parent_path());

  // Data.
  std::vector<Structure> all, valid, test;
  std::vector<std::string> data_meta;
  for (const auto& f : o.train_files) {
    auto frames = read_frames(f, o.keys);
    data_meta.push_back(f + " (" + std::to_string(frames.size()) + " frames)");
    all.insert(all.end(), std::make_move_iterator(frames.begin()), std::make_move_iterator(frames.end()));
  }
  std::vector<Structure> training;
  std::string split;
  if (!o.valid_file.empty()) {
    valid = read_frames(o.valid_file, o.keys);
    training = std::move(all);
    split = "validation " + o.valid_file + " (" + std::to_string(valid.size()) + " frames)";
  } else {
    const size_t n = all.size();
    const size_t n_valid = std::max<size_t>(1, static_cast<size_t>(std::llround(o.valid_fraction * double(n))));
    if (n_valid >= n)
      throw std::runtime_error("--valid-fraction " + fmt(o.valid_fraction, "%g") + " of " + std::to_string(n) +
                               " frames leaves no training frame: give more data or --valid FILE");
    const auto perm = permutation(n, o.seed, 0);
    std::vector<char> is_valid(n, 0);
    for (size_t k = 0; k < n_valid; ++k) is_valid[perm[k]] = 1;
    for (size_t k = 0; k < n; ++k) (is_valid[k] ? valid : training).push_back(std::move(all[k]));
    split = "random split (seed " + std::to_string(o.seed) + ", --valid-fraction " + fmt(o.valid_fraction, "%g") +
            "): " + std::to_string(training.size()) + " training + " + std::to_string(valid.size()) +
            " validation frames";
  }
  if (!o.test_file.empty()) test = read_frames(o.test_file, o.keys);
  for (const auto& [type, factor] : o.weights.config_type)
    if (std::none_of(training.begin(), training.end(), [t = type](const Structure& s) {
          const std::string* given = config_type_of(s);
          return given && *given == t;
        }))
      throw UsageError("--config-type-weight " + type + "=" + fmt(factor) + ": no training frame has config_type '" +
                       type + "'");

  // --init: the model (shape, elements, normalisation and weights) comes from an existing potential.
  std::optional<Potential> init;
  if (!o.init.empty()) {
    init = read_potential(o.init);
    if (!o.elements.empty() && o.elements != init->hyper.elements)
      throw UsageError("--elements: differs from the elements of --init " + o.init);
    if (o.grow_l_max || o.grow_layers) {
      const int l_max = o.grow_l_max.value_or(init->hyper.l_max), layers = o.grow_layers.value_or(init->hyper.layers);
      try {
        init = grow_potential(*init, l_max, layers, o.seed);
      } catch (const PotentialError& e) {
        throw UsageError("--grow: " + o.init + ": " + e.what());
      }
    }
  }

  // Elements: every atom of every set must have one.
  ModelHyperparameters hp = init ? init->hyper : o.hyper;
  if (!init) hp.elements = o.elements.empty() ? elements_of(training) : o.elements;
  if (!init) hp.atomic_energies.assign(hp.elements.size(), 0.0);  // fitted below
  if (!init || o.repulsion_given) {
    hp.repulsion = o.hyper.repulsion;
    hp.repulsion_radii = default_repulsion_radii(hp);
    validate(hp);  // e.g. radii that add up to more than r_cut
    if (init) init->hyper = hp;
  }
  for (const auto* set : {&training, &valid, &test})
    for (const auto& s : *set)
      for (const auto& e : s.species)
        if (std::find(hp.elements.begin(), hp.elements.end(), e) == hp.elements.end()) {
          std::string list;
          for (const auto& x : hp.elements) list += (list.empty() ? "" : ",") + x;
          throw std::runtime_error(where(s) + ": element '" + e + "' is not among the model's elements (" + list +
                                   (init ? ", those of --init " + o.init + ")"
                                         : o.elements.empty() ? ", those of the training frames)" : ", from --elements)"));
        }

  Normalization norm;
  FacetModel model(nullptr);
  if (init) {  // the weights were fitted with the file's normalisation: keep it
    norm.avg_num_neighbors = hp.avg_num_neighbors;
    norm.energy_scale = hp.energy_scale;
    norm.atomic_energies = hp.atomic_energies;
    norm.notes.push_back("initialised from " + o.init + " (its weights, hyperparameters and normalisation)" +
                         (o.grow_l_max || o.grow_layers
                              ? "; grown to l_max " + std::to_string(hp.l_max) + ", " + std::to_string(hp.layers) +
                                    " layers, the new weights that write into the features zero"
                              : ""));
    model = FacetModel(*init);
  } else {
    norm = normalization_from_data(training, hp, o.energy_scale);
    model = FacetModel(hp, o.seed);
    model->set_normalization(norm.avg_num_neighbors, norm.energy_scale, norm.atomic_energies);
  }
  const Potential initial = model->to_potential();
  FacetModel ema(initial);
  for (auto& p : ema->parameters()) p.requires_grad_(false);

  int64_t n_params = 0;
  for (const auto& p : model->parameters()) n_params += p.numel();
  out << "training data:";
  for (size_t k = 0; k < data_meta.size(); ++k) out << (k ? ", " : " ") << data_meta[k];
  out << "\n" << split << (test.empty() ? "" : "; test " + o.test_file + " (" + std::to_string(test.size()) + " frames)")
      << "\nelements";
  for (size_t z = 0; z < hp.elements.size(); ++z)
    out << " " << hp.elements[z] << " (E0 " << fmt(norm.atomic_energies[z], "%.6f") << " eV)";
  out << "\navg_num_neighbors " << fmt(norm.avg_num_neighbors, "%.4f") << ", energy_scale "
      << fmt(norm.energy_scale, "%.4g") << ", " << n_params << " parameters\n";
  if (hp.repulsion == Repulsion::zbl) {
    out << "repulsion zbl, radii";
    for (size_t z = 0; z < hp.elements.size(); ++z) out << " " << hp.elements[z] << " " << fmt(hp.repulsion_radii[z], "%.2f");
    out << " Å\n";
  }
  for (const auto& note : norm.notes) out << "note: " << note << "\n";

  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(o.lr));
  State st;
  st.lr = o.lr;
  st.best = format_potential(initial);
  std::string fp;
  const auto fp_items = fingerprint(o, initial, training.size(), valid.size());
  for (const auto& [k, v] : fp_items) fp += k + "=" + v + '\x1f';
  if (!o.checkpoint.empty()) fs::create_directories(o.checkpoint);
  if (o.resume) {
    if (o.checkpoint.empty()) throw UsageError("--resume: needs --checkpoint DIR");
    load_checkpoint(o.checkpoint, model, ema, opt, st, fp_items);
    out << "resumed from " << o.checkpoint << " after epoch " << st.epoch << "\n";
  }

  // Epochs.
  auto params = model->named_parameters();
  auto ema_params = ema->named_parameters();
  const double elapsed0 = st.elapsed;
  const int first_epoch = st.epoch;
  while (st.epoch < o.epochs && st.since_best < o.patience) {
    const int epoch = ++st.epoch;
    opt.param_groups()[0].options().set_lr(st.lr);
    const auto order = permutation(training.size(), o.seed, static_cast<uint64_t>(epoch));
    double loss_sum = 0;
    bool finite = true;
    for (size_t first = 0; first < order.size(); first += o.batch_size) {
      std::vector<const Structure*> chunk;
      for (size_t k = first; k < std::min(order.size(), first + o.batch_size); ++k) chunk.push_back(&training[order[k]]);
      const TrainBatch b = make_train_batch(chunk, hp, o.weights.config_type);
      opt.zero_grad();
      auto loss = batch_loss(model, b, o.weights);
      if (o.radial_smoothness > 0) loss = loss + o.radial_smoothness * radial_curvature_of(model);
      const double l = loss.item<double>();
      if (!std::isfinite(l)) {
        if (o.restart_factor == 0 || !std::isfinite(st.best_loss))
          throw std::runtime_error("training diverged in epoch " + std::to_string(epoch) + " (loss " + fmt(l, "%g") +
                                   "): lower --lr or set --clip-grad");
        finite = false;  // restarted from the best weights below
        break;
      }
      loss.backward();
      if (o.clip_grad > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), o.clip_grad);
      opt.step();
      loss_sum += l * double(chunk.size());
      // EMA with the usual warm-up, so that early averages are not dominated by the random initial weights.
      torch::NoGradGuard no_grad;
      const double d = std::min(o.ema_decay, (1.0 + st.ema_updates) / (10.0 + st.ema_updates));
      st.ema_updates += 1;
      for (const auto& item : params) ema_params[item.key()].mul_(d).add_(item.value(), 1.0 - d);
    }

    const Metrics m = compare(predict_with(ema, valid, o.keys), valid);
    const double valid_loss = weighted_loss(m, o.valid_weights ? *o.valid_weights : o.weights);
    // `!(a <= b)`: a NaN validation loss has diverged too.
    const bool diverged = o.restart_factor > 0 && std::isfinite(st.best_loss) &&
                          (!finite || !(valid_loss <= o.restart_factor * st.best_loss));
    const bool improved = !diverged && valid_loss < st.best_loss;
    std::string restart_note;
    if (diverged) {
      restart_from(parse_potential(st.best, "best weights"), model, ema, opt);
      st.lr = std::max(o.min_lr, st.lr * o.lr_factor), st.plateau = 0;
      ++st.since_best;
      restart_note = "epoch " + std::to_string(epoch) + " diverged (" +
                     (finite ? "validation loss " + fmt(valid_loss, "%.4g") + " > " + fmt(o.restart_factor) +
                                   " x the best " + fmt(st.best_loss, "%.4g")
                             : std::string("training loss not finite")) +
                     "): going on from the best weights (epoch " + std::to_string(st.best_epoch) +
                     ") with a fresh optimiser at lr " + fmt(st.lr, "%.2e") + "\n";
    } else if (improved) {
      st.best_loss = valid_loss, st.best_epoch = epoch, st.since_best = 0, st.plateau = 0;
      st.best = format_potential(ema->to_potential());
    } else {
      ++st.since_best;
      if (++st.plateau >= o.lr_patience) st.lr = std::max(o.min_lr, st.lr * o.lr_factor), st.plateau = 0;
    }
    st.elapsed = elapsed0 + std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    const double per_epoch = (st.elapsed - elapsed0) / double(epoch - first_epoch);
    EpochRecord r{epoch, loss_sum / double(training.size()), valid_loss, m.energy_rmse, m.forces_rmse, m.stress_rmse,
                  opt.param_groups()[0].options().get_lr(), st.elapsed, per_epoch * double(o.epochs - epoch)};
    st.history.push_back(r);

    auto mev = [](double v, size_t n) { return n ? fmt(1000 * v, "%8.3f") : std::string("       -"); };
    out << "epoch " << fmt(double(epoch), "%5.0f") << "/" << o.epochs << "  loss " << fmt(r.train_loss, "%.4e") << "  E "
        << mev(m.energy_rmse, m.energy_labels) << " meV/atom  F " << mev(m.forces_rmse, m.force_components)
        << " meV/A  S " << mev(m.stress_rmse, m.stress_labels) << " meV/A^3  lr " << fmt(r.lr, "%.2e") << "  "
        << hms(r.elapsed) << "  left " << hms(r.eta) << (improved ? "  *" : "") << std::endl;
    out << restart_note;
    write_log(log_path, st.history);
    if (!o.checkpoint.empty()) save_checkpoint(o.checkpoint, model, ema, opt, st, fp);
  }
  if (st.since_best >= o.patience)
    out << "early stop: no improvement of the validation loss for " << o.patience << " epochs\n";
  write_log(log_path, st.history);  // again: a resumed run that was already finished trained no epoch above

  // The best EMA weights, evaluated exactly as facet-eval evaluates the written file.
  TrainResult result;
  result.history = st.history;
  result.best_epoch = st.best_epoch;
  Potential best = parse_potential(st.best, "best weights");
  const auto valid_pred = predict(best, valid);
  result.valid = compare(valid_pred, valid);
  std::vector<Structure> test_pred;
  if (!test.empty()) {
    test_pred = predict(best, test);
    result.test = compare(test_pred, test);
  }
  auto& meta = best.meta;
  if (!o.command_line.empty()) meta.emplace_back("command", ascii(o.command_line));
  meta.emplace_back("version", "facet-lammps " FACET_VERSION);
  meta.emplace_back("date", utc_date());
  for (const auto& d : data_meta) meta.emplace_back("train_data", ascii(d));
  meta.emplace_back("split", ascii(split));
  if (!test.empty()) meta.emplace_back("test_data", ascii(o.test_file + " (" + std::to_string(test.size()) + " frames)"));
  meta.emplace_back("seed", std::to_string(o.seed));
  meta.emplace_back("epochs", std::to_string(st.epoch) + " (best validation loss at epoch " +
                                  std::to_string(st.best_epoch) + ")");
  for (const auto& note : norm.notes) meta.emplace_back("note", ascii(note));
  meta.emplace_back("valid_rmse", metrics_text(result.valid));
  if (result.test) meta.emplace_back("test_rmse", metrics_text(*result.test));
  write_potential(best, o.output);
  result.potential = best;
  result.valid_frames = valid;

  out << "best epoch " << st.best_epoch << "; validation RMSE " << metrics_text(result.valid) << "\n";
  if (result.test) out << "test RMSE " << metrics_text(*result.test) << "\n";
  // Per category, on the test set (else validation): which kinds of structure the model gets wrong.
  const auto by_type = result.test ? compare_by_config_type(test_pred, test) : compare_by_config_type(valid_pred, valid);
  if (!by_type.empty()) out << (result.test ? "test" : "validation") << " RMSE by config_type:\n" << config_type_table(by_type);
  out << "wrote " << o.output << " and " << log_path << "\n";
  if (o.make_plots) {
    const std::string dir = o.plots.empty() ? stem.string() + "-plots" : o.plots;
    plot_learning_curve(dir, result.history, out);
    if (result.test)
      plot_parity(dir, test_pred, test, "test", out);
    else
      plot_parity(dir, valid_pred, valid, "validation", out);
  }
  return result;
}

void set_num_threads(int threads) {
  if (threads > 0) at::set_num_threads(threads);
}

}  // namespace facet
