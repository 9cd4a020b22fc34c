// Runs the LAMMPS executable on an input script in a scratch folder and reads its thermo output.
// Tests drive LAMMPS as users do (an input file, optionally under mpirun, optionally with -k on -sf kk),
// which also keeps every run in its own process: Kokkos can be initialised only once per process.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <filesystem>
#include <sys/wait.h>
#include <unistd.h>

namespace facet::testing {

struct LammpsOptions {
  int mpi_ranks = 1;          // > 1 runs under mpirun
  bool kokkos = false;        // adds -k on t <threads> -sf kk (or FACET_TEST_KOKKOS_ARGS, see run_lammps)
  int threads = 1;
  std::string environment;    // VAR=value words put before the command (e.g. LD_PRELOAD for a sanitized plugin)
};

// One thermo table of a run: column name -> values, one per printed step.
struct ThermoTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
  std::vector<double> column(const std::string& name) const {
    for (size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == name) {
        std::vector<double> out;
        for (const auto& r : rows) out.push_back(r[c]);
        return out;
      }
    throw std::runtime_error("no thermo column " + name);
  }
};

struct LammpsResult {
  int exit_code = -1;
  std::string log;                  // log.lammps
  std::string screen;               // stdout + stderr
  std::vector<ThermoTable> thermo;  // one table per `run`/`minimize`
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Thermo tables: a header line starting with "Step" followed by numeric rows, ended by "Loop time".
inline std::vector<ThermoTable> parse_thermo(const std::string& log) {
  std::vector<ThermoTable> tables;
  std::istringstream in(log);
  std::string line;
  ThermoTable* current = nullptr;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (first == "Step") {
      tables.emplace_back();
      current = &tables.back();
      current->columns.push_back(first);
      for (std::string w; words >> w;) current->columns.push_back(w);
      continue;
    }
    if (!current) continue;
    if (first == "Loop") { current = nullptr; continue; }
    std::istringstream values(line);
    std::vector<double> row;
    for (double v; values >> v;) row.push_back(v);
    if (row.size() == current->columns.size() && values.eof()) current->rows.push_back(row);
  }
  return tables;
}

// Writes `input` (plus any extra files) into a fresh scratch folder and runs LAMMPS there.
inline LammpsResult run_lammps(const std::string& input, const LammpsOptions& opt = {},
                               const std::map<std::string, std::string>& extra_files = {}) {
  if (opt.mpi_ranks > 1 && std::string(FACET_MPIEXEC).empty()) {  // LAMMPS built without MPI
    LammpsResult no_mpi;
    no_mpi.screen = "cannot run on " + std::to_string(opt.mpi_ranks) + " ranks: this LAMMPS has no MPI (no mpirun)";
    return no_mpi;
  }
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/facet-lmp-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  const fs::path dir(tmpl);
  std::ofstream(dir / "in.test") << input;
  for (const auto& [name, text] : extra_files) std::ofstream(dir / name) << text;

  std::string cmd = "cd " + shell_quote(dir.string()) + " && ";
  cmd += "OMP_NUM_THREADS=" + std::to_string(opt.threads) + " OMP_PROC_BIND=false " + opt.environment + " ";
  if (opt.mpi_ranks > 1)
    // Open MPI refuses root unless told (CI and these machines run as root).
    cmd += shell_quote(FACET_MPIEXEC) + (geteuid() == 0 ? " --allow-run-as-root" : "") + " --oversubscribe -np " +
           std::to_string(opt.mpi_ranks) + " ";
  cmd += shell_quote(FACET_LMP_EXECUTABLE) + " -in in.test -log log.lammps -echo log";
  // FACET_TEST_KOKKOS_ARGS replaces "t <threads>" after -k on: "g 1" runs the Kokkos styles on a GPU when
  // LAMMPS was built with Kokkos for CUDA (which refuses to start without a GPU request).
  // FACET_TEST_ALL_RUNS_KOKKOS=1 runs every input with -k on ... -sf kk, those written for pair_style facet too
  // (scripts/build-cuda: the LAMMPS tests with facet/kk on a GPU).
  const char* kokkos_args = std::getenv("FACET_TEST_KOKKOS_ARGS");
  const char* all_kokkos = std::getenv("FACET_TEST_ALL_RUNS_KOKKOS");
  if (opt.kokkos || (all_kokkos && std::string(all_kokkos) == "1"))
    cmd += " -k on " + (kokkos_args && *kokkos_args ? std::string(kokkos_args) : "t " + std::to_string(opt.threads)) +
           " -sf kk";
  cmd += " > screen.txt 2>&1";

  LammpsResult result;
  const int status = std::system(cmd.c_str());
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.log = read_file(dir / "log.lammps");
  result.screen = read_file(dir / "screen.txt");
  result.thermo = parse_thermo(result.log);
  if (result.exit_code == 0) fs::remove_all(dir);
  return result;
}

}  // namespace facet::testing
