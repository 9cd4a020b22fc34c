// The command lines of facet-train and facet-eval, and `facet-eval --rehash`. No Torch here: the tools'
// main() functions only call these.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <sstream>

#include "model/elements.hpp"
#include "torch/trainer.hpp"

namespace facet {

namespace {

std::string fmt(double v, const char* f = "%g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

double real(const std::string& flag, const std::string& v) {
  errno = 0;
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(x))
    throw UsageError(flag + ": '" + v + "' is not a finite number");
  return x;
}

long long integer(const std::string& flag, const std::string& v) {
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE) throw UsageError(flag + ": '" + v + "' is not an integer");
  return x;
}

void require(bool ok, const std::string& flag, const std::string& v, const char* what) {
  if (!ok) throw UsageError(flag + ": '" + v + "' " + what);
}

int int_at_least(const std::string& flag, const std::string& v, int lo) {
  const long long x = integer(flag, v);
  require(x >= lo && x <= 1000000000, flag, v, ("must be an integer >= " + std::to_string(lo)).c_str());
  return static_cast<int>(x);
}

// Flags with a value, as `--flag VALUE` or `--flag=VALUE`; switches take none.
struct Flag {
  std::string name, arg, help;
  std::function<void(const std::string&)> set;
};

void parse(const std::vector<std::string>& args, const std::vector<Flag>& flags,
           const std::function<void(const std::string&)>& positional) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional(a);
      continue;
    }
    const auto eq = a.find('=');
    const std::string name = a.substr(0, eq);
    const Flag* flag = nullptr;
    for (const auto& f : flags)
      if (f.name == name) flag = &f;
    if (!flag) throw UsageError(name + ": unknown flag");
    if (flag->arg.empty()) {
      if (eq != std::string::npos) throw UsageError(name + ": takes no value");
      flag->set("");
    } else if (eq != std::string::npos) {
      flag->set(a.substr(eq + 1));
    } else {
      if (i + 1 >= args.size()) throw UsageError(name + ": needs a value (" + flag->arg + ")");
      flag->set(args[++i]);
    }
  }
}

std::string usage(const std::string& synopsis, const std::vector<Flag>& flags) {
  std::string s = synopsis + "\n";
  for (const auto& f : flags) {
    std::string head = "  " + f.name + (f.arg.empty() ? "" : " " + f.arg);
    head.resize(std::max<size_t>(head.size() + 1, 30), ' ');
    s += head + f.help + "\n";
  }
  return s;
}

std::vector<Flag> train_flags(TrainOptions& o, bool& help) {
  const TrainOptions d;
  const auto& h = d.hyper;
  std::vector<Flag> f;
  auto add = [&](std::string name, std::string arg, std::string text, std::function<void(const std::string&)> set) {
    f.push_back({std::move(name), std::move(arg), std::move(text), std::move(set)});
  };
  auto integer_flag = [&](const char* name, int& x, int lo, std::string text) {
    add(name, "N", text + " (" + std::to_string(x) + ")", [&x, lo, name](const std::string& v) { x = int_at_least(name, v, lo); });
  };
  // Data.
  add("--train", "FILE", "training frames, extended XYZ (required; repeat for several files)",
      [&](const std::string& v) { o.train_files.push_back(v); });
  add("--valid", "FILE", "validation frames (default: a random split of the training frames)",
      [&](const std::string& v) { o.valid_file = v; });
  add("--valid-fraction", "F", "fraction of the training frames held out without --valid (" + fmt(d.valid_fraction) + ")",
      [&](const std::string& v) {
        o.valid_fraction = real("--valid-fraction", v);
        require(o.valid_fraction > 0 && o.valid_fraction < 1, "--valid-fraction", v, "must lie in (0, 1)");
      });
  add("--test", "FILE", "test frames, evaluated once at the end with the best weights",
      [&](const std::string& v) { o.test_file = v; });
  add("--energy-key", "KEY", "comment-line key of the total energy (" + d.keys.energy + ")",
      [&](const std::string& v) { o.keys.energy = v; });
  add("--forces-key", "KEY", "Properties column of the forces (" + d.keys.forces + ")",
      [&](const std::string& v) { o.keys.forces = v; });
  add("--stress-key", "KEY", "comment-line key of the stress (" + d.keys.stress + ")",
      [&](const std::string& v) { o.keys.stress = v; });
  add("--virial-key", "KEY", "comment-line key of a virial, used without a stress (" + d.keys.virial + ")",
      [&](const std::string& v) { o.keys.virial = v; });
  add("--elements", "A,B,...", "the model's elements in this order (default: those of the data, by atomic number)",
      [&](const std::string& v) {
        o.elements.clear();
        std::stringstream in(v);
        for (std::string e; std::getline(in, e, ',');) {
          if (atomic_number(e) == 0) throw UsageError("--elements: '" + e + "' is not a chemical symbol");
          for (const auto& x : o.elements)
            if (x == e) throw UsageError("--elements: '" + e + "' is given twice");
          o.elements.push_back(e);
        }
        if (o.elements.empty()) throw UsageError("--elements: empty list");
      });
  // Model (docs/model.md).
  add("--r-cut", "R", "cutoff radius, Å (" + fmt(h.r_cut) + ")", [&](const std::string& v) {
    o.hyper.r_cut = real("--r-cut", v);
    require(o.hyper.r_cut > 0, "--r-cut", v, "must be positive");
  });
  integer_flag("--l-max", o.hyper.l_max, 0, "maximum degree of the node features");
  integer_flag("--l-edge", o.hyper.l_edge, 0, "maximum degree of the edge harmonics");
  integer_flag("--channels", o.hyper.channels, 1, "channels per degree");
  integer_flag("--layers", o.hyper.layers, 1, "interaction layers");
  integer_flag("--radial-basis", o.hyper.radial_basis, 4, "cubic B-spline radial basis functions");
  integer_flag("--envelope-p", o.hyper.envelope_p, 2, "exponent of the cutoff envelope");
  add("--tensor-product", "gaunt|cg", "message coupling (gaunt)", [&](const std::string& v) {
    require(v == "gaunt" || v == "cg", "--tensor-product", v, "must be 'gaunt' or 'cg'");
    o.hyper.tensor_product = v == "gaunt" ? TensorProduct::gaunt : TensorProduct::cg;
  });
  integer_flag("--grid-channels", o.hyper.grid_channels, 1, "channels on the spherical grid");
  integer_flag("--grid-hidden", o.hyper.grid_hidden, 1, "hidden width of the grid MLP");
  add("--grid", "TxP", "spherical grid n_theta x n_phi (" + std::to_string(h.grid_theta) + "x" +
                           std::to_string(h.grid_phi) + ")",
      [&](const std::string& v) {
        const auto x = v.find('x');
        require(x != std::string::npos, "--grid", v, "must be n_theta x n_phi, e.g. 12x24");
        o.hyper.grid_theta = int_at_least("--grid", v.substr(0, x), 1);
        o.hyper.grid_phi = int_at_least("--grid", v.substr(x + 1), 1);
      });
  add("--repulsion", "none|zbl", "short-range pair repulsion added to the model: zbl switched off at the sum of the "
      "covalent radii (none; with --init it replaces the file's)", [&](const std::string& v) {
        require(v == "none" || v == "zbl", "--repulsion", v, "must be 'none' or 'zbl'");
        o.hyper.repulsion = v == "zbl" ? Repulsion::zbl : Repulsion::none;
        o.repulsion_given = true;
      });
  add("--energy-scale", "rms|median", "energy_scale from the training forces: their RMS component, or the median "
      "over the frames of each frame's RMS component, which a few frames of very large forces do not set (rms)",
      [&](const std::string& v) {
        require(v == "rms" || v == "median", "--energy-scale", v, "must be 'rms' or 'median'");
        o.energy_scale = v == "median" ? EnergyScaleRule::median_frame_force : EnergyScaleRule::rms_force;
      });
  integer_flag("--readout-hidden", o.hyper.readout_hidden, 1, "hidden width of the readout MLP");
  // Loss and optimisation.
  auto weight = [&](const char* name, double& w, const char* what) {
    add(name, "W", std::string("loss weight of the ") + what + " term (" + fmt(w) + ")", [&w, name](const std::string& v) {
      w = real(name, v);
      require(w >= 0, name, v, "must be >= 0");
    });
  };
  weight("--energy-weight", o.weights.energy, "energy-per-atom");
  weight("--forces-weight", o.weights.forces, "force");
  weight("--stress-weight", o.weights.stress, "stress");
  add("--valid-weights", "E,F,S", "energy, force and stress weights of the validation loss that picks the best "
      "epoch and drives the learning-rate schedule and early stopping (default: the three loss weights)",
      [&](const std::string& v) {
        std::vector<double> x;
        std::stringstream in(v);
        for (std::string e; std::getline(in, e, ',');) x.push_back(real("--valid-weights", e));
        require(x.size() == 3, "--valid-weights", v, "must be three weights E,F,S");
        require(x[0] >= 0 && x[1] >= 0 && x[2] >= 0 && x[0] + x[1] + x[2] > 0, "--valid-weights", v,
                "must be >= 0, at least one positive");
        LossWeights w;
        w.energy = x[0], w.forces = x[1], w.stress = x[2];
        o.valid_weights = w;
      });
  add("--config-type-weight", "TYPE=W", "multiply the three loss terms of the training frames with config_type TYPE "
      "by W >= 0 (repeatable; others 1; validation unweighted)", [&](const std::string& v) {
        const size_t eq = v.rfind('=');
        require(eq != std::string::npos && eq > 0, "--config-type-weight", v, "must be TYPE=W");
        const double w = real("--config-type-weight", v.substr(eq + 1));
        require(w >= 0, "--config-type-weight", v, "W must be >= 0");
        o.weights.config_type[v.substr(0, eq)] = w;
      });
  add("--lr", "X", "initial learning rate of Adam (" + fmt(d.lr) + ")", [&](const std::string& v) {
    o.lr = real("--lr", v);
    require(o.lr > 0, "--lr", v, "must be positive");
  });
  integer_flag("--batch-size", o.batch_size, 1, "structures per optimiser step");
  integer_flag("--epochs", o.epochs, 1, "maximum number of epochs");
  add("--lr-factor", "F", "factor of a learning-rate reduction on a plateau (" + fmt(d.lr_factor) + ")",
      [&](const std::string& v) {
        o.lr_factor = real("--lr-factor", v);
        require(o.lr_factor > 0 && o.lr_factor <= 1, "--lr-factor", v, "must lie in (0, 1]");
      });
  integer_flag("--lr-patience", o.lr_patience, 1, "epochs without improvement before the learning rate drops");
  add("--min-lr", "X", "the learning rate never drops below this (" + fmt(d.min_lr) + ")", [&](const std::string& v) {
    o.min_lr = real("--min-lr", v);
    require(o.min_lr >= 0, "--min-lr", v, "must be >= 0");
  });
  add("--ema-decay", "D", "decay of the exponential moving average of the weights (" + fmt(d.ema_decay) + ")",
      [&](const std::string& v) {
        o.ema_decay = real("--ema-decay", v);
        require(o.ema_decay >= 0 && o.ema_decay < 1, "--ema-decay", v, "must lie in [0, 1)");
      });
  integer_flag("--patience", o.patience, 1, "early stopping: epochs without improvement");
  add("--radial-smoothness", "W", "add W x the mean squared second difference of the radial spline coefficients to "
      "the training loss (curvature penalty; 0 = off) (" + fmt(d.radial_smoothness) + ")", [&](const std::string& v) {
        o.radial_smoothness = real("--radial-smoothness", v);
        require(o.radial_smoothness >= 0, "--radial-smoothness", v, "must be >= 0");
      });
  add("--clip-grad", "X", "clip the gradient norm to X; 0 = off (" + fmt(d.clip_grad) + ")", [&](const std::string& v) {
    o.clip_grad = real("--clip-grad", v);
    require(o.clip_grad >= 0, "--clip-grad", v, "must be >= 0");
  });
  add("--restart-factor", "F",
      "an epoch whose validation loss exceeds F x the best has diverged: go on from the best weights at a lower "
      "learning rate; 0 = off (" + fmt(d.restart_factor) + ")",
      [&](const std::string& v) {
        o.restart_factor = real("--restart-factor", v);
        require(o.restart_factor == 0 || o.restart_factor > 1, "--restart-factor", v, "must be 0 or > 1");
      });
  add("--seed", "N", "seed of the initial weights, the split and the shuffling (" + std::to_string(d.seed) + ")",
      [&](const std::string& v) {
        const long long s = integer("--seed", v);
        require(s >= 0, "--seed", v, "must be >= 0");
        o.seed = static_cast<uint64_t>(s);
      });
  integer_flag("--threads", o.threads, 0, "LibTorch threads; 0 = LibTorch's default");
  // Outputs.
  add("--output", "FILE", "the potential (" + d.output + ")", [&](const std::string& v) { o.output = v; });
  add("--log", "FILE", "CSV log, one row per epoch (default: the output with .csv)", [&](const std::string& v) { o.log = v; });
  add("--plots", "DIR", "PNG pictures and their data (default: the output without suffix + '-plots')",
      [&](const std::string& v) { o.plots = v; });
  add("--no-plots", "", "make no pictures", [&](const std::string&) { o.make_plots = false; });
  add("--checkpoint", "DIR", "write DIR/checkpoint.pt after every epoch", [&](const std::string& v) { o.checkpoint = v; });
  add("--resume", "", "continue from the checkpoint in --checkpoint DIR", [&](const std::string&) { o.resume = true; });
  add("--init", "FILE",
      "start from the weights of this potential, with its hyperparameters, elements and normalisation (the "
      "model flags are not used; see --grow), and a fresh optimiser",
      [&](const std::string& v) { o.init = v; });
  add("--grow", "KEY=N", "with --init: enlarge its model to l_max=N or layers=N (repeatable), computing the same "
      "function at first: the new weights that write into the features start at zero",
      [&](const std::string& v) {
        const auto eq = v.find('=');
        const std::string key = v.substr(0, eq);
        require(eq != std::string::npos && (key == "l_max" || key == "layers"), "--grow", v,
                "must be l_max=N or layers=N");
        (key == "l_max" ? o.grow_l_max : o.grow_layers) = int_at_least("--grow " + key, v.substr(eq + 1), 1);
      });
  add("--help", "", "print this and exit", [&](const std::string&) { help = true; });
  return f;
}

const char* kTrainSynopsis = "usage: facet-train --train FILE [options]  (docs/trainer.md)";

std::string quoted_command(const std::string& program, const std::vector<std::string>& args) {
  std::string s = program;
  for (const auto& a : args) s += " " + (a.find_first_of(" \t'\"") == std::string::npos ? a : "'" + a + "'");
  return s;
}

}  // namespace

TrainOptions parse_train_args(const std::vector<std::string>& args) {
  TrainOptions o;
  bool help = false;
  const auto flags = train_flags(o, help);
  parse(args, flags, [](const std::string& a) {
    throw UsageError("'" + a + "': unexpected argument (training files are given with --train FILE)");
  });
  if (help) return o;
  if (o.train_files.empty()) throw UsageError("--train: no training file given");
  if (o.resume && o.checkpoint.empty()) throw UsageError("--resume: needs --checkpoint DIR");
  if ((o.grow_l_max || o.grow_layers) && o.init.empty()) throw UsageError("--grow: needs --init FILE");
  if (o.weights.energy + o.weights.forces + o.weights.stress <= 0)
    throw UsageError("--energy-weight, --forces-weight, --stress-weight: at least one must be positive");
  ModelHyperparameters check = o.hyper;  // the checks that involve several flags (e.g. the grid against l_max)
  check.elements = {"H"};
  check.atomic_energies = {0.0};
  check.repulsion = Repulsion::none;  // its radii follow from the elements, checked by train()
  try {
    validate(check);
  } catch (const PotentialError& e) {  // its message starts with the key: name the flag, --l-max for l_max
    const std::string what = e.what();
    std::string flag = what.substr(0, what.find_first_of(" ,:"));
    for (char& c : flag)
      if (c == '_') c = '-';
    throw UsageError("--" + flag + ": " + what);
  }
  return o;
}

int train_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    TrainOptions o;
    bool help = false;
    const auto flags = train_flags(o, help);
    for (const auto& a : args)
      if (a == "--help" || a == "-h") {
        out << usage(kTrainSynopsis, flags);
        return 0;
      }
    o = parse_train_args(args);
    o.command_line = quoted_command("facet-train", args);
    train(o, out);
    return 0;
  } catch (const UsageError& e) {
    err << "facet-train: " << e.what() << " (facet-train --help lists the flags)\n";
    return 2;
  } catch (const std::exception& e) {
    err << "facet-train: error: " << e.what() << "\n";
    return 1;
  }
}

void rehash_potential(const std::string& path) {
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  // Drop the last line that starts with "checksum " (and what follows it), as the reader finds it.
  size_t cut = std::string::npos;
  for (size_t pos = 0; pos < text.size();) {
    if (text.compare(pos, 9, "checksum ") == 0) cut = pos;
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  if (cut != std::string::npos) text.resize(cut);
  if (!text.empty() && text.back() != '\n') text += '\n';
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(text.data(), text.size())));
  text += std::string("checksum fnv1a64 ") + hex + "\n";
  parse_potential(text, path);  // refuse to bless a file that does not read
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error(path + ": cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

int eval_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const char* synopsis =
      "usage: facet-eval POTENTIAL.facet FRAMES.xyz [options]\n"
      "       facet-eval --rehash POTENTIAL.facet   (recompute the checksum of a hand-edited file)";
  try {
    std::vector<std::string> positional;
    std::string output, rehash;
    ExtxyzKeys keys;
    bool per_frame = false, help = false;
    int threads = 1;  // as facet-train's default, so that the numbers agree to the last bit
    const std::vector<Flag> flags = {
        {"--output", "FILE", "write the predictions as extended XYZ", [&](const std::string& v) { output = v; }},
        {"--energy-key", "KEY", "key of the reference energy (energy)", [&](const std::string& v) { keys.energy = v; }},
        {"--forces-key", "KEY", "key of the reference forces (forces)", [&](const std::string& v) { keys.forces = v; }},
        {"--stress-key", "KEY", "key of the reference stress (stress)", [&](const std::string& v) { keys.stress = v; }},
        {"--virial-key", "KEY", "key of a reference virial (virial)", [&](const std::string& v) { keys.virial = v; }},
        {"--per-frame", "", "print every frame's energy", [&](const std::string&) { per_frame = true; }},
        {"--threads", "N", "LibTorch threads; 0 = LibTorch's default (1)",
         [&](const std::string& v) { threads = int_at_least("--threads", v, 0); }},
        {"--rehash", "FILE", "recompute the checksum line of FILE in place", [&](const std::string& v) { rehash = v; }},
        {"--help", "", "print this and exit", [&](const std::string&) { help = true; }}};
    parse(args, flags, [&](const std::string& a) { positional.push_back(a); });
    if (help) {
      out << usage(synopsis, flags);
      return 0;
    }
    if (!rehash.empty()) {
      if (!positional.empty()) throw UsageError("--rehash: takes only the potential file");
      rehash_potential(rehash);
      out << "rehashed " << rehash << "\n";
      return 0;
    }
    if (positional.size() != 2) throw UsageError("expected POTENTIAL.facet FRAMES.xyz");
    set_num_threads(threads);
    const Potential potential = read_potential(positional[0]);
    const auto frames = read_extxyz(positional[1], keys);
    const auto predicted = predict(potential, frames);
    const Metrics m = compare(predicted, frames);
    if (per_frame) {
      out << "# frame  source:line  atoms  E_pred(eV)  E_ref(eV)  dE(meV/atom)\n";
      for (size_t k = 0; k < frames.size(); ++k) {
        const auto& f = frames[k];
        out << k + 1 << "  " << f.source << ":" << f.line << "  " << f.size() << "  " << fmt(*predicted[k].energy, "%.10f");
        if (f.energy)
          out << "  " << fmt(*f.energy, "%.10f") << "  "
              << fmt(1000 * (*predicted[k].energy - *f.energy) / double(f.size()), "%.4f");
        out << "\n";
      }
    }
    out << positional[0] << " on " << positional[1] << ": " << frames.size() << " frames\n";
    auto line = [&](const char* what, double rmse, size_t n, const char* unit, const char* counted) {
      if (n)
        out << what << " RMSE " << fmt(1000 * rmse, "%.6g") << " " << unit << " (" << n << " " << counted << ")\n";
      else
        out << what << ": no labels\n";
    };
    line("energy", m.energy_rmse, m.energy_labels, "meV/atom", "frames");
    line("forces", m.forces_rmse, m.force_components, "meV/A", "components");
    line("stress", m.stress_rmse, m.stress_labels, "meV/A^3", "frames");
    const auto by_type = compare_by_config_type(predicted, frames);
    if (!by_type.empty()) out << "RMSE by config_type:\n" << config_type_table(by_type);
    if (!output.empty()) {
      std::ofstream file(output);
      if (!file) throw std::runtime_error(output + ": cannot write (" + std::strerror(errno) + ")");
      for (const auto& s : predicted) write_extxyz(file, s);
      if (!file.flush()) throw std::runtime_error(output + ": write failed");
      out << "wrote " << output << "\n";
    }
    return 0;
  } catch (const UsageError& e) {
    err << "facet-eval: " << e.what() << "\n" << synopsis << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "facet-eval: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace facet
