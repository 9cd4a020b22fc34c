// Checks the LAMMPS build that the plugin is compiled against: the plain and the Kokkos (OpenMP)
// Stillinger-Weber silicon agree, MPI domain decomposition does not change the energy, and NVE conserves
// energy. If these fail, the LAMMPS/Kokkos/MPI build itself is broken, not the plugin.
#include <gtest/gtest.h>

#include <cmath>

#include "lammps_runner.hpp"

using facet::testing::LammpsOptions;
using facet::testing::run_lammps;

namespace {

// 216-atom diamond silicon at 600 K, 100 NVE steps of 1 fs.
std::string sw_silicon_input(const std::string& timestep = "0.001", int steps = 100) {
  return std::string(R"(
units metal
atom_style atomic
lattice diamond 5.431
region box block 0 3 0 3 0 3
create_box 1 box
create_atoms 1 box
mass 1 28.0855
pair_style sw
pair_coeff * * )") + FACET_LAMMPS_POTENTIALS + R"(/Si.sw Si
velocity all create 600.0 4928459 loop geom
fix integrate all nve
timestep )" + timestep + R"(
thermo )" + std::to_string(steps / 10) + R"(
thermo_style custom step pe ke etotal press
thermo_modify format float %.15g
run )" + std::to_string(steps) + "\n";
}

}  // namespace

TEST(LammpsBuild, KokkosMatchesPlainStyle) {
  const auto plain = run_lammps(sw_silicon_input());
  ASSERT_EQ(plain.exit_code, 0) << plain.screen;
  LammpsOptions kk;
  kk.kokkos = true;
  kk.threads = 2;
  const auto kokkos = run_lammps(sw_silicon_input(), kk);
  ASSERT_EQ(kokkos.exit_code, 0) << kokkos.screen;
  ASSERT_NE(kokkos.log.find("KOKKOS mode"), std::string::npos) << kokkos.log;
  ASSERT_NE(kokkos.log.find("pair sw/kk"), std::string::npos) << kokkos.log;

  const auto pe_plain = plain.thermo.at(0).column("PotEng");
  const auto pe_kk = kokkos.thermo.at(0).column("PotEng");
  ASSERT_EQ(pe_plain.size(), 11u);
  ASSERT_EQ(pe_kk.size(), pe_plain.size());
  // Step 0: same sum in another order, so round-off only.
  EXPECT_NEAR(pe_kk[0], pe_plain[0], 1e-10 * std::abs(pe_plain[0]));
  // After 100 steps trajectories differ by accumulated round-off only (far below thermal fluctuations).
  EXPECT_NEAR(pe_kk.back(), pe_plain.back(), 1e-6 * std::abs(pe_plain.back()));
}

TEST(LammpsBuild, MpiDecompositionKeepsEnergy) {
  const auto serial = run_lammps(sw_silicon_input());
  ASSERT_EQ(serial.exit_code, 0) << serial.screen;
  LammpsOptions two;
  two.mpi_ranks = 2;
  const auto parallel = run_lammps(sw_silicon_input(), two);
  ASSERT_EQ(parallel.exit_code, 0) << parallel.screen;
  ASSERT_NE(parallel.log.find("1 by 1 by 2 MPI processor grid"), std::string::npos) << parallel.log;
  const double e1 = serial.thermo.at(0).column("PotEng")[0];
  const double e2 = parallel.thermo.at(0).column("PotEng")[0];
  EXPECT_NEAR(e2, e1, 1e-10 * std::abs(e1));
}

TEST(LammpsBuild, NveConservesEnergy) {
  // Velocity Verlet is second order: the total-energy fluctuation over the same 0.1 ps falls ~4x when the
  // time step is halved, and stays far below the kinetic energy (~16.7 eV for 216 atoms at 600 K).
  LammpsOptions kk;
  kk.kokkos = true;
  kk.threads = 2;
  auto max_deviation = [&](const std::string& dt, int steps, double* kinetic) {
    const auto run = run_lammps(sw_silicon_input(dt, steps), kk);
    EXPECT_EQ(run.exit_code, 0) << run.screen;
    const auto etotal = run.thermo.at(0).column("TotEng");
    *kinetic = run.thermo.at(0).column("KinEng")[0];
    double dev = 0;
    for (double e : etotal) dev = std::max(dev, std::abs(e - etotal[0]));
    return dev;
  };
  double ke = 0;
  const double coarse = max_deviation("0.001", 100, &ke);
  const double fine = max_deviation("0.0005", 200, &ke);
  EXPECT_GT(ke, 10.0);
  EXPECT_LT(coarse, 5e-3 * ke);
  EXPECT_GT(coarse / fine, 2.5);
  EXPECT_LT(coarse / fine, 6.0);
}
