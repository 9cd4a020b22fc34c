// pair_style facet inside LAMMPS, driven as users drive it (an input script, `plugin load`, mpirun):
// agreement with the LibTorch reference, rank-count invariance, forces as finite differences of the
// LAMMPS energy, and the errors users get for bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "lammps_runner.hpp"
#include "torch/model.hpp"

using namespace facet;
using facet::testing::LammpsOptions;
using facet::testing::run_lammps;

namespace {

// LAMMPS metal units: pressure (bar) = virial (eV) / volume (Å^3) * nktv2p.
constexpr double kNktv2p = 1.6021765e6;

ModelHyperparameters test_hyperparameters() {
  ModelHyperparameters hp;
  hp.elements = {"Si", "O"};
  hp.r_cut = 3.4;
  hp.channels = 6;
  hp.grid_channels = 4;
  hp.grid_hidden = 6;
  hp.readout_hidden = 5;
  hp.radial_basis = 8;
  hp.grid_theta = 6;
  hp.grid_phi = 12;
  hp.avg_num_neighbors = 6.0;
  hp.energy_scale = 1.1;
  hp.atomic_energies = {-2.5, -4.0};
  // The repulsion too, its radii enlarged (pair ranges 2.4 / 2.2 / 2.0 Å) so that the rattled bonds
  // (2.35 Å and less) reach into it.
  hp.repulsion = Repulsion::zbl;
  hp.repulsion_radii = {1.2, 1.0};
  return hp;
}

// 2x2x2 rattled diamond cells (64 atoms, Si and O) in a restricted triclinic box, wrapped into the box.
Structure test_structure() {
  Structure s;
  const double a = 5.431;
  const double frac[8][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0},
                             {.25, .25, .25}, {.25, .75, .75}, {.75, .25, .75}, {.75, .75, .25}};
  s.cell = {{{2 * a, 0, 0}, {0.5, 2 * a, 0}, {-0.4, 0.3, 2 * a}}};
  s.pbc = {true, true, true};
  std::mt19937 rng(2024);
  std::normal_distribution<double> noise(0.0, 0.1);
  for (int n0 = 0; n0 < 2; ++n0)
    for (int n1 = 0; n1 < 2; ++n1)
      for (int n2 = 0; n2 < 2; ++n2)
        for (int i = 0; i < 8; ++i) {
          double f[3] = {(frac[i][0] + n0) / 2 + noise(rng) / (2 * a), (frac[i][1] + n1) / 2 + noise(rng) / (2 * a),
                         (frac[i][2] + n2) / 2 + noise(rng) / (2 * a)};
          for (double& v : f) v -= std::floor(v);
          std::array<double, 3> x{0, 0, 0};
          for (int k = 0; k < 3; ++k)
            for (int d = 0; d < 3; ++d) x[k] += f[d] * s.cell[d][k];
          s.positions.push_back(x);
          s.species.push_back((i + n0 + n1 * 2) % 3 == 0 ? "O" : "Si");
        }
  s.source = "test";
  return s;
}

std::string data_file(const Structure& s) {
  std::ostringstream o;
  o.precision(17);
  o << "facet test structure\n\n" << s.size() << " atoms\n2 atom types\n\n";
  o << "0 " << s.cell[0][0] << " xlo xhi\n0 " << s.cell[1][1] << " ylo yhi\n0 " << s.cell[2][2] << " zlo zhi\n";
  o << s.cell[1][0] << " " << s.cell[2][0] << " " << s.cell[2][1] << " xy xz yz\n\nMasses\n\n1 28.0855\n2 15.999\n\nAtoms # atomic\n\n";
  for (size_t i = 0; i < s.size(); ++i)
    o << i + 1 << " " << (s.species[i] == "Si" ? 1 : 2) << " " << s.positions[i][0] << " " << s.positions[i][1] << " "
      << s.positions[i][2] << "\n";
  return o.str();
}

std::string input_script(const std::string& extra = "") {
  return std::string("plugin load ") + FACET_PLUGIN_PATH + R"(
units metal
atom_style atomic
boundary p p p
read_data structure.data
pair_style facet
pair_coeff * * model.facet Si O
neighbor 1.0 bin
compute virial all pressure NULL virial
compute atom_pe all pe/atom
compute atom_stress all stress/atom NULL virial
compute sums all reduce sum c_atom_pe c_atom_stress[1] c_atom_stress[2] c_atom_stress[3] c_atom_stress[4] c_atom_stress[5] c_atom_stress[6]
thermo_style custom step pe c_virial[1] c_virial[2] c_virial[3] c_virial[4] c_virial[5] c_virial[6] vol c_sums[*]
thermo_modify format float %.17g
dump forces all custom 1 forces.dump id fx fy fz
dump_modify forces sort id format float %.17g
)" + extra + "run 0\n";
}

struct Fixture {
  Potential potential;
  Structure structure;
  Prediction reference;
  std::map<std::string, std::string> files;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture fx;
    FacetModel model(test_hyperparameters(), 31);
    fx.potential = model->to_potential({{"description", "random test model"}});
    fx.structure = test_structure();
    const Batch batch = make_batch({&fx.structure}, fx.potential.hyper.elements, fx.potential.hyper.r_cut);
    fx.reference = model->predict(batch, true, true);
    fx.files = {{"model.facet", format_potential(fx.potential)}, {"structure.data", data_file(fx.structure)}};
    return fx;
  }();
  return f;
}

// Forces (id order) from a LAMMPS dump printed to the screen.
std::vector<std::array<double, 3>> read_forces(const std::string& dump_text) {
  std::vector<std::array<double, 3>> forces;
  std::istringstream in(dump_text);
  std::string line;
  size_t atoms = 0;
  while (std::getline(in, line)) {
    if (line.rfind("ITEM: NUMBER OF ATOMS", 0) == 0) {
      std::getline(in, line);
      atoms = std::stoul(line);
    } else if (line.rfind("ITEM: ATOMS", 0) == 0) {
      for (size_t k = 0; k < atoms && std::getline(in, line); ++k) {
        std::istringstream w(line);
        int id;
        std::array<double, 3> f;
        w >> id >> f[0] >> f[1] >> f[2];
        forces.push_back(f);
      }
      break;
    }
  }
  return forces;
}

struct LammpsOutput {
  double energy;
  double virial[6];
  double atom_energy_sum;     // sum of compute pe/atom
  double atom_virial_sum[6];  // sum of compute stress/atom (bar Å^3) as a virial (eV)
  std::vector<std::array<double, 3>> forces;
  std::string log;
};

LammpsOutput run_model(int ranks, bool kokkos = false, int threads = 0) {
  const auto& fx = fixture();
  LammpsOptions opt;
  opt.mpi_ranks = ranks;
  opt.kokkos = kokkos;
  opt.threads = threads > 0 ? threads : kokkos ? 2 : 1;
  // The dump is printed into the log by `shell cat`, so that the runner's log holds everything.
  const auto run = run_lammps(input_script() + "undump forces\nshell cat forces.dump\n", opt, fx.files);
  EXPECT_EQ(run.exit_code, 0) << run.screen << run.log;
  LammpsOutput out{};
  if (run.exit_code != 0) return out;
  const auto& table = run.thermo.at(0);
  out.energy = table.column("PotEng")[0];
  const double volume = table.column("Volume")[0];
  for (int k = 0; k < 6; ++k) out.virial[k] = table.column("c_virial[" + std::to_string(k + 1) + "]")[0] * volume / kNktv2p;
  out.atom_energy_sum = table.column("c_sums[1]")[0];
  // stress/atom is -virial_i (bar Å^3): its sum over atoms is -volume * pressure-virial.
  for (int k = 0; k < 6; ++k) out.atom_virial_sum[k] = -table.column("c_sums[" + std::to_string(k + 2) + "]")[0] / kNktv2p;
  out.forces = read_forces(run.screen);
  out.log = run.log;
  return out;
}

}  // namespace

TEST(PairFacet, MatchesReferenceModel) {
  const auto& fx = fixture();
  const LammpsOutput out = run_model(1);
  const double e_ref = fx.reference.energy.item<double>();
  EXPECT_NEAR(out.energy, e_ref, 1e-10 * std::abs(e_ref));
  ASSERT_EQ(out.forces.size(), fx.structure.size());
  double max_df = 0;
  for (size_t i = 0; i < out.forces.size(); ++i)
    for (int k = 0; k < 3; ++k) max_df = std::max(max_df, std::abs(out.forces[i][k] - fx.reference.forces[i][k].item<double>()));
  EXPECT_LT(max_df, 1e-9);
  const double V = fx.structure.volume();
  const int ab[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
  // The printed pressure carries 17 digits; the conversion constant is LAMMPS's own.
  for (int k = 0; k < 6; ++k)
    EXPECT_NEAR(out.virial[k], -V * fx.reference.stress[0][ab[k][0]][ab[k][1]].item<double>(), 1e-8) << k;
}

TEST(PairFacet, ResultsDoNotDependOnTheNumberOfRanks) {
  const LammpsOutput one = run_model(1);
  for (int ranks : {2, 4}) {
    const LammpsOutput many = run_model(ranks);
    EXPECT_NEAR(many.energy, one.energy, 1e-10 * std::abs(one.energy)) << ranks << " ranks";
    ASSERT_EQ(many.forces.size(), one.forces.size());
    double max_df = 0;
    for (size_t i = 0; i < one.forces.size(); ++i)
      for (int k = 0; k < 3; ++k) max_df = std::max(max_df, std::abs(many.forces[i][k] - one.forces[i][k]));
    EXPECT_LT(max_df, 1e-9) << ranks << " ranks";
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(many.virial[k], one.virial[k], 1e-8) << ranks << " ranks";
  }
}

void expect_same_results(const LammpsOutput& a, const LammpsOutput& b, const std::string& what) {
  // Different thread or rank counts change only the order of sums: round-off.
  EXPECT_NEAR(a.energy, b.energy, 1e-10 * std::abs(b.energy)) << what;
  ASSERT_EQ(a.forces.size(), b.forces.size()) << what;
  double max_df = 0;
  for (size_t i = 0; i < b.forces.size(); ++i)
    for (int k = 0; k < 3; ++k) max_df = std::max(max_df, std::abs(a.forces[i][k] - b.forces[i][k]));
  EXPECT_LT(max_df, 1e-9) << what;
  for (int k = 0; k < 6; ++k) EXPECT_NEAR(a.virial[k], b.virial[k], 1e-8) << what << " virial " << k;
}

TEST(PairFacet, KokkosStyleGivesTheSameResults) {
  // `-k on t 2 -sf kk` selects pair_style facet/kk (LAMMPS's Kokkos data, 2 OpenMP threads), also with
  // 2 MPI ranks and 1 thread each, where node features cross ranks through CommKokkos.
  const LammpsOutput plain = run_model(1);
  const LammpsOutput kokkos = run_model(1, true);
  EXPECT_NE(kokkos.log.find("pair facet/kk"), std::string::npos) << "the Kokkos style did not run";
  expect_same_results(kokkos, plain, "facet/kk, 2 threads");
  const LammpsOutput kokkos_mpi = run_model(2, true, 1);
  EXPECT_NE(kokkos_mpi.log.find("pair facet/kk"), std::string::npos);
  expect_same_results(kokkos_mpi, plain, "facet/kk, 2 ranks");
}

TEST(PairFacet, PerAtomEnergiesAndVirialsSumToTheTotals) {
  // compute pe/atom and stress/atom (with LAMMPS's reverse communication of ghost contributions) must add
  // up to the global energy and virial: plain style, Kokkos style, and across 2 ranks.
  for (const auto& [out, what] : {std::pair{run_model(1), "facet"}, std::pair{run_model(2), "facet, 2 ranks"},
                                  std::pair{run_model(1, true), "facet/kk"}}) {
    EXPECT_NEAR(out.atom_energy_sum, out.energy, 1e-10 * std::abs(out.energy)) << what;
    // The sums are printed with 17 digits; the per-atom virials carry LAMMPS's unit conversion both ways.
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(out.atom_virial_sum[k], out.virial[k], 1e-8) << what << " virial " << k;
  }
}

TEST(PairFacet, ForcesAreFiniteDifferencesOfTheLammpsEnergy) {
  const auto& fx = fixture();
  const double h = 1e-4;
  // Atom 5 moved by +-h along x, y and z in turn: six more `run 0`s in one input.
  std::string moves = "group moved id 5\nrun 0\n";
  for (const char* d : {"x", "y", "z"}) {
    const std::string plus = std::string(d) == "x" ? "1e-4 0 0" : std::string(d) == "y" ? "0 1e-4 0" : "0 0 1e-4";
    const std::string minus2 = std::string(d) == "x" ? "-2e-4 0 0" : std::string(d) == "y" ? "0 -2e-4 0" : "0 0 -2e-4";
    moves += "displace_atoms moved move " + plus + " units box\nrun 0\n";
    moves += "displace_atoms moved move " + minus2 + " units box\nrun 0\n";
    moves += "displace_atoms moved move " + plus + " units box\n";
  }
  const auto run = run_lammps(input_script(moves), {}, fx.files);
  ASSERT_EQ(run.exit_code, 0) << run.screen;
  ASSERT_EQ(run.thermo.size(), 8u);
  for (int k = 0; k < 3; ++k) {
    const double e_plus = run.thermo[1 + 2 * k].column("PotEng")[0];
    const double e_minus = run.thermo[2 + 2 * k].column("PotEng")[0];
    const double fd = -(e_plus - e_minus) / (2 * h);
    // Truncation ~h^2 |E'''| ~ 1e-8, print round-off ~1e-15 |E| / h ~ 1e-9 (|E| ~ 200 eV).
    EXPECT_NEAR(fd, fx.reference.forces[4][k].item<double>(), 1e-6) << "direction " << k;
  }
}

TEST(PairFacet, BadInputGetsAClearError) {
  const auto& fx = fixture();
  struct Case {
    std::string from, to, message;
  };
  const std::vector<Case> cases = {
      {"pair_coeff * * model.facet Si O", "pair_coeff * * model.facet Si Ge",
       "element Ge (atom type 2) is not in model.facet (its elements: Si O)"},
      {"pair_coeff * * model.facet Si O", "pair_coeff * * model.facet Si",
       "one element or NULL for each of the 2 atom types (got 1)"},
      {"pair_coeff * * model.facet Si O", "pair_coeff * * missing.facet Si O", "Cannot open facet potential file missing.facet"},
      {"units metal", "units real", "pair_style facet requires 'units metal' (this input uses 'units real')"},
      {"units metal", "newton off\nunits metal", "pair_style facet requires newton pair on"},
  };
  for (const auto& c : cases) {
    std::string input = input_script();
    input.replace(input.find(c.from), c.from.size(), c.to);
    const auto run = run_lammps(input, {}, fx.files);
    EXPECT_NE(run.exit_code, 0) << c.to;
    EXPECT_NE(run.screen.find(c.message), std::string::npos) << c.to << "\n" << run.screen;
  }
  // Under the KOKKOS package the message says how to turn newton on (GPU runs default to newton off).
  {
    std::string input = input_script();
    input.replace(input.find("units metal"), 11, "package kokkos newton off neigh full\nunits metal");
    LammpsOptions kokkos;
    kokkos.kokkos = true;
    const auto run = run_lammps(input, kokkos, fx.files);
    EXPECT_NE(run.exit_code, 0);
    EXPECT_NE(run.screen.find("requires newton pair on: with the KOKKOS package on a GPU add '-pk kokkos newton on "
                              "neigh half'"),
              std::string::npos)
        << run.screen;
  }
  // Two atoms on top of each other: an error naming both, not NaN forces.
  {
    auto files = fx.files;
    std::string& data = files["structure.data"];
    const size_t atoms = data.find("Atoms # atomic\n\n") + 16;
    const size_t first_end = data.find('\n', atoms);
    std::istringstream first(data.substr(atoms, first_end - atoms));
    int id, type;
    double x, y, z;
    first >> id >> type >> x >> y >> z;
    const size_t second = first_end + 1;
    const size_t second_end = data.find('\n', second);
    std::ostringstream moved;
    moved.precision(17);
    moved << "2 1 " << x << " " << y << " " << z;
    data.replace(second, second_end - second, moved.str());
    const auto run = run_lammps(input_script(), {}, files);
    EXPECT_NE(run.exit_code, 0);
    // error->one aborts through MPI, which may drop buffered screen output: the log file has it.
    EXPECT_NE((run.log + run.screen).find("pair_style facet: atoms 1 and 2 are at the same position at step 0"),
              std::string::npos)
        << run.screen << run.log;
  }
  // A corrupt potential file: the reader's message reaches the user.
  auto files = fx.files;
  files["model.facet"].replace(files["model.facet"].find("array layer0.up"), 5, "arrax");
  const auto run = run_lammps(input_script(), {}, files);
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.screen.find("checksum mismatch"), std::string::npos) << run.screen;
}

TEST(PairFacet, NonFiniteResultsStopTheRun) {
  // A potential whose readout overflows (finite weights, infinite energy): the run stops naming the
  // step, in the plain and the Kokkos style, instead of handing infinities to the integrator.
  const auto& fx = fixture();
  Potential overflowing = fx.potential;
  for (const char* name : {"readout.b1", "readout.w2"})
    for (double& v : overflowing.arrays.at(name).values) v = 1e200;
  auto files = fx.files;
  files["model.facet"] = format_potential(overflowing);
  for (bool kokkos : {false, true}) {
    LammpsOptions opt;
    opt.kokkos = kokkos;
    const auto run = run_lammps(input_script(), opt, files);
    EXPECT_NE(run.exit_code, 0) << run.screen;
    EXPECT_NE((run.log + run.screen).find("pair_style facet: non-finite energy at step 0"), std::string::npos)
        << (kokkos ? "facet/kk" : "facet") << "\n" << run.screen;
  }
}
