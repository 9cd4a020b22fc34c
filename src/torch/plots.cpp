#include "torch/plots.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <utility>

namespace facet {

namespace {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string num(double v, const char* format = "%.10g") {
  if (!std::isfinite(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Writes `script` as dir/name.gp and runs gnuplot in `dir`; data files are named relative to it.
bool run_gnuplot(const fs::path& dir, const std::string& name, const std::string& script, std::ostream& out) {
  {
    std::ofstream gp(dir / (name + ".gp"));
    gp << "set terminal pngcairo size 800,600 enhanced\nset encoding utf8\nset output '" << name << ".png'\n"
       << script;
  }
  static const bool have_gnuplot = std::system("command -v gnuplot > /dev/null 2>&1") == 0;
  static bool warned = false;
  if (!have_gnuplot) {
    if (!std::exchange(warned, true))
      out << "warning: gnuplot not found: no PNG pictures (their data and .gp scripts are in " << dir.string() << ")\n";
    return false;
  }
  const std::string cmd = "cd " + shell_quote(dir.string()) + " && gnuplot " + name + ".gp > /dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0 || !fs::exists(dir / (name + ".png"))) {
    out << "warning: gnuplot failed on " << (dir / (name + ".gp")).string() << " (run it there to see why)\n";
    return false;
  }
  return true;
}

}  // namespace

bool plot_learning_curve(const std::string& dir_name, const std::vector<EpochRecord>& history, std::ostream& out) {
  const fs::path dir(dir_name);
  fs::create_directories(dir);
  bool has[3] = {false, false, false};
  {
    std::ofstream dat(dir / "learning_curve.dat");
    dat << "# epoch  energy_rmse_meV_per_atom  forces_rmse_meV_per_A  stress_rmse_meV_per_A3  lr\n";
    for (const auto& r : history) {
      const double v[3] = {r.energy_rmse, r.forces_rmse, r.stress_rmse};
      dat << r.epoch;
      for (int k = 0; k < 3; ++k) {
        dat << " " << num(1000 * v[k]);
        has[k] = has[k] || (std::isfinite(v[k]) && v[k] > 0);
      }
      dat << " " << num(r.lr) << "\n";
    }
  }
  const char* titles[3] = {"energy (meV/atom)", "forces (meV/Å)", "stress (meV/Å^3)"};
  std::string plot;
  for (int k = 0; k < 3; ++k)
    if (has[k])
      plot += std::string(plot.empty() ? "plot " : ", ") + "'learning_curve.dat' using 1:" + std::to_string(k + 2) +
              " with linespoints title '" + titles[k] + "'";
  if (plot.empty()) return false;
  return run_gnuplot(dir, "learning_curve",
                     "set title 'validation RMSE (EMA weights)'\nset xlabel 'epoch'\nset ylabel 'RMSE'\n"
                     "set logscale y\nset grid\nset key top right\n" + plot + "\n",
                     out);
}

bool plot_parity(const std::string& dir_name, const std::vector<Structure>& predicted,
                 const std::vector<Structure>& reference, const std::string& set_name, std::ostream& out) {
  const fs::path dir(dir_name);
  fs::create_directories(dir);
  struct Series {
    const char* name;
    const char* label;
    const char* rmse_unit;  // RMSE in meV units: the points' unit times rmse_factor
    double rmse_factor;
    std::vector<std::pair<double, double>> points;  // (reference, predicted)
  } series[3] = {{"energy", "energy per atom (eV/atom)", "meV/atom", 1000, {}},
                 {"forces", "force component (eV/Å)", "meV/Å", 1000, {}},
                 {"stress", "stress component (meV/Å^3)", "meV/Å^3", 1, {}}};
  for (size_t k = 0; k < reference.size(); ++k) {
    const Structure &p = predicted[k], &r = reference[k];
    const double n = static_cast<double>(r.size());
    if (r.energy && p.energy) series[0].points.push_back({*r.energy / n, *p.energy / n});
    if (!r.forces.empty() && p.forces.size() == r.forces.size())
      for (size_t i = 0; i < r.forces.size(); ++i)
        for (int a = 0; a < 3; ++a) series[1].points.push_back({r.forces[i][a], p.forces[i][a]});
    if (r.stress && p.stress)
      for (int a = 0; a < 9; ++a) series[2].points.push_back({1000 * (*r.stress)[a], 1000 * (*p.stress)[a]});
  }
  bool ok = true;
  for (const auto& s : series) {
    if (s.points.empty()) continue;
    const std::string name = std::string("parity_") + s.name;
    double sq = 0;
    {
      std::ofstream dat(dir / (name + ".dat"));
      dat << "# reference predicted: " << s.label << "\n";
      for (const auto& [x, y] : s.points) {
        dat << num(x) << " " << num(y) << "\n";
        sq += (y - x) * (y - x);
      }
    }
    const double rmse = s.rmse_factor * std::sqrt(sq / static_cast<double>(s.points.size()));
    ok = run_gnuplot(dir, name,
                     "set title '" + set_name + " " + s.name + ": RMSE " + num(rmse, "%.4g") + " " + s.rmse_unit + " (" + std::to_string(s.points.size()) +
                         " values)'\nset xlabel 'reference " + s.label + "'\nset ylabel 'predicted " + s.label +
                         "'\nset size square\nset grid\nset key top left\n"
                         "plot '" + name + ".dat' using 1:2 with points pt 7 ps 0.5 title '" + set_name +
                         "', x with lines lc rgb 'gray' title 'y = x'\n",
                     out) && ok;
  }
  return ok;
}

}  // namespace facet
