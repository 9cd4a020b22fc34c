// The plugin without the LibTorch reference: a short MD run with the shipped potential, with and without LAMMPS's
// Kokkos runtime, and a truncated potential file stopping LAMMPS with the reader's message. It needs no LibTorch, so that
// the sanitizer build (scripts/run-sanitized-tests, which has none) runs the plugin's code under ASan and UBSan.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "lammps_runner.hpp"

using facet::testing::LammpsOptions;
using facet::testing::run_lammps;

namespace {

const std::string kPotential = std::string(FACET_POTENTIALS_DIR) + "/Si-SW-demo.facet";

LammpsOptions options(bool kokkos = false) {
  LammpsOptions o;
  o.environment = FACET_LMP_ENVIRONMENT;  // the ASan runtime in a sanitized build, else empty
  o.kokkos = kokkos;
  o.threads = kokkos ? 2 : 1;
  return o;
}

// 64-atom diamond silicon at 600 K, `steps` NVE steps of 1 fs (few: the sanitized plugin is slow).
std::string md_input(const std::string& potential, int steps) {
  return std::string("plugin load ") + FACET_PLUGIN_PATH + R"(
units metal
atom_style atomic
lattice diamond 5.431
region box block 0 2 0 2 0 2
create_box 1 box
create_atoms 1 box
mass 1 28.0855
pair_style facet
pair_coeff * * )" + potential + R"( Si
velocity all create 600.0 87287 loop geom
fix integrate all nve
timestep 0.001
thermo 5
thermo_style custom step pe ke etotal press
thermo_modify format float %.15g
run )" + std::to_string(steps) + "\n";
}

}  // namespace

TEST(PluginSmoke, PlainAndKokkosRunsAgreeAndConserveEnergy) {
  const auto plain = run_lammps(md_input(kPotential, 10), options());
  ASSERT_EQ(plain.exit_code, 0) << plain.screen;
  const auto kokkos = run_lammps(md_input(kPotential, 10), options(true));
  ASSERT_EQ(kokkos.exit_code, 0) << kokkos.screen;
  ASSERT_NE(kokkos.log.find("KOKKOS mode"), std::string::npos) << kokkos.log;

  const auto pe_plain = plain.thermo.at(0).column("PotEng"), pe_kk = kokkos.thermo.at(0).column("PotEng");
  const auto etotal = plain.thermo.at(0).column("TotEng"), kinetic = plain.thermo.at(0).column("KinEng");
  ASSERT_EQ(pe_plain.size(), 3u);
  ASSERT_EQ(pe_kk.size(), pe_plain.size());
  EXPECT_NEAR(pe_kk[0], pe_plain[0], 1e-10 * std::abs(pe_plain[0]));
  EXPECT_NEAR(pe_kk.back(), pe_plain.back(), 1e-8 * std::abs(pe_plain[0]));
  // A loose bound that garbage forces (NaN, wrong sign, memory errors) break; test_pair_facet checks accuracy.
  for (double e : etotal) EXPECT_NEAR(e, etotal[0], 0.05 * kinetic[0]);
}

TEST(PluginSmoke, TruncatedPotentialStopsLammpsWithTheReadersMessage) {
  std::ifstream in(kPotential);
  std::stringstream text;
  text << in.rdbuf();
  const std::string full = text.str();
  const std::string cut = full.substr(0, full.size() / 2);
  const auto run = run_lammps(md_input("cut.facet", 1), options(), {{"cut.facet", cut}});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.screen.find("cut.facet: truncated: no 'checksum' line (the file ends after line " +
                            std::to_string(std::count(cut.begin(), cut.end(), '\n')) + ")"),
            std::string::npos)
      << run.screen;
}
