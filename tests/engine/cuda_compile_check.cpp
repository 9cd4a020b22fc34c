// The engine's CUDA path, compiled by scripts/check-cuda-compile (not part of the CMake build: the CPU build
// stays as it is). Instantiates facet::Engine on Kokkos::Device<Kokkos::Cuda, Kokkos::CudaSpace> in double and
// float with everything a pair style uses: compute() with a device-side neighbour list and ghost exchange,
// per-atom energy and virial, first_coincident_pair, first_nonfinite_force, workspace_bytes, make_engine.
//
// Linked against a built CUDA Kokkos (scripts/check-cuda-compile --link) it is also the GPU check: on rattled
// diamond silicon with periodic images as ghosts it compares the CUDA engine with the same engine on the host
// (Kokkos::DefaultHostExecutionSpace) in double and mixed precision, then times compute() on the GPU.
//
//   cuda_compile_check [--potential FILE | --random] [--cells N ...] [--repeat R]
//     --potential FILE  a potential file (one element; its structures are silicon anyway; default: --random)
//     --random          a random model of Facet-small size (2 layers, l <= 2, 64 channels, grid 12x24, 5 Å)
//                       with the ZBL repulsion on up to 2.6 Å (first neighbours at ~2.35 Å)
//     --cells N         N x N x N conventional cells (8 N^3 atoms); several allowed (default 2 4); above
//                       20,000 atoms GPU only (mixed against double; the host engine would take minutes)
//     --repeat R        timed calls per size after a warm-up (default 5)
// Exit status 0: every comparison within its bound; 1: a difference beyond it; 2: usage or setup error.
#include "engine/engine.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "model/neighbors.hpp"

namespace facet_cuda_check {

using namespace facet;
#if defined(KOKKOS_ENABLE_CUDA)
using CudaDevice = Kokkos::Device<Kokkos::Cuda, Kokkos::CudaSpace>;
#elif defined(FACET_CHECK_WITHOUT_GPU)
// A test of this program itself on a CPU-only Kokkos (OpenMP in the "GPU" role, Serial as the reference).
using CudaDevice = Kokkos::Device<Kokkos::DefaultExecutionSpace, Kokkos::HostSpace>;
#else
#error "cuda_compile_check.cpp: Kokkos is not configured with CUDA"
#endif
#if defined(KOKKOS_ENABLE_SERIAL)
using HostDevice = Kokkos::Device<Kokkos::Serial, Kokkos::HostSpace>;
#else
using HostDevice = Kokkos::Device<Kokkos::DefaultHostExecutionSpace, Kokkos::HostSpace>;
#endif

// A LAMMPS-like full neighbour list held in views of Device (a device-side accessor on CudaDevice).
template <class Device>
struct ListNeighbors {
  Kokkos::View<const int*, Kokkos::LayoutRight, Device> counts;
  Kokkos::View<const int**, Kokkos::LayoutRight, Device> list;
  KOKKOS_INLINE_FUNCTION int count(int i) const { return counts(i); }
  KOKKOS_INLINE_FUNCTION int operator()(int i, int jj) const { return list(i, jj); }
};

// Ghost g (n_local <= g < n_all) is a periodic image of owner(g - n_local): forward copies owners' rows to
// their ghosts, reverse adds ghosts' rows to their owners, in kernels of Device's execution space (as a
// pair style on one MPI rank with periodic images would).
template <class Device>
class OwnerExchange : public GhostExchange<Device> {
 public:
  using Features = typename GhostExchange<Device>::Features;
  OwnerExchange(int n_local, Kokkos::View<const int*, Kokkos::LayoutRight, Device> owner)
      : n_local_(n_local), owner_(owner) {}
  void forward(Features data) override {
    const int n_local = n_local_;
    auto owner = owner_;
    Kokkos::parallel_for(
        "facet_check::ghost_forward",
        Kokkos::RangePolicy<typename Device::execution_space>(0, static_cast<int>(owner.extent(0))),
        KOKKOS_LAMBDA(int g) {
          for (size_t s = 0; s < data.extent(1); ++s)
            for (size_t c = 0; c < data.extent(2); ++c) data(n_local + g, s, c) = data(owner(g), s, c);
        });
    Kokkos::fence();
  }
  void reverse(Features data) override {
    const int n_local = n_local_;
    auto owner = owner_;
    Kokkos::parallel_for(
        "facet_check::ghost_reverse",
        Kokkos::RangePolicy<typename Device::execution_space>(0, static_cast<int>(owner.extent(0))),
        KOKKOS_LAMBDA(int g) {
          for (size_t s = 0; s < data.extent(1); ++s)
            for (size_t c = 0; c < data.extent(2); ++c)
              Kokkos::atomic_add(&data(owner(g), s, c), data(n_local + g, s, c));
        });
    Kokkos::fence();
  }

 private:
  int n_local_;
  Kokkos::View<const int*, Kokkos::LayoutRight, Device> owner_;
};

// A view of Device holding a copy of host values.
template <class T, class Device>
Kokkos::View<T*, Kokkos::LayoutRight, Device> to_device(const std::string& name, const std::vector<T>& v) {
  Kokkos::View<T*, Kokkos::LayoutRight, Device> d(name, v.size());
  Kokkos::deep_copy(d, Kokkos::View<const T*, Kokkos::LayoutRight, Kokkos::HostSpace,
                                    Kokkos::MemoryUnmanaged>(v.data(), v.size()));
  return d;
}

struct Outcome {
  double energy = 0, virial[6] = {}, atom_energy_sum = 0, atom_virial_sum[6] = {};
  std::vector<double> forces;  // summed onto owners, [n_local][3]
  int nonfinite = 0;
  Kokkos::pair<int, int> coincident{0, 0};
  double seconds = 0;  // best of the timed calls
  size_t workspace = 0;
};

// One structure on Device: a checked call (forces, virial, per-atom energy and virial, the pair-style checks),
// then `repeat` timed calls of energy, forces and virial.
template <class Device, class Real>
Outcome evaluate(const Potential& potential, const GhostedStructure& g, int repeat) {
  using E = Engine<Device, Real>;
  E engine(potential);
  auto x = to_device<double, Device>("x", g.x);
  const typename E::Positions positions(x.data(), g.n_all);
  auto species = to_device<int, Device>("species", std::vector<int>(g.n_all, 0));
  auto counts = to_device<int, Device>("counts", g.counts);
  auto list_flat = to_device<int, Device>("list", g.list);
  const ListNeighbors<Device> neighbors{counts, Kokkos::View<const int**, Kokkos::LayoutRight, Device>(
                                                    list_flat.data(), g.n_local, g.width)};
  const std::vector<int> ghost_owner(g.owner.begin() + g.n_local, g.owner.end());
  OwnerExchange<Device> exchange(g.n_local, to_device<int, Device>("owner", ghost_owner));
  Kokkos::View<double* [3], Kokkos::LayoutRight, Device> f("f", g.n_all);
  Kokkos::View<double*, Kokkos::LayoutRight, Device> eatom("eatom", g.n_local);
  Kokkos::View<double* [6], Kokkos::LayoutRight, Device> vatom("vatom", g.n_all);
  EngineRequest request;
  request.atom_energy = request.atom_virial = true;
  Outcome out;
  const auto result = engine.compute(g.n_local, g.n_all, positions, species, neighbors, &exchange, request,
                                     typename E::Forces(f.data(), g.n_all), typename E::AtomEnergy(eatom.data(), g.n_local),
                                     typename E::AtomVirial(vatom.data(), g.n_all));
  Kokkos::fence();
  out.energy = result.energy;
  std::copy(result.virial, result.virial + 6, out.virial);
  out.nonfinite = E::first_nonfinite_force(g.n_all, typename E::Forces(f.data(), g.n_all));
  out.coincident = engine.first_coincident_pair(g.n_local, g.n_all, positions, species, neighbors);
  auto hf = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), f);
  auto he = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), eatom);
  auto hv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), vatom);
  out.forces.assign(3 * static_cast<size_t>(g.n_local), 0.0);
  for (int j = 0; j < g.n_all; ++j) {
    const int o = g.owner[j];
    for (int k = 0; k < 3; ++k) out.forces[3 * o + k] += hf(j, k);
    for (int k = 0; k < 6; ++k) out.atom_virial_sum[k] += hv(j, k);
  }
  for (int i = 0; i < g.n_local; ++i) out.atom_energy_sum += he(i);
  const EngineRequest plain;  // energy, forces, virial: what an MD step asks for
  out.seconds = 1e300;
  for (int r = 0; r <= repeat; ++r) {  // call 0 warms up (allocations)
    Kokkos::deep_copy(f, 0.0);
    Kokkos::fence();
    const auto t0 = std::chrono::steady_clock::now();
    engine.compute(g.n_local, g.n_all, positions, species, neighbors, &exchange, plain,
                   typename E::Forces(f.data(), g.n_all));
    Kokkos::fence();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r > 0 || repeat == 0) out.seconds = std::min(out.seconds, dt);
  }
  out.workspace = engine.workspace_bytes();
  return out;
}

// A random model of Facet-small size (weights uniform in +-sqrt(3 / last extent), which keeps the variance
// through a product over that extent; energy scale 100 so that forces are not tiny); no LibTorch needed.
// Repulsion radii of 1.3 Å (not silicon's 1.11) so that the repulsion kernel acts on the first neighbours.
Potential random_potential() {
  Potential p;
  p.hyper.elements = {"Si"};
  p.hyper.r_cut = 5.0;
  p.hyper.avg_num_neighbors = 28.0;  // diamond Si within 5 Å: 4 + 12 + 12
  p.hyper.atomic_energies = {0.0};
  p.hyper.energy_scale = 100.0;
  p.hyper.repulsion = Repulsion::zbl;
  p.hyper.repulsion_radii = {1.3};
  validate(p.hyper);
  std::mt19937 rng(7);
  for (const auto& [name, shape] : expected_arrays(p.hyper)) {
    Array a;
    a.shape = shape;
    size_t n = 1;
    for (auto e : shape) n *= static_cast<size_t>(e);
    const double scale = shape.empty() ? 1.0 : std::sqrt(3.0 / static_cast<double>(shape.back()));
    std::uniform_real_distribution<double> u(-scale, scale);
    for (size_t k = 0; k < n; ++k) a.values.push_back(u(rng));
    p.arrays[name] = a;
  }
  return p;
}

struct Difference {
  double energy = 0, force_max = 0, force_rms = 0, virial = 0;
};

Difference compare(const Outcome& a, const Outcome& b, int n_local) {
  Difference d;
  d.energy = std::abs(a.energy - b.energy) / n_local;
  double sum2 = 0;
  for (size_t k = 0; k < a.forces.size(); ++k) {
    const double df = std::abs(a.forces[k] - b.forces[k]);
    d.force_max = std::max(d.force_max, df);
    sum2 += df * df;
  }
  d.force_rms = std::sqrt(sum2 / a.forces.size());
  for (int k = 0; k < 6; ++k) d.virial = std::max(d.virial, std::abs(a.virial[k] - b.virial[k]) / n_local);
  return d;
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "cuda_compile_check: %s\nusage: cuda_compile_check [--potential FILE | --random] [--cells N ...] "
               "[--repeat R]\n", why.c_str());
  std::exit(2);
}

int run(int argc, char** argv) {
  std::string potential_file;
  std::vector<int> cells;
  int repeat = 5;
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    auto value = [&]() -> std::string {
      if (k + 1 >= argc) usage(a + " needs a value");
      return argv[++k];
    };
    if (a == "--potential") potential_file = value();
    else if (a == "--random") potential_file.clear();
    else if (a == "--cells") {
      cells.push_back(std::stoi(value()));
      while (k + 1 < argc && argv[k + 1][0] != '-') cells.push_back(std::stoi(argv[++k]));
    } else if (a == "--repeat") repeat = std::stoi(value());
    else usage("unknown argument " + a);
  }
  if (cells.empty()) cells = {2, 4};
  const Potential potential = potential_file.empty() ? random_potential() : read_potential(potential_file);
  const auto& hp = potential.hyper;
  if (hp.elements.size() != 1) usage("need a potential with one element (the structures are diamond silicon)");
  typename CudaDevice::execution_space gpu;
  std::printf("# %s | model %s: r_cut %.2f A, %d layers, l_max %d, %d channels, grid %dx%d (%d ch, %d hidden)%s\n",
              gpu.name(), potential_file.empty() ? "random (Facet-small size)" : potential_file.c_str(),
              hp.r_cut, hp.layers, hp.l_max, hp.channels, hp.grid_theta, hp.grid_phi, hp.grid_channels,
              hp.grid_hidden, hp.repulsion == Repulsion::zbl ? ", ZBL repulsion" : "");
  gpu.print_configuration(std::cout);
  std::printf("# GPU vs host (%s) engine; dE, dV per atom (eV), dF (eV/A)\n", HostDevice::execution_space::name());
  std::printf("# %7s %8s %6s %10s %9s | %10s %10s %10s %10s | %10s %10s %10s %10s | %11s %11s %11s %8s\n", "atoms",
              "ghosts", "edg/at", "E/atom", "F rms", "double dE", "dF max", "dF rms", "dV", "mixed dE", "dF max", "dF rms", "dV", "host ms/at",
              "gpu us/at", "mixed us/at", "MB gpu");
  int status = 0;
  auto check = [&](bool ok, const char* what, int atoms) {
    if (!ok) {
      std::fprintf(stderr, "cuda_compile_check: %d atoms: %s\n", atoms, what);
      status = 1;
    }
  };
  for (int n : cells) {
    const GhostedStructure g = with_periodic_ghosts(rattled_diamond_silicon(n, 0.07, 11), hp.r_cut);
    if (g.n_local > 20000) {  // GPU timings only (the host engine would take minutes)
      const Outcome cd = evaluate<CudaDevice, double>(potential, g, repeat);
      const Outcome cm = evaluate<CudaDevice, float>(potential, g, repeat);
      const Difference dm = compare(cm, cd, g.n_local);
      std::printf("  %7d %8d %6.1f %10.4f %9s | %10s %10s %10s %10s | %10.2e %10.2e %10.2e %10.2e | %11s %11.3f %11.3f %8.1f\n",
                  g.n_local, g.n_all - g.n_local, double(g.edges()) / g.n_local, cd.energy / g.n_local, "-", "-", "-",
                  "-", "-", dm.energy, dm.force_max, dm.force_rms, dm.virial, "-", 1e6 * cd.seconds / g.n_local,
                  1e6 * cm.seconds / g.n_local, cd.workspace / 1048576.0);
      std::fflush(stdout);
      check(std::isfinite(cd.energy) && std::isfinite(cm.energy) && dm.force_max <= 1e-2, "mixed vs double on the GPU", g.n_local);
      continue;
    }
    const int host_repeat = g.n_local > 2000 ? 0 : 1;
    const Outcome hd = evaluate<HostDevice, double>(potential, g, host_repeat);
    const Outcome hm = evaluate<HostDevice, float>(potential, g, 0);
    const Outcome cd = evaluate<CudaDevice, double>(potential, g, repeat);
    const Outcome cm = evaluate<CudaDevice, float>(potential, g, repeat);
    const Difference dd = compare(cd, hd, g.n_local), dm = compare(cm, hm, g.n_local);
    const double frms = std::sqrt(std::inner_product(hd.forces.begin(), hd.forces.end(), hd.forces.begin(), 0.0) /
                                  hd.forces.size());
    std::printf("  %7d %8d %6.1f %10.4f %9.2e | %10.2e %10.2e %10.2e %10.2e | %10.2e %10.2e %10.2e %10.2e | %11.4f %11.3f %11.3f %8.1f\n",
                g.n_local, g.n_all - g.n_local, double(g.edges()) / g.n_local, hd.energy / g.n_local, frms, dd.energy, dd.force_max, dd.force_rms,
                dd.virial, dm.energy, dm.force_max, dm.force_rms, dm.virial, 1e3 * hd.seconds / g.n_local,
                1e6 * cd.seconds / g.n_local, 1e6 * cm.seconds / g.n_local, cd.workspace / 1048576.0);
    std::fflush(stdout);
    // Double: the same arithmetic up to summation order (atomics on the GPU). Mixed: float kernels on both
    // sides, so differences of float round-off. Bounds relative to the rms force and the largest virial
    // component per atom of the host's double run (the forces must not vanish, or the check would be empty).
    double vscale = 0;
    for (double v : hd.virial) vscale = std::max(vscale, std::abs(v) / g.n_local);
    const double escale = std::max(1.0, std::abs(hd.energy) / g.n_local);
    check(frms > 1e-6, "the host forces (nearly) vanish: no test of the forces", g.n_local);
    check(std::isfinite(cd.energy) && dd.energy <= 1e-10 * escale, "double energies differ", g.n_local);
    check(dd.force_max <= 1e-9 * frms, "double forces differ", g.n_local);
    check(dd.virial <= 1e-9 * vscale, "double virials differ", g.n_local);
    check(std::isfinite(cm.energy) && dm.energy <= 1e-4 * escale, "mixed energies differ", g.n_local);
    check(dm.force_max <= 1e-3 * frms, "mixed forces differ", g.n_local);
    check(dm.virial <= 1e-3 * vscale, "mixed virials differ", g.n_local);
    for (const Outcome* o : {&cd, &cm}) {
      check(o->nonfinite == -1, "first_nonfinite_force found a non-finite force", g.n_local);
      check(o->coincident.first == -1 && o->coincident.second == -1, "first_coincident_pair found a pair", g.n_local);
      check(std::abs(o->atom_energy_sum - o->energy) <= 1e-8 * std::max(1.0, std::abs(o->energy)),
            "per-atom energies do not sum to the energy", g.n_local);
      for (int k = 0; k < 6; ++k)
        check(std::abs(o->atom_virial_sum[k] - o->virial[k]) <= 1e-8 * std::max(1.0, std::abs(o->virial[k])),
              "per-atom virials do not sum to the virial", g.n_local);
    }
  }
  // make_engine, as the pair styles call it.
  auto any = make_engine<CudaDevice>(potential, Precision::mixed);
  check(any.index() == 1, "make_engine(mixed) did not give a float engine", 0);
  std::printf(status == 0 ? "==> GPU and host engines agree\n" : "==> differences above\n");
  return status;
}

}  // namespace facet_cuda_check

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    return facet_cuda_check::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_compile_check: %s\n", e.what());
    return 2;
  }
}
