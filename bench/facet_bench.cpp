// facet-bench: cost of one model evaluation (energy, forces, virial) per atom, Kokkos engine beside the
// LibTorch reference, on the same rattled diamond-silicon supercells in one process (docs/benchmarks.md).
//
//   facet-bench [--potential FILE | --facet-small] [--cells N ...] [--repeat R] [--threads T] [--no-torch]
//
// --facet-small: a random model of the size of Facet-small (2 layers, l <= 2, 64 channels, grid 12x24,
// r_cut 5 Å); --cells N: N x N x N conventional cells (8 N^3 atoms; several sizes allowed). Ghost atoms
// are the periodic images within the cutoff, exchanged between layers as LAMMPS does on one rank.
// The engine runs in double and in mixed precision (Engine<Device, float>): the mixed columns give its time
// and its energy and force differences from double on the same structure.
#include <Kokkos_Core.hpp>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "model/neighbors.hpp"
#include "torch/model.hpp"
#include "torch/trainer.hpp"

using namespace facet;
using Device = Kokkos::Device<Kokkos::DefaultHostExecutionSpace, Kokkos::HostSpace>;
using Clock = std::chrono::steady_clock;

namespace {

// The engine's inputs: with_periodic_ghosts()'s arrays in views of Device.
struct Ghosted {
  int n_local = 0, n_all = 0;
  size_t edges = 0;
  std::vector<int> owner;
  Kokkos::View<double* [3], Kokkos::LayoutRight, Device> x;
  Kokkos::View<int*, Kokkos::LayoutRight, Device> species;
  Kokkos::View<int**, Kokkos::LayoutRight, Device> list;
  Kokkos::View<int*, Kokkos::LayoutRight, Device> counts;
};

struct ListNeighbors {
  Kokkos::View<int**, Kokkos::LayoutRight, Device> list;
  Kokkos::View<int*, Kokkos::LayoutRight, Device> counts;
  KOKKOS_INLINE_FUNCTION int count(int i) const { return counts(i); }
  KOKKOS_INLINE_FUNCTION int operator()(int i, int jj) const { return list(i, jj); }
};

Ghosted make_ghosted(const Structure& s, double r_cut) {
  const GhostedStructure gs = with_periodic_ghosts(s, r_cut);
  Ghosted g;
  g.n_local = gs.n_local;
  g.n_all = gs.n_all;
  g.edges = gs.edges();
  g.owner = gs.owner;
  g.x = decltype(g.x)("x", g.n_all);
  g.species = decltype(g.species)("species", g.n_all);  // one element: all 0
  g.list = decltype(g.list)("list", g.n_local, gs.width);
  g.counts = decltype(g.counts)("counts", g.n_local);
  for (int i = 0; i < g.n_all; ++i)
    for (int k = 0; k < 3; ++k) g.x(i, k) = gs.x[3 * i + k];
  for (int i = 0; i < g.n_local; ++i) {
    g.counts(i) = gs.counts[i];
    for (int jj = 0; jj < gs.width; ++jj) g.list(i, jj) = gs.list[static_cast<size_t>(i) * gs.width + jj];
  }
  return g;
}

class OwnerExchange : public GhostExchange<Device> {
 public:
  explicit OwnerExchange(const Ghosted& g) : g_(g) {}
  void forward(Features data) override {
    const size_t row = data.extent(1) * data.extent(2);
    for (int j = g_.n_local; j < g_.n_all; ++j)
      std::copy(&data(g_.owner[j], 0, 0), &data(g_.owner[j], 0, 0) + row, &data(j, 0, 0));
  }
  void reverse(Features data) override {
    const size_t row = data.extent(1) * data.extent(2);
    for (int j = g_.n_local; j < g_.n_all; ++j)
      for (size_t m = 0; m < row; ++m) (&data(g_.owner[j], 0, 0))[m] += (&data(j, 0, 0))[m];
  }

 private:
  const Ghosted& g_;
};

struct Timing {
  double wall = 1e300, cpu = 1e300;  // best of the timed calls, seconds
  double energy = 0;
  std::vector<double> forces;  // summed onto owners, 3 per local atom
};

// Best of `repeat` timed calls (wall and CPU time); call 0 warms up (allocations).
template <class EngineType>
Timing time_engine(EngineType& engine, const Ghosted& g, int repeat);

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU time of the process (all threads): on a shared machine it is a steadier measure than wall time.
double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

template <class EngineType>
Timing time_engine(EngineType& engine, const Ghosted& g, int repeat) {
  OwnerExchange exchange(g);
  const ListNeighbors neighbors{g.list, g.counts};
  Kokkos::View<double* [3], Kokkos::LayoutRight, Device> f("f", g.n_all);
  EngineRequest request;  // energy, forces, virial
  Timing t;
  for (int r = 0; r <= repeat; ++r) {
    Kokkos::deep_copy(f, 0.0);
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    t.energy = engine.compute(g.n_local, g.n_all, g.x, g.species, neighbors, &exchange, request, f).energy;
    if (r > 0) t.wall = std::min(t.wall, seconds_since(t0)), t.cpu = std::min(t.cpu, cpu_seconds() - c0);
  }
  t.forces.assign(3 * g.n_local, 0.0);
  for (int j = 0; j < g.n_all; ++j)
    for (int k = 0; k < 3; ++k) t.forces[3 * g.owner[j] + k] += f(j, k);
  return t;
}

Potential facet_small_potential() {
  ModelHyperparameters hp;  // the defaults are Facet-small's size
  hp.elements = {"Si"};
  hp.r_cut = 5.0;
  hp.avg_num_neighbors = 28.0;  // diamond Si within 5 Å: 4 + 12 + 12
  hp.atomic_energies = {-4.0};
  FacetModel model(hp, 7);
  return model->to_potential({{"description", "random model of Facet-small size (benchmark)"}});
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "facet-bench: %s\nusage: facet-bench [--potential FILE | --facet-small] [--cells N ...] "
               "[--repeat R] [--threads T] [--no-torch]\n", why.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string potential_file;
  bool facet_small = false, torch_too = true;
  std::vector<int> cells;
  int repeat = 3, threads = 1;
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    auto value = [&]() -> std::string {
      if (k + 1 >= argc) usage(a + " needs a value");
      return argv[++k];
    };
    if (a == "--potential") potential_file = value();
    else if (a == "--facet-small") facet_small = true;
    else if (a == "--cells") {
      cells.push_back(std::stoi(value()));
      while (k + 1 < argc && argv[k + 1][0] != '-') cells.push_back(std::stoi(argv[++k]));
    } else if (a == "--repeat") repeat = std::stoi(value());
    else if (a == "--threads") threads = std::stoi(value());
    else if (a == "--no-torch") torch_too = false;
    else usage("unknown argument " + a);
  }
  if (facet_small == !potential_file.empty()) usage("give either --potential FILE or --facet-small");
  if (cells.empty()) cells = {3};

#ifdef _OPENMP
  omp_set_num_threads(threads);  // Kokkos's OpenMP space takes the OpenMP default (one API in Kokkos 3 and 4)
#endif
  Kokkos::initialize();
  set_num_threads(threads);
  int status = 0;
  {
    const Potential potential = facet_small ? facet_small_potential() : read_potential(potential_file);
    const auto& hp = potential.hyper;
    if (hp.elements.size() != 1 || hp.elements[0] != "Si") usage("the benchmark structures are silicon: need a Si-only potential");
    std::printf("# model: %s | r_cut %.2f A, %d layers, l_max %d, %d channels, grid %dx%d (%d ch, %d hidden) | %d thread(s), %s\n",
                facet_small ? "Facet-small size (random)" : potential_file.c_str(), hp.r_cut, hp.layers, hp.l_max,
                hp.channels, hp.grid_theta, hp.grid_phi, hp.grid_channels, hp.grid_hidden, threads,
                Kokkos::DefaultHostExecutionSpace::name());
    std::printf("# %7s %10s %16s %16s %8s %12s %12s %14s %12s | %12s %10s %10s %12s %12s %12s\n", "atoms", "edges/at",
                "engine ms/atom", "torch ms/atom", "speedup", "engine cpu", "torch cpu", "engine kB/atom", "|dE|/|E|",
                "mixed ms/at", "mixed cpu", "x double", "dE meV/at", "dF rms meV/A", "dF max meV/A");
    Engine<Device, double> engine(potential);
    Engine<Device, float> mixed(potential);
    FacetModel model(potential);
    for (int n : cells) {
      const Structure s = rattled_diamond_silicon(n, 0.07, 11);  // ~0.07 Å: thermal displacements near 300 K
      const Ghosted g = make_ghosted(s, hp.r_cut);
      const Timing d = time_engine(engine, g, repeat);
      const Timing m = time_engine(mixed, g, repeat);
      const double engine_energy = d.energy, best_engine = d.wall, cpu_engine = d.cpu;
      double df2 = 0, df_max = 0;
      for (size_t k = 0; k < d.forces.size(); ++k) {
        const double df = std::abs(m.forces[k] - d.forces[k]);
        df2 += df * df;
        df_max = std::max(df_max, df);
      }
      double best_torch = NAN, cpu_torch = NAN, torch_energy = NAN;
      if (torch_too) {
        best_torch = cpu_torch = 1e300;
        const Batch batch = make_batch({&s}, hp.elements, hp.r_cut);
        for (int r = 0; r <= repeat; ++r) {
          const auto t0 = Clock::now();
          const double c0 = cpu_seconds();
          const Prediction p = model->predict(batch, true, true);
          torch_energy = p.energy.item<double>();
          if (r > 0) best_torch = std::min(best_torch, seconds_since(t0)), cpu_torch = std::min(cpu_torch, cpu_seconds() - c0);
        }
      }
      const double per_atom = 1e3 / g.n_local;
      std::printf("  %7d %10.1f %16.4f %16.4f %8.2f %12.4f %12.4f %14.1f %12.1e | %12.4f %10.4f %10.2f %12.2e %12.2e %12.2e\n",
                  g.n_local, double(g.edges) / g.n_local, best_engine * per_atom, best_torch * per_atom,
                  best_torch / best_engine, cpu_engine * per_atom, cpu_torch * per_atom,
                  engine.workspace_bytes() / 1024.0 / g.n_local, std::abs(engine_energy - torch_energy) / std::abs(torch_energy),
                  m.wall * per_atom, m.cpu * per_atom, d.wall / m.wall, 1e3 * std::abs(m.energy - d.energy) / g.n_local,
                  1e3 * std::sqrt(df2 / d.forces.size()), 1e3 * df_max);
      std::fflush(stdout);
      if (torch_too && !(std::abs(engine_energy - torch_energy) <= 1e-10 * std::abs(torch_energy))) {
        std::fprintf(stderr, "facet-bench: engine and LibTorch energies differ (%.15g vs %.15g)\n", engine_energy, torch_energy);
        status = 1;
      }
    }
  }
  Kokkos::finalize();
  return status;
}
