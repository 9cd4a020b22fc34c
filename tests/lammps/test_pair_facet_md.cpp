// pair_style facet in the LAMMPS workflows users run, with the shipped Si-SW-demo potential (no LibTorch):
// energy conservation in NVE, the virial as the strain derivative of the energy, per-atom energies and
// virials, NPT and cell relaxation, restarts, changing numbers of atoms, neighbour-list settings and
// edge cases (isolated atoms, cells smaller than the cutoff, several or NULL types), and the examples.
//
// Every LAMMPS run is a separate `lmp` process (lammps_runner.hpp). Values are read from thermo tables
// printed with 17 digits, or from `print "@name value"` lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "lammps_runner.hpp"

using facet::testing::LammpsOptions;
using facet::testing::LammpsResult;
using facet::testing::run_lammps;

namespace {

const std::string kPotential = std::string(FACET_POTENTIALS_DIR) + "/Si-SW-demo.facet";
constexpr double kNktv2p = 1.6021765e6;  // LAMMPS metal units: bar per eV/Å^3
constexpr double kLattice = 5.4295;      // Si-SW-demo's relaxed lattice constant (potentials/README.md)

std::string plugin() { return std::string("plugin load ") + FACET_PLUGIN_PATH + "\nunits metal\natom_style atomic\n"; }

std::string facet_style(const std::string& elements = "Si") {
  return "pair_style facet\npair_coeff * * " + kPotential + " " + elements + "\n";
}

// Diamond silicon, nx × ny × nz conventional cells (8 atoms each) of lattice constant a (Å), all of
// type 1 in a box with `types` atom types.
std::string diamond(int nx, int ny, int nz, double a = kLattice, int types = 1) {
  std::ostringstream o;
  o.precision(17);
  o << "lattice diamond " << a << "\nregion box block 0 " << nx << " 0 " << ny << " 0 " << nz << "\ncreate_box "
    << types << " box\ncreate_atoms 1 box\nmass * 28.0855\n";
  return o.str();
}

// The 64-atom diamond cell sheared into a triclinic box and rattled by up to 0.1 Å.
std::string rattled_triclinic(int types = 1) {
  return diamond(2, 2, 2, kLattice, types) + "change_box all triclinic\n" +
         "change_box all xy final 0.6 xz final -0.5 yz final 0.4 remap units box\n" +
         "displace_atoms all random 0.1 0.1 0.1 8731 units box\n";
}

std::string thermo(const std::string& columns) {
  return "thermo_style custom " + columns + "\nthermo_modify format float %.17g\n";
}

// `print "@name $(expr:%.17g)"` lines of the log: name -> values in order.
std::vector<double> printed(const LammpsResult& run, const std::string& name) {
  std::vector<double> out;
  std::istringstream in(run.log);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("@" + name + " ", 0) == 0) out.push_back(std::stod(line.substr(name.size() + 2)));
  return out;
}

std::string print(const std::string& name, const std::string& expression) {
  return "print \"@" + name + " $(" + expression + ":%.17g)\"\n";
}

double relative_difference(double a, double b) { return std::abs(a - b) / std::max(std::abs(a), std::abs(b)); }

// Least-squares slope of y(x).
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i] / x.size(), my += y[i] / y.size();
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  return sxy / sxx;
}

// Root-mean-square deviation of y(x) from its least-squares line.
double rms_about_fit(const std::vector<double>& x, const std::vector<double>& y) {
  const double b = slope(x, y);
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i] / x.size(), my += y[i] / y.size();
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += std::pow(y[i] - my - b * (x[i] - mx), 2) / x.size();
  return std::sqrt(s);
}

LammpsResult run_ok(const std::string& input, const LammpsOptions& opt = {},
                    const std::map<std::string, std::string>& files = {}) {
  auto run = run_lammps(input, opt, files);
  EXPECT_EQ(run.exit_code, 0) << run.screen << "\n--- log ---\n" << run.log;
  return run;
}

LammpsOptions ranks(int n) {
  LammpsOptions opt;
  opt.mpi_ranks = n;
  return opt;
}

// An example input of examples/ with its index variables preset (they take precedence over the
// example's own `variable ... index` lines): the plugin and potential, and any of `overrides`.
std::string example(const std::string& file, const std::map<std::string, std::string>& overrides = {}) {
  std::string in = std::string("variable plugin index ") + FACET_PLUGIN_PATH + "\nvariable potential index " +
                   kPotential + "\n";
  for (const auto& [name, value] : overrides) in += "variable " + name + " index " + value + "\n";
  return in + facet::testing::read_file(std::string(FACET_EXAMPLES_DIR) + "/" + file);
}

// The value after `label` in the printed text, e.g. "relaxed lattice constant: 5.4295 A".
double value_after(const std::string& text, const std::string& label) {
  const size_t at = text.rfind(label);
  return at == std::string::npos ? std::nan("") : std::stod(text.substr(at + label.size()));
}

}  // namespace

// 1. NVE: velocity Verlet with conservative forces has no systematic energy drift, and its total-energy
// fluctuation scales as dt^2 (the shadow Hamiltonian differs from H by O(dt^2)). Forces that are not
// exactly -dE/dx (a missed ghost contribution, an inconsistent virial or neighbour) break both.
TEST(PairFacetMD, NveConservesEnergy) {
  // 8 atoms, 1 thread: ~0.7 ms of CPU time per atom-step (~70 s in all). Started at 600 K, equipartition
  // brings it to ~300 K.
  auto nve = [](double dt, int steps) {
    std::ostringstream in;
    in << plugin() << diamond(1, 1, 1) << facet_style() << "velocity all create 600.0 4928 loop geom\n"
       << "timestep " << dt << "\nfix nve all nve\nthermo 10\n" << thermo("step temp etotal") << "run " << steps << "\n";
    return run_ok(in.str());
  };
  const auto fine = nve(0.001, 10000);    // 10 ps
  const auto coarse = nve(0.002, 2500);  // 5 ps
  ASSERT_EQ(fine.thermo.size(), 1u);
  ASSERT_EQ(coarse.thermo.size(), 1u);
  auto series = [](const LammpsResult& run, double dt, double t_max) {
    std::pair<std::vector<double>, std::vector<double>> te;  // time (ps), total energy (eV)
    const auto step = run.thermo[0].column("Step"), etotal = run.thermo[0].column("TotEng");
    for (size_t i = 0; i < step.size(); ++i)
      if (step[i] * dt <= t_max) te.first.push_back(step[i] * dt), te.second.push_back(etotal[i]);
    return te;
  };
  const auto [t1, e1] = series(fine, 0.001, 10.0);
  const double drift = slope(t1, e1) / 8 * 1e6;  // meV/atom/ns
  const double mean_temperature = [&] {
    const auto temp = fine.thermo[0].column("Temp");
    double s = 0;
    for (double v : temp) s += v / temp.size();
    return s;
  }();
  // Measured: 0.085 meV/atom/ns at 1 fs (300 K mean). With the total energy fluctuating by ~0.2 meV rms
  // on a ~50 fs time scale, a slope fitted over 10 ps is resolved to ~0.5 meV/atom/ns; 1 meV/atom/ns
  // (which would heat the crystal by 4 K per ns) is above that noise and far below any force error.
  EXPECT_LT(std::abs(drift), 1.0) << "meV/atom/ns";
  EXPECT_NEAR(mean_temperature, 300.0, 60.0);
  // Fluctuations over the same 5 ps at 1 and 2 fs: measured 0.21 and 0.86 meV (ratio 4.0). Finite
  // samples of a fluctuating signal scatter by ~10%, so [3, 5.5] brackets dt^2 and excludes dt^1 and dt^3.
  const auto [t1h, e1h] = series(fine, 0.001, 5.0);
  const auto [t2, e2] = series(coarse, 0.002, 5.0);
  const double ratio = rms_about_fit(t2, e2) / rms_about_fit(t1h, e1h);
  EXPECT_GT(ratio, 3.0);
  EXPECT_LT(ratio, 5.5);
  std::cout << "NVE 8 atoms: drift " << drift << " meV/atom/ns, fluctuation (1 fs) " << rms_about_fit(t1, e1) * 1e3
            << " meV, fluctuation ratio 2 fs / 1 fs " << ratio << ", mean T " << mean_temperature << " K\n";
}

// 2. The virial LAMMPS reports (compute pressure ... virial) is minus the derivative of the energy with
// respect to a homogeneous deformation: with the cell matrix h (columns: the cell vectors; upper
// triangular in LAMMPS: lx xy xz / 0 ly yz / 0 0 lz) and x = h s at fixed fractional coordinates s,
// dE = -tr(W dh h^-1), i.e. dE/dh = -W h^-T. Each of the six box parameters is changed by ±delta
// with change_box ... remap, on a rattled triclinic 64-atom cell.
TEST(PairFacetMD, VirialIsTheStrainDerivativeOfTheEnergy) {
  const double delta = 1e-4;  // Å
  std::ostringstream in;
  in.precision(17);
  in << plugin() << rattled_triclinic() << facet_style() << "compute p all pressure NULL virial\n"
     << thermo("step pe c_p[1] c_p[2] c_p[3] c_p[4] c_p[5] c_p[6] vol lx ly lz xy xz yz") << "run 0\n";
  const char* changes[6] = {"x delta 0 %", "y delta 0 %", "z delta 0 %", "xy delta %", "xz delta %", "yz delta %"};
  auto change = [&](int k, double d) {
    std::string c = changes[k];
    std::ostringstream v;
    v.precision(17);
    v << d;
    c.replace(c.find('%'), 1, v.str());
    return "change_box all " + c + " remap units box\n";
  };
  for (int k = 0; k < 6; ++k)
    in << change(k, delta) << "run 0\n" << change(k, -2 * delta) << "run 0\n" << change(k, delta);
  const auto run = run_ok(in.str());
  ASSERT_EQ(run.thermo.size(), 13u);
  const auto& t0 = run.thermo[0];
  auto at = [&](const char* column) { return t0.column(column)[0]; };
  const double V = at("Volume");
  const double p[6] = {at("c_p[1]"), at("c_p[2]"), at("c_p[3]"), at("c_p[4]"), at("c_p[5]"), at("c_p[6]")};
  // W (eV): xx yy zz xy xz yz, symmetric.
  double W[3][3];
  const int ab[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
  for (int k = 0; k < 6; ++k) W[ab[k][0]][ab[k][1]] = W[ab[k][1]][ab[k][0]] = p[k] * V / kNktv2p;
  const double lx = at("Lx"), ly = at("Ly"), lz = at("Lz"), xy = at("Xy"), xz = at("Xz"), yz = at("Yz");
  const double hinv[3][3] = {{1 / lx, -xy / (lx * ly), (xy * yz - ly * xz) / (lx * ly * lz)},
                             {0, 1 / ly, -yz / (ly * lz)},
                             {0, 0, 1 / lz}};
  // The box parameter changed by each change_box line: h entry (row, column).
  const int entry[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
  for (int k = 0; k < 6; ++k) {
    const int c = entry[k][0], d = entry[k][1];
    double predicted = 0;
    for (int b = 0; b < 3; ++b) predicted -= W[c][b] * hinv[d][b];
    const double fd = (run.thermo[1 + 2 * k].column("PotEng")[0] - run.thermo[2 + 2 * k].column("PotEng")[0]) / (2 * delta);
    std::cout << changes[k] << ": dE/dh " << predicted << " eV/A, central difference " << fd << ", error "
              << fd - predicted << "\n";
    // Truncation delta^2/6 |d3E/dh3| ~ 2e-9 eV/Å (2e-7 measured at delta = 1e-3, scaling as delta^2);
    // round-off ~1e-13 |E| / delta ~ 1e-9 (|E| ~ 280 eV). Measured: <= 7e-9 eV/Å for values of 1-5 eV/Å.
    EXPECT_NEAR(fd, predicted, 1e-7) << changes[k];
  }
}

// 3. compute pe/atom sums to the global energy and compute stress/atom to minus the global virial
// (stress/atom is -W_i in bar Å^3), at every thermo step of a short NVE run, on 1 and 2 MPI ranks.
TEST(PairFacetMD, PerAtomEnergiesAndVirialsSumToTheGlobalOnes) {
  const std::string input = plugin() + rattled_triclinic() + facet_style() +
                            "compute p all pressure NULL virial\ncompute pea all pe/atom\n"
                            "compute sa all stress/atom NULL virial\ncompute pesum all reduce sum c_pea\n"
                            "compute ssum all reduce sum c_sa[1] c_sa[2] c_sa[3] c_sa[4] c_sa[5] c_sa[6]\n"
                            "velocity all create 300.0 771 loop geom\nfix nve all nve\nthermo 5\n" +
                            thermo("step pe c_pesum c_p[*] c_ssum[*] vol") + "run 10\n";
  for (int n : {1, 2}) {
    const auto run = run_ok(input, ranks(n));
    ASSERT_EQ(run.thermo.size(), 1u);
    const auto& t = run.thermo[0];
    ASSERT_EQ(t.rows.size(), 3u);
    for (size_t r = 0; r < t.rows.size(); ++r) {
      // Sums of 64 terms in another order: round-off ~1e-14 relative; 1e-10 leaves a wide margin.
      const double pe = t.column("PotEng")[r];
      EXPECT_NEAR(t.column("c_pesum")[r], pe, 1e-10 * std::abs(pe)) << n << " ranks, row " << r;
      const double V = t.column("Volume")[r];
      double scale = 0;
      for (int k = 1; k <= 6; ++k) scale = std::max(scale, std::abs(t.column("c_p[" + std::to_string(k) + "]")[r]));
      for (int k = 1; k <= 6; ++k) {
        const std::string index = "[" + std::to_string(k) + "]";
        EXPECT_NEAR(-t.column("c_ssum" + index)[r] / V, t.column("c_p" + index)[r], 1e-10 * scale)
            << n << " ranks, row " << r << ", component " << k;
      }
    }
  }
}

// 4a. NPT at 300 K and 0 bar: the 64-atom cell breathes around its equilibrium volume, the
// Nose-Hoover conserved quantity stays bounded, and nothing fails.
TEST(PairFacetMD, NptIsStable) {
  const auto run = run_ok(plugin() + diamond(2, 2, 2) + facet_style() +
                          "velocity all create 600.0 4928 loop geom\n"
                          "fix npt all npt temp 300.0 300.0 0.1 iso 0.0 0.0 0.5\nthermo 10\n" +
                          thermo("step temp pe press vol econserve") + "run 200\n");
  ASSERT_EQ(run.thermo.size(), 1u);
  const auto& t = run.thermo[0];
  ASSERT_EQ(t.rows.size(), 21u);
  const double v0 = 64 * std::pow(kLattice, 3) / 8;
  const auto volume = t.column("Volume"), econserve = t.column("Econserve"), temp = t.column("Temp");
  double mean_temp = 0;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    // Measured: -0.2% to +1.2% (the 600 K start makes the cell breathe, period ~100 fs); a wrong virial
    // (sign, factor) collapses or inflates the cell within a few hundred fs.
    EXPECT_NEAR(volume[r] / v0, 1.0, 0.03) << "step " << t.column("Step")[r];
    // Measured: within 6 meV of its start, as with LAMMPS's own pair_style sw on this system (the
    // Nose-Hoover integrator's fluctuation at Tdamp 0.1 ps); 20 meV = 0.3 meV/atom.
    EXPECT_NEAR(econserve[r], econserve[0], 0.020) << "step " << t.column("Step")[r];
    if (r > 0) mean_temp += temp[r] / (t.rows.size() - 1);
  }
  EXPECT_NEAR(mean_temp, 300.0, 100.0);  // 64 atoms over 0.2 ps: large but bounded fluctuations
}

// 4b. fix box/relax + minimize (examples/silicon-md/in.relax on the 8-atom cell: a perfect crystal relaxes
// to the same lattice constant in any supercell) gives the lattice constant and energy recorded in
// potentials/README.md, on 1 and 2 MPI ranks and under LAMMPS's Kokkos runtime (item 8 for in.relax).
TEST(PairFacetMD, BoxRelaxGivesTheRecordedLatticeConstant) {
  const std::string input = example("silicon-md/in.relax", {{"cells", "1"}}) + print("press", "press");
  LammpsOptions kokkos;
  kokkos.kokkos = true;
  kokkos.threads = 2;
  for (const auto& [name, options] : {std::pair{"1 rank", LammpsOptions{}}, {"2 ranks", ranks(2)}, {"-k on t 2 -sf kk", kokkos}}) {
    const auto run = run_ok(input, options);
    // Recorded to 4 decimals (a = 5.4295 Å, -4.3365 eV/atom); measured 5.429497 Å, -4.336481 eV/atom,
    // 0.16 bar left. 1 bar of residual pressure would move a by ~2e-6 Å (B ~ 1e6 bar).
    EXPECT_NEAR(value_after(run.log, "relaxed lattice constant: "), kLattice, 5e-5) << name;
    EXPECT_NEAR(value_after(run.log, "A, energy "), -4.3365, 5e-5) << name;
    ASSERT_EQ(printed(run, "press").size(), 1u) << name;
    EXPECT_LT(std::abs(printed(run, "press")[0]), 1.0) << name;
  }
}

// 5. Restarts. Like the other potentials that read a file (pair_style sw, snap, pace: restartinfo = 0),
// pair_style facet writes nothing to restart files: after read_restart the input gives plugin load
// (`clear` unloads plugins in LAMMPS 29 Sep 2021), pair_style and pair_coeff again, and the run then
// continues exactly as the uninterrupted one.
TEST(PairFacetMD, RestartedRunContinuesTheUninterruptedOne) {
  const std::string columns = "step pe etotal press";
  const std::string input = plugin() + diamond(2, 1, 1) + facet_style() +
                            "velocity all create 600.0 3321 loop geom\nfix nve all nve\nthermo 20\n" +
                            thermo(columns) + "run 20\nwrite_restart state.restart\nrun 20\nclear\n" + plugin() +
                            "read_restart state.restart\n" + facet_style() + "fix nve all nve\nthermo 20\n" +
                            thermo(columns) + "run 20\n";
  for (int n : {1, 2}) {
    const auto run = run_ok(input, ranks(n));
    ASSERT_EQ(run.thermo.size(), 3u);
    const auto& whole = run.thermo[1];
    const auto& restarted = run.thermo[2];
    ASSERT_EQ(restarted.column("Step").back(), 40);
    ASSERT_EQ(whole.column("Step").back(), 40);
    // The restart file holds positions and velocities exactly; neighbour lists are rebuilt (another
    // summation order): round-off ~1e-15 grown by 20 steps of chaotic dynamics, far below 1e-10.
    for (const char* c : {"PotEng", "TotEng", "Press"})
      EXPECT_NEAR(restarted.column(c).back(), whole.column(c).back(), 1e-10 * std::abs(whole.column(c).back()))
          << c << ", " << n << " ranks";
    std::cout << n << " ranks: restarted energy differs by "
              << relative_difference(restarted.column("PotEng").back(), whole.column("PotEng").back()) << " relative\n";
  }
}

// 6. The number of atoms changes during and between runs (fix deposit, delete_atoms, fix evaporate,
// create_atoms) on a slab with vacuum, on 2 MPI ranks: after each stage the energy equals that of the
// same configuration read afresh (write_data, clear, read_data, run 0).
TEST(PairFacetMD, ChangingNumbersOfAtoms) {
  // 48 atoms: 6 layers up to z = 1.25 a = 6.8 Å in a 2 x 2 x 4 box; the top region is 6.8 Å above them.
  std::string input = plugin() +
                      "lattice diamond 5.4295\nregion box block 0 2 0 2 0 4\ncreate_box 1 box\n"
                      "region slab block 0 2 0 2 0 1.4\ncreate_atoms 1 region slab\nmass 1 28.0855\n" +
                      facet_style() +
                      "region top block 0 2 0 2 2.5 3.0\nregion corner block 0 1 0 1 0 0.5\n"
                      "region surface block INF INF INF INF 1.0 1.4\n"
                      "velocity all create 300.0 5531 loop geom\nfix nve all nve\nthermo 10\n" +
                      thermo("step atoms pe");
  const std::vector<std::pair<std::string, std::string>> stages = {
      {"fix deposit", "fix dep all deposit 2 1 20 7411 region top near 3.0 vz -3.0 -3.0 units box\nrun 50\nunfix dep\n"},
      {"delete_atoms", "delete_atoms region corner\nrun 20\n"},
      {"fix evaporate", "fix evap all evaporate 5 1 surface 4387\nrun 10\nunfix evap\n"},
      // 2.35 Å (a bond) above the surface site (0.25 a, 0.25 a, 1.25 a).
      {"create_atoms", "create_atoms 1 single 1.3567 1.3567 9.1335 units box\nrun 20\n"},
  };
  for (size_t k = 0; k < stages.size(); ++k)
    input += stages[k].second + "write_data stage" + std::to_string(k) + ".data\n";
  for (size_t k = 0; k < stages.size(); ++k)
    input += "clear\n" + plugin() + "read_data stage" + std::to_string(k) + ".data\n" + facet_style() +
             thermo("step atoms pe") + "run 0\n";
  const auto run = run_ok(input, ranks(2));
  ASSERT_EQ(run.thermo.size(), 2 * stages.size());
  double atoms = 48;
  // delete_atoms removes the atoms in a corner region (4 measured; those on its faces may move out).
  const double expected_change[4] = {+2, 0, -2, +1};
  for (size_t k = 0; k < stages.size(); ++k) {
    const auto& during = run.thermo[k];
    const auto& fresh = run.thermo[stages.size() + k];
    const double n = during.column("Atoms").back();
    if (k == 1) {
      EXPECT_LT(n, atoms) << stages[k].first;
    } else {
      EXPECT_EQ(n, atoms + expected_change[k]) << stages[k].first;
    }
    atoms = n;
    EXPECT_EQ(fresh.column("Atoms")[0], n);
    // The same positions (written with 17 digits) in another atom order: round-off only.
    const double pe = during.column("PotEng").back();
    EXPECT_NEAR(fresh.column("PotEng")[0], pe, 1e-10 * std::abs(pe)) << stages[k].first;
    std::cout << stages[k].first << ": " << n << " atoms, energy " << pe << " eV, fresh run differs by "
              << relative_difference(fresh.column("PotEng")[0], pe) << " relative\n";
  }
}

// 7a. `run 0` and neighbour-list settings (skin, rebuild frequency, bin/nsq, page sizes) change nothing
// but the order of sums: 60 steps of MD at 1500 K give the same energies in every variant.
TEST(PairFacetMD, RunZeroAndNeighborListSettingsGiveTheSameResults) {
  const std::vector<std::string> variants = {
      "neighbor 0.3 bin\nneigh_modify every 1 delay 0 check yes\n",
      "neighbor 2.0 bin\nneigh_modify every 1 delay 0 check yes\n",
      "neighbor 1.0 bin\nneigh_modify every 5 delay 0 check no\n",  // atoms move < 0.1 Å in 5 steps
      "neighbor 0.3 nsq\nneigh_modify one 100 page 1000\n",
  };
  std::vector<LammpsResult> runs;
  for (const auto& v : variants) {
    runs.push_back(run_ok(plugin() + diamond(2, 1, 1) + facet_style() + v +
                          "velocity all create 1500.0 9157 loop geom\nfix nve all nve\nthermo 10\n" +
                          thermo("step pe etotal press") + "run 0\nrun 60\n"));
    ASSERT_EQ(runs.back().thermo.size(), 2u) << v;
  }
  std::vector<std::string> builds;
  for (size_t v = 0; v < runs.size(); ++v) {
    const auto& run0 = runs[v].thermo[0];
    const auto& md = runs[v].thermo[1];
    // run 0 computes what the first step of a run computes, from the same state.
    for (const char* c : {"PotEng", "TotEng", "Press"}) EXPECT_EQ(run0.column(c)[0], md.column(c)[0]) << variants[v];
    const auto& ref = runs[0].thermo[1];
    ASSERT_EQ(md.rows.size(), ref.rows.size());
    // Sums in another neighbour order differ by ~1e-16 relative; 60 steps of chaotic dynamics amplify
    // that far less than a millionfold (measured: <= 2.2e-16).
    double max_difference = 0;
    for (size_t r = 0; r < ref.rows.size(); ++r)
      for (const char* c : {"PotEng", "TotEng"}) {
        EXPECT_NEAR(md.column(c)[r], ref.column(c)[r], 1e-10 * std::abs(ref.column(c)[r])) << variants[v] << c << r;
        max_difference = std::max(max_difference, relative_difference(md.column(c)[r], ref.column(c)[r]));
      }
    const size_t at = runs[v].log.rfind("Neighbor list builds = ");
    builds.push_back(at == std::string::npos ? "" : runs[v].log.substr(at, runs[v].log.find('\n', at) - at));
    std::cout << variants[v] << "  " << builds.back() << ", max relative difference " << max_difference << "\n";
  }
  // The settings took effect: the lists were rebuilt a different number of times.
  EXPECT_NE(builds[0], builds[1]);
  EXPECT_NE(builds[0], builds[2]);
  // Too small a per-atom limit is LAMMPS's own error ("Neighbor list overflow, boost neigh_modify one",
  // an error->one: MPI_Abort with code 1), not a crash. LAMMPS 29 Sep 2021 built with exceptions aborts
  // without flushing its output when that is not a terminal, so only the exit code can be checked here.
  const auto overflow = run_lammps(plugin() + diamond(1, 1, 1) + facet_style() + "neigh_modify one 10 page 1000\nrun 0\n");
  EXPECT_EQ(overflow.exit_code, 1) << overflow.screen;
}

// 7b. An atom with no neighbour within r_cut: its energy is the isolated-atom energy of the potential
// (what a lone atom in a box gets), the force on it is exactly zero, and it adds just that energy to a
// cluster far away.
TEST(PairFacetMD, IsolatedAtom) {
  const auto run = run_ok(
      plugin() + "atom_modify map yes\nregion box block 0 30 0 30 0 30 units box\ncreate_box 1 box\nmass 1 28.0855\n"
      // A distorted 5-atom tetrahedral cluster near (5, 5, 5) Å and atom 6 > 20 Å from it and its images.
      "create_atoms 1 single 5.0 5.0 5.0 units box\ncreate_atoms 1 single 6.4 6.3 6.35 units box\n"
      "create_atoms 1 single 3.7 3.6 6.4 units box\ncreate_atoms 1 single 3.6 6.4 3.65 units box\n"
      "create_atoms 1 single 6.35 3.6 3.7 units box\ncreate_atoms 1 single 20.0 20.0 20.0 units box\n" +
      // v_ea[6] rather than c_pea[6], which LAMMPS 29 Aug 2024 refuses ("Mismatched compute in variable formula")
      facet_style() + "compute pea all pe/atom\nvariable ea atom c_pea\nvariable e6 equal v_ea[6]\n" +
      "thermo_style custom step pe v_e6\nrun 0\n" +
      print("e_all", "pe") + print("e6", "v_e6") + print("f6", "abs(fx[6])+abs(fy[6])+abs(fz[6])") +
      print("f1", "abs(fx[1])+abs(fy[1])+abs(fz[1])") +
      "thermo_style custom step pe\ngroup lone id 6\ndelete_atoms group lone\nrun 0\n" + print("e_cluster", "pe") +
      "delete_atoms group all\ncreate_atoms 1 single 15.0 15.0 15.0 units box\nrun 0\n" + print("e_single", "pe"));
  for (const char* name : {"e_all", "e6", "f6", "f1", "e_cluster", "e_single"}) ASSERT_EQ(printed(run, name).size(), 1u) << name;
  const double e_single = printed(run, "e_single")[0];
  std::cout << "isolated-atom energy " << e_single << " eV\n";
  EXPECT_NEAR(printed(run, "e6")[0], e_single, 1e-12 * std::abs(e_single));  // the same operations
  EXPECT_EQ(printed(run, "f6")[0], 0.0);  // no edge touches atom 6
  EXPECT_GT(printed(run, "f1")[0], 0.1);  // the cluster is not at rest: its forces are computed
  const double e_all = printed(run, "e_all")[0];
  EXPECT_NEAR(e_all, printed(run, "e_cluster")[0] + e_single, 1e-10 * std::abs(e_all));
}

// 7c. A cell smaller than the cutoff: the 2-atom primitive cell of diamond silicon (edges 2.7-3.8 Å
// < r_cut = 4 Å), sheared and with one atom displaced, against its 3 x 3 x 3 replica (54 atoms). LAMMPS's
// ghost images make both the same infinite crystal: 27 times the energy, the same pressure tensor.
TEST(PairFacetMD, CellSmallerThanTheCutoff) {
  // L = a / sqrt(2) = 3.8373 Å: cell vectors (L, 0, 0), (0.04, L, 0), (1.85, -1.88, L / sqrt(2)) (ideal
  // tilts ±L/2); atoms at 0 and near a/4 (1, 1, 1) = (L/2, 0, L/sqrt(8)).
  const std::string data =
      "primitive diamond Si, sheared\n\n2 atoms\n1 atom types\n\n0 3.8373 xlo xhi\n0 3.8373 ylo yhi\n"
      "0 2.7134 zlo zhi\n0.04 1.85 -1.88 xy xz yz\n\nMasses\n\n1 28.0855\n\nAtoms # atomic\n\n"
      "1 1 0.1 0.1 0.1\n2 1 2.0486 0.12 1.4367\n";
  const std::string input = plugin() + "read_data cell.data\n" + facet_style() +
                            "compute p all pressure NULL virial\n" + thermo("step atoms pe c_p[*]") +
                            "run 0\nreplicate 3 3 3\nrun 0\n";
  for (int n : {1, 2}) {
    const auto run = run_ok(input, ranks(n), {{"cell.data", data}});
    ASSERT_EQ(run.thermo.size(), 2u);
    const auto& small = run.thermo[0];
    const auto& large = run.thermo[1];
    ASSERT_EQ(small.column("Atoms")[0], 2);
    ASSERT_EQ(large.column("Atoms")[0], 54);
    // The same edges summed in another order: round-off only.
    const double e = small.column("PotEng")[0];
    EXPECT_NEAR(large.column("PotEng")[0] / 27, e, 1e-10 * std::abs(e)) << n << " ranks";
    std::cout << n << " ranks: 2-atom cell " << e << " eV, replica / 27 differs by "
              << relative_difference(large.column("PotEng")[0] / 27, e) << " relative\n";
    double scale = 0;
    for (int k = 1; k <= 6; ++k) scale = std::max(scale, std::abs(small.column("c_p[" + std::to_string(k) + "]")[0]));
    for (int k = 1; k <= 6; ++k) {
      const std::string c = "c_p[" + std::to_string(k) + "]";
      EXPECT_NEAR(large.column(c)[0], small.column(c)[0], 1e-10 * scale) << n << " ranks, " << c;
    }
  }
}

// 7d. Several atom types mapped to one element give the same results as one type; a type mapped to
// NULL (pair_style hybrid) is invisible to facet: it feels no force from it and adds no energy.
TEST(PairFacetMD, SeveralTypesPerElementAndNullTypes) {
  const std::string columns = "step pe c_p[*]";
  const auto same = run_ok(plugin() + rattled_triclinic(2) + "set type 1 type/fraction 2 0.5 1234\n" +
                           facet_style("Si Si") + "compute p all pressure NULL virial\n" + thermo(columns) +
                           "group two type 2\n" + print("two", "count(two)") + "run 0\nset type 2 type 1\nrun 0\n");
  ASSERT_EQ(same.thermo.size(), 2u);
  EXPECT_GT(printed(same, "two").at(0), 16);
  // The element, not the type, selects the parameters: the same numbers up to round-off.
  for (const char* c : {"PotEng", "c_p[1]", "c_p[2]", "c_p[3]", "c_p[4]", "c_p[5]", "c_p[6]"}) {
    const double a = same.thermo[0].column(c)[0], b = same.thermo[1].column(c)[0];
    EXPECT_NEAR(a, b, 1e-10 * std::abs(b)) << c;
    std::cout << c << " relative difference " << relative_difference(a, b) << "\n";
  }

  // Regression: under hybrid, LAMMPS sized its communication buffers before pair_coeff had set facet's
  // exchange size, and the first forward exchange overran them (segmentation fault).
  for (int n : {1, 2}) {
    const auto null = run_ok(plugin() + rattled_triclinic(2) + "set type 1 type/fraction 2 0.25 1234\n" +
                                 "pair_style hybrid facet zero 4.0\npair_coeff * * facet " + kPotential +
                                 " Si NULL\npair_coeff * 2 zero\ngroup null type 2\n"
                                 "variable fabs atom abs(fx)+abs(fy)+abs(fz)\ncompute fnull null reduce max v_fabs\n"
                                 "compute fmax all reduce max v_fabs\n" +
                                 thermo("step atoms pe c_fnull c_fmax") + "run 0\ndelete_atoms group null\nrun 0\n",
                             ranks(n));
    ASSERT_EQ(null.thermo.size(), 2u) << n << " ranks";
    const auto& with = null.thermo[0];
    const auto& without = null.thermo[1];
    EXPECT_LT(without.column("Atoms")[0], with.column("Atoms")[0]);
    EXPECT_EQ(with.column("c_fnull")[0], 0.0) << n << " ranks";
    EXPECT_GT(with.column("c_fmax")[0], 0.1) << n << " ranks";
    const double e = without.column("PotEng")[0];
    EXPECT_NEAR(with.column("PotEng")[0], e, 1e-10 * std::abs(e)) << n << " ranks";  // another atom order
  }

  // Without hybrid, LAMMPS's own check stops a NULL type that no pair style covers.
  const auto uncovered = run_lammps(plugin() + diamond(1, 1, 1, kLattice, 2) + facet_style("Si NULL") + "run 0\n");
  EXPECT_NE(uncovered.exit_code, 0);
  EXPECT_NE(uncovered.screen.find("All pair coeffs are not set"), std::string::npos) << uncovered.screen;
}

// 7e. Atoms leaving a non-periodic boundary: LAMMPS's `thermo_modify lost` decides (an error by
// default); with `lost ignore` the run goes on and the remaining slab evolves as if the atom never was.
TEST(PairFacetMD, LostAtomsAreHandledByLammps) {
  // An 8-atom slab (z = 5.4 to 9.5 Å) in a p p f box 16.3 Å high; atom 9 at z = 14.1 Å, > 4 Å from the
  // slab, flies out through the top at 50 Å/ps (after ~45 steps).
  auto input = [](bool extra_atom, const std::string& lost) {
    std::string in = plugin() + "boundary p p f\nlattice diamond 5.4295\nregion box block 0 1 0 1 0 3\n"
                                "create_box 1 box\nregion slab block 0 1 0 1 1.0 1.9\ncreate_atoms 1 region slab\n"
                                "mass 1 28.0855\n" + facet_style();
    if (extra_atom) in += "create_atoms 1 single 0.5 0.5 2.6\ngroup flyer id 9\nvelocity flyer set 0 0 50 units box\n";
    return in + "fix nve all nve\nthermo 10\n" + thermo("step atoms pe") + "thermo_modify lost " + lost + "\nrun 60\n";
  };
  const auto error = run_lammps(input(true, "error"));
  EXPECT_NE(error.exit_code, 0);
  EXPECT_NE((error.screen + error.log).find("Lost atoms: original 9 current 8"), std::string::npos) << error.screen;
  const auto ignored = run_ok(input(true, "ignore"));
  const auto alone = run_ok(input(false, "error"));
  ASSERT_EQ(ignored.thermo.size(), 1u);
  ASSERT_EQ(alone.thermo.size(), 1u);
  EXPECT_EQ(ignored.thermo[0].column("Atoms").back(), 8);
  const double e = alone.thermo[0].column("PotEng").back();
  EXPECT_NEAR(ignored.thermo[0].column("PotEng").back(), e, 1e-10 * std::abs(e));
}

// 8. examples/silicon-md/in.md (NVT, then NVE) runs under LAMMPS's Kokkos runtime and on 2 MPI ranks,
// shortened to 2 x 10 steps, with the same results; the NVE part keeps its energy.
// (in.relax: BoxRelaxGivesTheRecordedLatticeConstant.)
TEST(PairFacetMD, MdExampleRunsWithKokkosAndMpi) {
  const std::string input = example("silicon-md/in.md", {{"nvt_steps", "10"}, {"nve_steps", "10"}});
  LammpsOptions kokkos;
  kokkos.kokkos = true;
  kokkos.threads = 2;
  std::vector<double> last_pe;
  for (const auto& [name, options] : {std::pair{"-k on t 2 -sf kk", kokkos}, {"mpirun -np 2", ranks(2)}}) {
    const auto run = run_ok(input, options);
    ASSERT_EQ(run.thermo.size(), 2u) << name;
    const auto& nve = run.thermo[1];
    ASSERT_EQ(nve.column("Step").back(), 20) << name;
    // 64 atoms at ~250 K, 1 fs: the 8-atom NVE test measures 0.2 meV rms at 300 K, i.e. ~0.6 meV for 64
    // uncorrelated atoms; measured 2.4 meV with 20 + 20 steps, right after the thermostat. 5 meV = 0.08 meV/atom.
    const auto etotal = nve.column("TotEng");
    for (double e : etotal) EXPECT_NEAR(e, etotal[0], 0.005) << name;
    if (options.kokkos) {
      EXPECT_NE(run.screen.find("KOKKOS mode"), std::string::npos) << run.screen;
    }
    last_pe.push_back(nve.column("PotEng").back());
  }
  // The example prints 8 significant digits; 20 steps amplify round-off differences far less.
  EXPECT_NEAR(last_pe[0], last_pe[1], 1e-7 * std::abs(last_pe[0]));
  // -var precision mixed: the same trajectory to single-precision round-off (1e-6 eV on 64 atoms at step 0,
  // test 9; 20 steps of a chaotic trajectory amplify it little), the same energy conservation.
  const auto mixed = run_ok(example("silicon-md/in.md", {{"nvt_steps", "10"}, {"nve_steps", "10"}, {"precision", "mixed"}}));
  ASSERT_EQ(mixed.thermo.size(), 2u);
  EXPECT_NE(mixed.log.find("mixed precision"), std::string::npos);
  const auto etotal = mixed.thermo[1].column("TotEng");
  for (double e : etotal) EXPECT_NEAR(e, etotal[0], 0.005);
  EXPECT_NEAR(mixed.thermo[1].column("PotEng").back(), last_pe[0], 1e-6 * std::abs(last_pe[0]));
}

// 9. `pair_style facet precision mixed` (float weights, features and kernels; double positions, edge vectors
// and sums) against double, on one rank, two ranks and the Kokkos style: in one run, the mixed forces are
// stored, the style is switched to double by giving pair_style again (pair_coeff kept) and the difference
// is reduced (max over atoms of |dFx| + |dFy| + |dFz|). Measured on the 64-atom rattled cell: |dE| ~1e-6 eV, max |dF| ~1e-6 eV/A (float round-off,
// unit 6e-8; tests/engine MixedPrecisionAgreesWithDouble); the bounds are 10x above, and 10^4 below the
// shipped potentials' force errors.
TEST(PairFacetMD, MixedPrecisionAgreesWithDouble) {
  const std::string input =
      plugin() + rattled_triclinic() + "pair_style facet precision mixed\npair_coeff * * " + kPotential + " Si\n" +
      "run 0\n" + print("e_mixed", "pe") + "fix mixed all store/state 0 fx fy fz\n" +
      "pair_style facet precision double\n" +
      "variable df atom abs(fx-f_mixed[1])+abs(fy-f_mixed[2])+abs(fz-f_mixed[3])\n" +
      "compute dfmax all reduce max v_df\n" + thermo("step pe c_dfmax") + "run 0\n" + print("e_double", "pe") +
      print("df_max", "c_dfmax");
  LammpsOptions kokkos;
  kokkos.kokkos = true;
  kokkos.threads = 2;
  for (const auto& [name, options] : {std::pair{"serial", LammpsOptions{}}, {"2 ranks", ranks(2)}, {"kk", kokkos}}) {
    const auto run = run_ok(input, options);
    ASSERT_EQ(printed(run, "e_mixed").size(), 1u) << name;
    const double e_mixed = printed(run, "e_mixed")[0], e_double = printed(run, "e_double")[0];
    const double df = printed(run, "df_max")[0];
    EXPECT_LT(std::abs(e_mixed - e_double), 1e-5) << name;
    EXPECT_GT(std::abs(e_mixed - e_double), 0.0) << name;  // float really is used
    EXPECT_LT(df, 1e-5) << name;
    EXPECT_NE(run.log.find("mixed precision"), std::string::npos) << name;
    EXPECT_NE(run.log.find("double precision"), std::string::npos) << name;  // the switch rebuilt the engine
    std::cout << name << ": mixed - double: dE " << e_mixed - e_double << " eV, max |dF|_1 " << df << " eV/A\n";
  }
  const auto bad = run_lammps(plugin() + diamond(1, 1, 1) + "pair_style facet precision half\n");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.screen.find("unknown precision 'half' (expected double or mixed)"), std::string::npos) << bad.screen;
}

// 10. NVE in mixed precision: forces in float are the gradient of the float energy only to round-off, so
// this checks that the error does not accumulate into a drift (same run and bound as test 1).
TEST(PairFacetMD, MixedPrecisionConservesEnergy) {
  std::ostringstream in;
  in << plugin() << diamond(1, 1, 1) << "pair_style facet precision mixed\npair_coeff * * " << kPotential
     << " Si\nvelocity all create 600.0 4928 loop geom\ntimestep 0.001\nfix nve all nve\nthermo 10\n"
     << thermo("step temp etotal") << "run 10000\n";
  const auto run = run_ok(in.str());
  ASSERT_EQ(run.thermo.size(), 1u);
  std::vector<double> t, e;
  const auto step = run.thermo[0].column("Step"), etotal = run.thermo[0].column("TotEng");
  for (size_t i = 0; i < step.size(); ++i) t.push_back(step[i] * 0.001), e.push_back(etotal[i]);
  const double drift = slope(t, e) / 8 * 1e6;  // meV/atom/ns
  EXPECT_LT(std::abs(drift), 1.0) << "meV/atom/ns";
  std::cout << "NVE 8 atoms, mixed precision: drift " << drift << " meV/atom/ns, fluctuation "
            << rms_about_fit(t, e) * 1e3 << " meV\n";
}
