// The potentials shipped in potentials/ load in LAMMPS and give their recorded energy for a fixed
// structure, equal to the LibTorch reference evaluation of the same file.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "lammps_runner.hpp"
#include "torch/model.hpp"

using namespace facet;
using facet::testing::run_lammps;

namespace {

// The fixed structure of a potential's element: 2x2x2 cubic cells with a fixed, deterministic distortion.
// Si: 64-atom diamond, a = 5.431 Å; Cu: 32-atom fcc, a = 3.615 Å.
struct Fixed {
  Structure structure;
  double mass;
};

Fixed fixed_structure(const std::string& element) {
  const double fcc[4][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}};
  std::vector<std::array<double, 3>> basis;
  double a, mass;
  if (element == "Si") {
    a = 5.431, mass = 28.0855;
    for (const auto& f : fcc) basis.push_back({f[0], f[1], f[2]});
    for (const auto& f : fcc) basis.push_back({f[0] + .25, f[1] + .25, f[2] + .25});
  } else if (element == "Cu") {
    a = 3.615, mass = 63.546;
    for (const auto& f : fcc) basis.push_back({f[0], f[1], f[2]});
  } else {
    throw std::runtime_error("no fixed structure for element " + element + " (add one to this test)");
  }
  Structure s;
  int k = 0;
  for (int x = 0; x < 2; ++x)
    for (int y = 0; y < 2; ++y)
      for (int z = 0; z < 2; ++z)
        for (const auto& f : basis) {
          s.species.push_back(element);
          s.positions.push_back({a * (x + f[0]) + 0.08 * std::sin(1.0 * k), a * (y + f[1]) + 0.08 * std::cos(2.0 * k),
                                 a * (z + f[2]) + 0.05 * std::sin(3.0 * k)});
          ++k;
        }
  s.cell = {{{2 * a, 0, 0}, {0, 2 * a, 0}, {0, 0, 2 * a}}};
  s.pbc = {true, true, true};
  s.source = "fixed_" + element;
  return {s, mass};
}

std::string data_file(const Structure& s, double mass) {
  std::ostringstream o;
  o.precision(17);
  o << "fixed structure\n\n" << s.size() << " atoms\n1 atom types\n\n0 " << s.cell[0][0] << " xlo xhi\n0 "
    << s.cell[1][1] << " ylo yhi\n0 " << s.cell[2][2] << " zlo zhi\n\nMasses\n\n1 " << mass
    << "\n\nAtoms # atomic\n\n";
  for (size_t i = 0; i < s.size(); ++i)
    o << i + 1 << " 1 " << s.positions[i][0] << " " << s.positions[i][1] << " " << s.positions[i][2] << "\n";
  return o.str();
}

// potentials/recorded_energies.txt: "<file> <energy of fixed_structure(its first element) in eV>" per
// shipped potential, written when the potential was committed; '#' starts a comment.
std::map<std::string, double> recorded_energies() {
  std::map<std::string, double> out;
  std::ifstream in(std::string(FACET_POTENTIALS_DIR) + "/recorded_energies.txt");
  for (std::string line; std::getline(in, line);) {
    std::istringstream w(line);
    std::string file;
    double e;
    if (line.empty() || line[0] == '#' || !(w >> file >> e)) continue;
    out[file] = e;
  }
  return out;
}

}  // namespace

TEST(ShippedPotentials, LoadAndGiveTheirRecordedEnergy) {
  const auto recorded = recorded_energies();
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(FACET_POTENTIALS_DIR))
    if (entry.path().extension() == ".facet") files.push_back(entry.path().filename().string());
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    ASSERT_EQ(recorded.count(file), 1u) << file << " has no entry in potentials/recorded_energies.txt";
    const std::string path = std::string(FACET_POTENTIALS_DIR) + "/" + file;
    const Potential pot = read_potential(path);
    const std::string element = pot.hyper.elements.at(0);
    const Fixed fixed = fixed_structure(element);
    const Structure& s = fixed.structure;
    FacetModel model(pot);
    const Batch batch = make_batch({&s}, pot.hyper.elements, pot.hyper.r_cut);
    const double reference = model->predict(batch, false, false).energy.item<double>();
    const auto run = run_lammps(std::string("plugin load ") + FACET_PLUGIN_PATH +
                                    "\nunits metal\natom_style atomic\nread_data fixed.data\npair_style facet\n"
                                    "pair_coeff * * " + path + " " + element + "\nthermo_style custom step pe\n"
                                    "thermo_modify format float %.17g\nrun 0\n",
                                {}, {{"fixed.data", data_file(s, fixed.mass)}});
    ASSERT_EQ(run.exit_code, 0) << run.screen;
    const double lammps = run.thermo.at(0).column("PotEng")[0];
    EXPECT_NEAR(lammps, reference, 1e-10 * std::abs(reference)) << file;
    // Recorded with 15 significant digits; other compilers or CPUs may change the last few bits.
    EXPECT_NEAR(lammps, recorded.at(file), 1e-11 * std::abs(reference)) << file << ": LAMMPS gives " << lammps;
  }
}
