// The Kokkos inference engine of docs/model.md: energy, forces, virial, per-atom energy and virial, with
// hand-written adjoints (no autograd). No LAMMPS in here: the pair styles are thin adapters.
//
// Atoms are "local" (0..n_local-1: energies and neighbour lists are computed for them) and "ghost"
// (n_local..n_all-1: copies of atoms owned elsewhere, as in LAMMPS). Message passing across layers needs
// neighbour features of ghosts: after each layer the engine asks a GhostExchange to copy the features of
// owners to their ghosts (forward), and in the backward pass to add the adjoints that landed on ghosts to
// their owners (reverse). So the ghost shell stays one cutoff wide whatever the number of layers.
//
// Kernels run one team per atom (channels are the parallel inner dimension), and the edge geometry
// (harmonics, their gradients, spline basis, envelope) is computed once per call and reused by every layer,
// forward and backward.
#pragma once

#include <Kokkos_Core.hpp>
#include <Kokkos_ScatterView.hpp>  // Kokkos::Experimental::UniqueToken comes with Kokkos_Core.hpp (its own
                                   // header is private from Kokkos 4 on)

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/bspline.hpp"
#include "core/clebsch_gordan.hpp"
#include "core/envelope.hpp"
#include "core/fast_exp.hpp"
#include "core/s2_grid.hpp"
#include "core/spherical_harmonics.hpp"
#include "core/zbl.hpp"
#include "model/elements.hpp"
#include "model/potential.hpp"

namespace facet {

template <class Device>
class GhostExchange {
 public:
  using Features = Kokkos::View<double***, Kokkos::LayoutRight, Device>;  // [atom][harmonic][channel]
  virtual ~GhostExchange() = default;
  virtual void forward(Features data) = 0;  // data(ghost) = data(owner)
  virtual void reverse(Features data) = 0;  // data(owner) += data(ghost)
};

// What compute() returns (forces and per-atom values are added to the caller's views).
struct EngineResult {
  double energy = 0;
  double virial[6] = {0, 0, 0, 0, 0, 0};  // xx yy zz xy xz yz (LAMMPS order), eV
};

// What the engine computes on top of the total energy.
struct EngineRequest {
  bool forces = true;
  bool virial = true;
  bool atom_energy = false;
  bool atom_virial = false;
};

// Real: the precision of the model's weights, features and kernels. double (the default) reproduces the
// LibTorch reference to round-off; float ("mixed") halves memory traffic and doubles the SIMD width while
// positions, edge vectors and every sum that reaches the energy, forces and virial stay double.
template <class Device, class Real = double>
class Engine {
 public:
  using ExecSpace = typename Device::execution_space;
  using MemSpace = typename Device::memory_space;
  template <class T>
  using View = Kokkos::View<T, Kokkos::LayoutRight, Device>;
  using Positions = Kokkos::View<const double* [3], Kokkos::LayoutRight, Device, Kokkos::MemoryUnmanaged>;
  using Forces = Kokkos::View<double* [3], Kokkos::LayoutRight, Device, Kokkos::MemoryUnmanaged>;
  using AtomVirial = Kokkos::View<double* [6], Kokkos::LayoutRight, Device, Kokkos::MemoryUnmanaged>;
  using AtomEnergy = Kokkos::View<double*, Kokkos::LayoutRight, Device, Kokkos::MemoryUnmanaged>;
  using Team = typename Kokkos::TeamPolicy<ExecSpace>::member_type;

  explicit Engine(const Potential& potential);

  const ModelHyperparameters& hyper() const { return hp_; }
  double cutoff() const { return hp_.r_cut; }
  // Doubles exchanged per atom by GhostExchange (for LAMMPS's comm_forward / comm_reverse); the exchange
  // is in double whatever Real is (float values pass through it exactly).
  int exchange_size() const { return nsh_ * C_; }

  using Result = EngineResult;

  // species: element index of every atom (local and ghost), -1 for atoms the potential ignores.
  // Neighbors: an accessor with count(i) and operator()(i, jj) giving a neighbour index of local atom i
  // (LAMMPS's full list with ghosts; neighbours beyond the cutoff are skipped here).
  // Forces, per-atom energies and per-atom virials are added to the given views (sized n_all / n_local).
  template <class Neighbors>
  Result compute(int n_local, int n_all, Positions x, View<const int*> species, const Neighbors& neighbors,
                 GhostExchange<Device>* exchange, const EngineRequest& request, Forces f,
                 AtomEnergy atom_energy = {}, AtomVirial atom_virial = {});

  // Bytes held by the per-call workspaces (features, edges), for memory reports.
  size_t workspace_bytes() const;

  // Checks a pair style runs around compute() (they need MPI agreement, so they are not inside it):
  // the first neighbour pair {i local, j} of treated atoms at the same position (no edge direction),
  // or {-1, -1}; and the first atom whose force is not finite, or -1.
  template <class Neighbors>
  Kokkos::pair<int, int> first_coincident_pair(int n_local, int n_all, Positions x, View<const int*> species,
                                               const Neighbors& neighbors) const;
  static int first_nonfinite_force(int n_all, Forces f);

 private:
  template <class T>
  static void grow(View<T>& v, const std::string& name, size_t n0) {
    if (v.extent(0) < n0) v = View<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, name), n0 + n0 / 16 + 16);
  }
  template <class T>
  static void grow(View<T>& v, const std::string& name, size_t n0, size_t n1) {
    if (v.extent(0) < n0) v = View<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, name), n0 + n0 / 16 + 16, n1);
  }
  template <class T>
  static void grow(View<T>& v, const std::string& name, size_t n0, size_t n1, size_t n2) {
    if (v.extent(0) < n0)
      v = View<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, name), n0 + n0 / 16 + 16, n1, n2);
  }

 public:  // kernels (public for CUDA lambdas)
  using Features = View<Real***>;  // [atom][harmonic][channel]
  template <class Neighbors>
  void build_edges(int n_local, Positions x, View<const int*> species, const Neighbors& neighbors);
  void edge_geometry();
  void embed(int n_local, int n_all, View<const int*> species);
  void message(int layer, int n_local);
  void node_update(int layer, int n_local, int n_all, bool want_gradient);
  double readout(int n_local, View<const int*> species, AtomEnergy atom_energy, bool want_atom_energy);
  void node_backward(int layer, int n_local);
  void edge_backward(int layer, int n_local, int n_all, bool want_atom_virial, Forces f, AtomVirial atom_virial,
                     double virial[6]);
  void up_backward(int layer, int n_local);
  // The short-range pair repulsion (when the model has one): returns its energy, and with want_gradient adds
  // its forces and virial like edge_backward.
  double repulsion(int n_local, View<const int*> species, bool want_atom_energy, AtomEnergy atom_energy,
                   bool want_gradient, bool want_atom_virial, Forces f, AtomVirial atom_virial, double virial[6]);
  // The exchanges in double: in place when Real is double, else through exchange_buffer_.
  void exchange_forward(GhostExchange<Device>& exchange, Features data, int n_local, int n_all);
  void exchange_reverse(GhostExchange<Device>& exchange, Features data, int n_local, int n_all);

 private:
  // Grid points per block of the node updates' grid MLP (scratch: a block's values for every channel).
  static constexpr int kPointBlock = 24;
  ModelHyperparameters hp_;
  int L_, Le_, nsh_, nshe_, C_, Cg_, H_, Hr_, K_, nR_, P_, T_;
  Real inv_avg_;

  // Model constants (device).
  View<Real**> embedding_;      // [species][c]
  View<Real**> embedding_up_;   // [species][c]: W_up^0 times the embedding (a^0's scalars)
  View<Real****> up_, msg_;     // [t][l][c_out][c_in]
  View<Real****> mid_, out_;    // [t][l][cg][c], [t][l][c][cg]
  // Transposed copies for the forward node update, whose loops run over the output channel innermost.
  View<Real****> upT_, msgT_, midT_, outT_;
  View<Real***> w1t_, w2t_;     // [t][cg][h], [t][h][cg]
  View<Real****> radial_;       // [t][k][b][c]
  View<Real***> w1_, w2_;       // [t][h][cg], [t][cg][h]
  View<Real**> b1_;             // [t][h]
  // The readout (a few operations per atom) stays double: it forms the energy.
  View<double**> ro_w1_;        // [hr][c]
  View<double*> ro_b1_, ro_w2_, e0_;
  View<double***> repulsion_pairs_;  // [species][species][3]: the ZblPair fields (zbl only)
  // Nonzero coupling coefficients in groups that share input harmonic, output harmonic and radial function
  // (they differ in the edge harmonic): per edge a group is one channel loop. Groups with scalar inputs
  // come first (layer 0 needs only those); within each part they are sorted by output harmonic, and a run
  // of groups with the same output harmonic adds to one row of M, which stays in registers.
  View<int*> group_s1_, group_s3_, group_k_, group_first_;  // [group]; first: offsets into the pairs
  View<int*> pair_s2_;                                        // [nonzero] edge harmonic
  View<Real*> pair_value_;                                    // [nonzero] coefficient
  View<int*> run_first_;                                      // [run]: first group of the run (and the end)
  int n_groups_ = 0, n_groups_scalar_ = 0, n_runs_ = 0, n_runs_scalar_ = 0;
  static constexpr int kMaxEdgeHarmonics = 49;  // l_edge <= 6
  View<Real**> grid_Y_, grid_Yw_;  // [p][harmonic]: Y_p and w_p Y_p / 4 pi

  // Per-call workspaces, grown as needed and kept between calls. Edge vectors and lengths are double
  // (they give the forces' directions and the virial); what feeds the features is Real.
  View<int*> edge_count_, edge_offset_;  // per local atom
  View<int*> edge_j_, edge_first_;
  View<double**> edge_vec_;              // [e][3]
  View<double*> edge_r_;
  View<Real*> edge_u_, edge_du_;
  View<Real**> edge_B_, edge_dB_;        // [e][4]
  View<Real**> edge_Y_;                  // [e][harmonic]
  View<Real***> edge_dY_;                // [e][harmonic][3]
  std::vector<Features> a_;              // per layer: [atom][harmonic][c] for all atoms
  std::vector<Features> M_;              // per layer: [local atom][harmonic][c]
  Features h_, dh_, dM_, da_;            // current features and adjoints
  // The last layer's Q[s][k] = sum_p Y_p[s] Yw_p[0] silu'(pre_p[k]), formed in its forward pass: there the
  // readout's dE/dh has scalars only, so that pass's dE/dgW is dV[0][k] Q[s][k], with no grid points.
  View<Real***> last_Q_;                 // [local atom][harmonic][hidden]
  View<double***> exchange_buffer_;      // features or adjoints in double for the exchange (Real = float)
  View<Real**> da_copies_;               // [thread][atom * harmonic * c]: edge_backward's private copies of da
  // Thread tokens for them (made once: on GPUs a token set owns a device lock array).
  Kokkos::Experimental::UniqueToken<ExecSpace> tokens_;
  int n_edges_ = 0;
};

// ---------------------------------------------------------------------------------------------------------

namespace detail {

template <class V>
V make_view(const std::string& name, const std::vector<int64_t>& shape) {
  if constexpr (V::rank == 1) return V(name, shape[0]);
  if constexpr (V::rank == 2) return V(name, shape[0], shape[1]);
  if constexpr (V::rank == 3) return V(name, shape[0], shape[1], shape[2]);
  if constexpr (V::rank == 4) return V(name, shape[0], shape[1], shape[2], shape[3]);
}

// Copies one potential array, or the same array of every layer stacked in front, into a device view.
template <class V>
V upload(const Potential& pot, const std::string& name, int layers = 0) {
  std::vector<int64_t> shape;
  std::vector<double> values;
  if (layers == 0) {
    const Array& a = pot.array(name);
    shape = a.shape;
    values = a.values;
  } else {
    for (int t = 0; t < layers; ++t) {
      const Array& a = pot.array("layer" + std::to_string(t) + "." + name);
      if (t == 0) {
        shape = a.shape;
        shape.insert(shape.begin(), layers);
      }
      values.insert(values.end(), a.values.begin(), a.values.end());
    }
  }
  V view = make_view<V>(name, shape);
  auto host = Kokkos::create_mirror_view(view);
  std::copy(values.begin(), values.end(), host.data());
  Kokkos::deep_copy(view, host);
  return view;
}

template <class V>
V upload_vector(const std::string& name, const std::vector<typename V::non_const_value_type>& values) {
  V view(name, values.size());
  auto host = Kokkos::create_mirror_view(view);
  for (size_t i = 0; i < values.size(); ++i) host(i) = values[i];
  Kokkos::deep_copy(view, host);
  return view;
}

// v - v is 0 for finite v and NaN for NaN or infinity (the isfinite of Kokkos moved namespaces in 4.0).
KOKKOS_INLINE_FUNCTION bool finite(double v) { return v - v == 0.0; }

// The edge harmonics of degree <= l_edge and their gradients (Y [harmonic], dY [harmonic][3]) of the edge
// vector r: straight into the edge rows in double, else evaluated in double and stored in Real. (In a
// function of its own: CUDA's extended lambdas cannot first-capture variables inside `if constexpr`.)
template <int MaxHarmonics, class Real>
KOKKOS_INLINE_FUNCTION void edge_harmonics(int l_edge, const double r[3], Real* Y, Real* dY) {
  if constexpr (std::is_same<Real, double>::value) {
    spherical_harmonics_with_gradient(l_edge, r, Y, dY);
  } else {
    double Yd[MaxHarmonics], dYd[3 * MaxHarmonics];
    spherical_harmonics_with_gradient(l_edge, r, Yd, dYd);
    const int n = (l_edge + 1) * (l_edge + 1);
    for (int s = 0; s < n; ++s) {
      Y[s] = static_cast<Real>(Yd[s]);
      for (int k = 0; k < 3; ++k) dY[3 * s + k] = static_cast<Real>(dYd[3 * s + k]);
    }
  }
}

// fast_exp: vectorised in the host SIMD loops, the device's exp on GPUs (core/fast_exp.hpp).
template <class T>
KOKKOS_INLINE_FUNCTION T silu(T x) {
  return x / (T(1) + fast_exp(-x));
}
template <class T>
KOKKOS_INLINE_FUNCTION T silu_derivative(T x) {
  const T s = T(1) / (T(1) + fast_exp(-x));
  return s * (T(1) + x * (T(1) - s));
}

// Teams and channel loops. On host spaces a team is one thread and the channel loops are SIMD loops
// (Kokkos's vector ranges on the host step by a run-time increment, which defeats the vectoriser); on GPUs
// they are Kokkos's thread/vector ranges. The same kernel code serves both.
template <class ExecSpace>
constexpr bool runs_on_host = Kokkos::SpaceAccessibility<ExecSpace, Kokkos::HostSpace>::accessible;

// On GPUs a team is one thread of kGpuLanes vector lanes (a warp) taking the channels. Measured on an H100
// (tests/engine/cuda_compile_check.cpp, random Facet-small model, 32,768 atoms, double): 3.1 us per
// atom-step; 2 x 32 threads 3.8, 4 x 32 6.2, 2 x 16 3.5, and Kokkos's AUTO (128 x 1: channels looped by
// each thread, most threads idle in the per-atom products) 13.9.
constexpr int kGpuLanes = 32;

template <class ExecSpace>
Kokkos::TeamPolicy<ExecSpace> team_policy(int league) {
  if constexpr (runs_on_host<ExecSpace>)
    return Kokkos::TeamPolicy<ExecSpace>(league, 1, 1);
  else  // one warp per atom: see kGpuLanes
    return Kokkos::TeamPolicy<ExecSpace>(league, 1, kGpuLanes);
}

// f(i) for i in [0, n), over the calling thread's vector lanes.
template <class ExecSpace, class Team, class F>
KOKKOS_FORCEINLINE_FUNCTION void vector_for(const Team& team, int n, const F& f) {
  if constexpr (runs_on_host<ExecSpace>) {
    (void)team;
    FACET_OMP_SIMD()
    for (int i = 0; i < n; ++i) f(i);
  } else {
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, n), f);
  }
}

// f(i) for i in [0, n), over all threads and vector lanes of the team.
template <class ExecSpace, class Team, class F>
KOKKOS_FORCEINLINE_FUNCTION void team_vector_for(const Team& team, int n, const F& f) {
  if constexpr (runs_on_host<ExecSpace>) {
    (void)team;
    FACET_OMP_SIMD()
    for (int i = 0; i < n; ++i) f(i);
  } else {
    Kokkos::parallel_for(Kokkos::TeamVectorRange(team, n), f);
  }
}

// The sum (in T) of f(i) for i in [0, n) over all threads and vector lanes of the team (known to all of them).
template <class ExecSpace, class T, class Team, class F>
KOKKOS_FORCEINLINE_FUNCTION T team_vector_sum(const Team& team, int n, const F& f) {
  T total = 0;
  if constexpr (runs_on_host<ExecSpace>) {
    (void)team;
    FACET_OMP_SIMD(reduction(+ : total))
    for (int i = 0; i < n; ++i) total += f(i);
  } else {
    Kokkos::parallel_reduce(Kokkos::TeamVectorRange(team, n), [&](int i, T& acc) { acc += f(i); }, total);
  }
  return total;
}

// Two sums at once: f(i, s0, s1) adds its terms to s0 and s1; returns {sum s0, sum s1}.
template <class T>
struct SumPair {
  T first, second;
  KOKKOS_INLINE_FUNCTION SumPair& operator+=(const SumPair& o) {
    first += o.first;
    second += o.second;
    return *this;
  }
  KOKKOS_INLINE_FUNCTION void operator+=(const volatile SumPair& o) volatile {  // Kokkos 3's joins
    first += o.first;
    second += o.second;
  }
};

}  // namespace detail
}  // namespace facet

// Kokkos's Sum reducer (behind the device branch of team_vector_sums) starts from this identity.
namespace Kokkos {
template <class T>
struct reduction_identity<facet::detail::SumPair<T>> {
  KOKKOS_FORCEINLINE_FUNCTION static facet::detail::SumPair<T> sum() { return {T(0), T(0)}; }
};
}  // namespace Kokkos

namespace facet {
namespace detail {

template <class ExecSpace, class T, class Team, class F>
KOKKOS_FORCEINLINE_FUNCTION SumPair<T> team_vector_sums(const Team& team, int n, const F& f) {
  SumPair<T> total{0, 0};
  if constexpr (runs_on_host<ExecSpace>) {
    (void)team;
    T s0 = 0, s1 = 0;
    FACET_OMP_SIMD(reduction(+ : s0, s1))
    for (int i = 0; i < n; ++i) f(i, s0, s1);
    total = {s0, s1};
  } else {
    Kokkos::parallel_reduce(
        Kokkos::TeamVectorRange(team, n), [&](int i, SumPair<T>& acc) { f(i, acc.first, acc.second); }, total);
  }
  return total;
}

// target += value from a channel loop: plain on host spaces (the caller keeps threads apart), atomic on GPUs.
template <class ExecSpace, class T>
KOKKOS_FORCEINLINE_FUNCTION void scatter_add(T& target, T value) {
  if constexpr (runs_on_host<ExecSpace>)
    target += value;
  else
    Kokkos::atomic_add(&target, value);
}

// Register-blocked small products for the grid MLP and the channel mixing:
//   out(r, j) = init + sum_i in(r, i) W[i * ld_w + j]   for r < rows, j < n,
// with in(r, i) = in[r * in_row + i * in_col]; init is bias[j] if given, else out(r, j) when accumulating,
// else 0. T comes from the matrices; bias may be nullptr (NotDeduced: std::type_identity_t before C++20).
template <class T>
struct NotDeducedImpl {
  using type = T;
};
template <class T>
using NotDeduced = typename NotDeducedImpl<T>::type;

// Host: up to kHostRows rows at a time, each with 2 SIMD vectors of sums (6 x 2 = 12 of AVX2's 16 registers),
// so that a loaded weight vector serves every row of the block and the sums never leave the registers. GCC
// keeps them in registers only with explicit vector types (GCC/Clang vector extensions; with arrays and
// `omp simd` it reloads the weights for every multiply-add, a third of the speed, measured). nvcc's front
// end gets the plain loops (a CUDA build runs the engine on the GPU).
constexpr int kHostRows = 6;
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define FACET_HOST_VECTOR_TYPES 1
template <class T>
struct HostSimd {
  typedef T vec __attribute__((vector_size(32)));
  typedef T unaligned_vec __attribute__((vector_size(32), aligned(alignof(T)), may_alias));
  static constexpr int lanes = 32 / sizeof(T);
  static vec load(const T* p) { return *reinterpret_cast<const unaligned_vec*>(p); }
  static void store(T* p, vec v) { *reinterpret_cast<unaligned_vec*>(p) = v; }
};
#endif

template <int R, class T>
KOKKOS_INLINE_FUNCTION void host_rows_times_matrix(int n, int n_in, const T* in, int in_row, int in_col, const T* W,
                                                   int ld_w, T* out, int ld_out, const T* bias, bool accumulate) {
  int j0 = 0;
#ifdef FACET_HOST_VECTOR_TYPES
  using Simd = HostSimd<T>;
  using vec = typename Simd::vec;
  constexpr int N = Simd::lanes;
  for (; j0 + 2 * N <= n; j0 += 2 * N) {
    vec acc0[R], acc1[R];
    _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
      if (bias) {
        acc0[r] = Simd::load(bias + j0);
        acc1[r] = Simd::load(bias + j0 + N);
      } else if (accumulate) {
        acc0[r] = Simd::load(out + r * ld_out + j0);
        acc1[r] = Simd::load(out + r * ld_out + j0 + N);
      } else {
        acc0[r] = vec{};
        acc1[r] = vec{};
      }
    }
    const T* w = W + j0;
    for (int i = 0; i < n_in; ++i, w += ld_w) {
      const vec w0 = Simd::load(w), w1 = Simd::load(w + N);
      _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
        const T x = in[r * in_row + i * in_col];
        acc0[r] += x * w0;
        acc1[r] += x * w1;
      }
    }
    _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
      Simd::store(out + r * ld_out + j0, acc0[r]);
      Simd::store(out + r * ld_out + j0 + N, acc1[r]);
    }
  }
#endif
  for (; j0 < n; ++j0) {  // columns left over (all of them without vector types)
    T acc[R];
    for (int r = 0; r < R; ++r) acc[r] = bias ? bias[j0] : accumulate ? out[r * ld_out + j0] : T(0);
    for (int i = 0; i < n_in; ++i) {
      const T w = W[i * ld_w + j0];
      for (int r = 0; r < R; ++r) acc[r] += in[r * in_row + i * in_col] * w;
    }
    for (int r = 0; r < R; ++r) out[r * ld_out + j0] = acc[r];
  }
}

#ifdef FACET_HOST_VECTOR_TYPES
// Host: a run of coupling groups with the same output harmonic, out += sum_q coef[q] R[k[q]] a[s1[q]] over the
// C channels (R and a rows of C). The output row stays in registers for the whole run, V vectors at a time:
// with 8 the multiply-adds of one group do not wait for the previous group's (4 accumulators did: latency-bound).
template <int V, class T>
inline int host_message_run_blocks(int C, int c, T* out, int q0, int q1, const T* coef, const int* k, const int* s1,
                                   const T* R, const T* a) {
  using Simd = HostSimd<T>;
  using vec = typename Simd::vec;
  constexpr int N = Simd::lanes;
  for (; c + V * N <= C; c += V * N) {
    vec m[V];
    _Pragma("GCC unroll 8") for (int v = 0; v < V; ++v) m[v] = Simd::load(out + c + v * N);
    for (int q = q0; q < q1; ++q) {
      const T cf = coef[q];
      const T* r = R + k[q] * C + c;
      const T* x = a + s1[q] * C + c;
      _Pragma("GCC unroll 8") for (int v = 0; v < V; ++v) m[v] += cf * (Simd::load(r + v * N) * Simd::load(x + v * N));
    }
    _Pragma("GCC unroll 8") for (int v = 0; v < V; ++v) Simd::store(out + c + v * N, m[v]);
  }
  return c;
}

template <class T>
inline void host_message_run(int C, T* out, int q0, int q1, const T* coef, const int* k, const int* s1, const T* R,
                             const T* a) {
  int c = host_message_run_blocks<8>(C, 0, out, q0, q1, coef, k, s1, R, a);
  c = host_message_run_blocks<4>(C, c, out, q0, q1, coef, k, s1, R, a);
  c = host_message_run_blocks<1>(C, c, out, q0, q1, coef, k, s1, R, a);
  for (; c < C; ++c) {
    T m = out[c];
    for (int q = q0; q < q1; ++q) m += coef[q] * (R[k[q] * C + c] * a[s1[q] * C + c]);
    out[c] = m;
  }
}

// Host: one coupling group of edge_backward over the C channels (w = dM row, a = a_j row):
//   da += coef R w,   S += w a R,   D += w a dR   (S and D lane by lane).
// The caller adds S and D to the edge's dE/dY and dE/dr lane by lane and sums the lanes once per edge instead
// of twice per group (those horizontal sums were a fifth of the kernel). (Tried and slower: runs of groups with
// one input harmonic and radial function, which need 2 instead of 5 multiply-adds per group and channel but
// more loop overhead; docs/engine.md.)
template <class T>
inline void host_edge_group(int C, T coef, const T* w, const T* a, const T* R, const T* dR, T* da,
                            typename HostSimd<T>::vec& S, typename HostSimd<T>::vec& D) {
  using Simd = HostSimd<T>;
  using vec = typename Simd::vec;
  constexpr int N = Simd::lanes;
  vec s0{}, s1{}, d0{}, d1{};
  int c = 0;
  for (; c + 2 * N <= C; c += 2 * N) {  // two independent chains of sums
    const vec w0 = Simd::load(w + c), w1 = Simd::load(w + c + N);
    const vec r0 = Simd::load(R + c), r1 = Simd::load(R + c + N);
    Simd::store(da + c, Simd::load(da + c) + coef * (w0 * r0));
    Simd::store(da + c + N, Simd::load(da + c + N) + coef * (w1 * r1));
    const vec x0 = w0 * Simd::load(a + c), x1 = w1 * Simd::load(a + c + N);
    s0 += x0 * r0;
    s1 += x1 * r1;
    d0 += x0 * Simd::load(dR + c);
    d1 += x1 * Simd::load(dR + c + N);
  }
  for (; c + N <= C; c += N) {
    const vec w0 = Simd::load(w + c), r0 = Simd::load(R + c);
    Simd::store(da + c, Simd::load(da + c) + coef * (w0 * r0));
    const vec x0 = w0 * Simd::load(a + c);
    s0 += x0 * r0;
    d0 += x0 * Simd::load(dR + c);
  }
  S = s0 + s1;
  D = d0 + d1;
  for (; c < C; ++c) {  // channels left over go to lane 0
    da[c] += coef * (w[c] * R[c]);
    const T x = w[c] * a[c];
    S[0] += x * R[c];
    D[0] += x * dR[c];
  }
}

// Lane-by-lane sums in double (vectors of HostSimd<T>::lanes doubles).
template <int Lanes>
struct HostDoubleLanes;  // (GCC drops vector_size attributes that depend on a template parameter)
template <>
struct HostDoubleLanes<4> {
  typedef double vec __attribute__((vector_size(32)));
};
template <>
struct HostDoubleLanes<8> {
  typedef double vec __attribute__((vector_size(64)));
};
template <class T>
struct HostLaneSums {
  static constexpr int lanes = HostSimd<T>::lanes;
  using vec = typename HostDoubleLanes<lanes>::vec;
  // (References, not values: a 64-byte vector passed by value changes the ABI without AVX-512.)
  static void add(vec& sum, double w, const typename HostSimd<T>::vec& v) { sum += w * __builtin_convertvector(v, vec); }
  static double total(const vec& v) {
    double sum = 0;
    for (int k = 0; k < lanes; ++k) sum += v[k];
    return sum;
  }
};
#endif

// GPUs: R rows (a compile-time count, so that the sums stay in registers), the lanes taking the columns.
template <int R, class Team, class T>
KOKKOS_FORCEINLINE_FUNCTION void lane_rows_times_matrix(const Team& team, int n, int n_in, const T* in, int in_row,
                                                        int in_col, const T* W, int ld_w, T* out, int ld_out,
                                                        const T* bias, bool accumulate, bool silu_out) {
  Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, n), [&](int j) {
    T acc[R];
    for (int r = 0; r < R; ++r) acc[r] = bias ? bias[j] : accumulate ? out[r * ld_out + j] : T(0);
    for (int i = 0; i < n_in; ++i) {
      const T w = W[i * ld_w + j];
      for (int r = 0; r < R; ++r) acc[r] += in[r * in_row + i * in_col] * w;
    }
    for (int r = 0; r < R; ++r) out[r * ld_out + j] = silu_out ? silu(acc[r]) : acc[r];
  });
}

// On host spaces blocks of kHostRows rows (then the rest); on GPUs groups of four rows spread over the team's
// threads, the lanes taking the columns. With `silu_out` the results then go through silu (by the threads and
// lanes that wrote them: no barrier needed).
template <class ExecSpace, class Team, class T>
KOKKOS_FORCEINLINE_FUNCTION void rows_times_matrix(const Team& team, int rows, int n, int n_in, const T* in, int in_row,
                                                   int in_col, const T* W, int ld_w, T* out, int ld_out,
                                                   const NotDeduced<T>* bias = nullptr, bool accumulate = false,
                                                   bool silu_out = false) {
  if constexpr (runs_on_host<ExecSpace>) {
    (void)team;
    int r0 = 0;
    for (; r0 + kHostRows <= rows; r0 += kHostRows)
      host_rows_times_matrix<kHostRows>(n, n_in, in + r0 * in_row, in_row, in_col, W, ld_w, out + r0 * ld_out, ld_out,
                                        bias, accumulate);
    static_assert(kHostRows == 6, "the switch below covers kHostRows - 1 rows");
    const T* in0 = in + r0 * in_row;
    T* out0 = out + r0 * ld_out;
    switch (rows - r0) {
      case 5: host_rows_times_matrix<5>(n, n_in, in0, in_row, in_col, W, ld_w, out0, ld_out, bias, accumulate); break;
      case 4: host_rows_times_matrix<4>(n, n_in, in0, in_row, in_col, W, ld_w, out0, ld_out, bias, accumulate); break;
      case 3: host_rows_times_matrix<3>(n, n_in, in0, in_row, in_col, W, ld_w, out0, ld_out, bias, accumulate); break;
      case 2: host_rows_times_matrix<2>(n, n_in, in0, in_row, in_col, W, ld_w, out0, ld_out, bias, accumulate); break;
      case 1: host_rows_times_matrix<1>(n, n_in, in0, in_row, in_col, W, ld_w, out0, ld_out, bias, accumulate); break;
      default: break;
    }
    if (silu_out)
      for (int r = 0; r < rows; ++r) {
        T* o = out + r * ld_out;
        FACET_OMP_SIMD()
        for (int j = 0; j < n; ++j) o[j] = silu(o[j]);
      }
  } else {
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, (rows + 3) / 4), [&](int q) {
      const int r0 = 4 * q;
      if (rows - r0 >= 4) {
        lane_rows_times_matrix<4>(team, n, n_in, in + r0 * in_row, in_row, in_col, W, ld_w, out + r0 * ld_out, ld_out,
                                  bias, accumulate, silu_out);
      } else {
        for (int r = r0; r < rows; ++r)
          lane_rows_times_matrix<1>(team, n, n_in, in + r * in_row, in_row, in_col, W, ld_w, out + r * ld_out, ld_out,
                                    bias, accumulate, silu_out);
      }
    });
  }
}

// Atom rows [first, last) of `from` into `to` (per_atom values a row), converting between float and double.
template <class ExecSpace, class To, class From>
void copy_rows(const char* label, const To& to, const From& from, int first, int last, int per_atom) {
  using Value = typename To::non_const_value_type;
  Kokkos::parallel_for(label, Kokkos::RangePolicy<ExecSpace>(first * per_atom, last * per_atom),
                       KOKKOS_LAMBDA(int k) { to.data()[k] = static_cast<Value>(from.data()[k]); });
}

// The same array with its last two indices swapped (weights laid out for the other loop order).
template <class V>
V transpose_last_two(const V& v) {
  static_assert(V::rank == 3 || V::rank == 4, "rank 3 or 4");
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  V t;
  if constexpr (V::rank == 3) {
    t = V(v.label() + "T", v.extent(0), v.extent(2), v.extent(1));
    auto ht = Kokkos::create_mirror_view(t);
    for (size_t a = 0; a < v.extent(0); ++a)
      for (size_t b = 0; b < v.extent(1); ++b)
        for (size_t c = 0; c < v.extent(2); ++c) ht(a, c, b) = host(a, b, c);
    Kokkos::deep_copy(t, ht);
  } else {
    t = V(v.label() + "T", v.extent(0), v.extent(1), v.extent(3), v.extent(2));
    auto ht = Kokkos::create_mirror_view(t);
    for (size_t a = 0; a < v.extent(0); ++a)
      for (size_t b = 0; b < v.extent(1); ++b)
        for (size_t c = 0; c < v.extent(2); ++c)
          for (size_t d = 0; d < v.extent(3); ++d) ht(a, b, d, c) = host(a, b, c, d);
    Kokkos::deep_copy(t, ht);
  }
  return t;
}

}  // namespace detail

template <class Device, class Real>
Engine<Device, Real>::Engine(const Potential& pot) : hp_(pot.hyper) {
  validate(hp_);
  L_ = hp_.l_max;
  Le_ = hp_.l_edge;
  nsh_ = sh_size(L_);
  nshe_ = sh_size(Le_);
  C_ = hp_.channels;
  Cg_ = hp_.grid_channels;
  H_ = hp_.grid_hidden;
  Hr_ = hp_.readout_hidden;
  K_ = hp_.radial_basis;
  nR_ = num_radial_functions(hp_);
  P_ = hp_.grid_theta * hp_.grid_phi;
  T_ = hp_.layers;
  inv_avg_ = static_cast<Real>(1.0 / hp_.avg_num_neighbors);

  embedding_ = detail::upload<View<Real**>>(pot, "embedding");
  up_ = detail::upload<View<Real****>>(pot, "up", T_);
  msg_ = detail::upload<View<Real****>>(pot, "msg", T_);
  mid_ = detail::upload<View<Real****>>(pot, "mid", T_);
  out_ = detail::upload<View<Real****>>(pot, "out", T_);
  radial_ = detail::upload<View<Real****>>(pot, "radial", T_);
  w1_ = detail::upload<View<Real***>>(pot, "grid_w1", T_);
  w2_ = detail::upload<View<Real***>>(pot, "grid_w2", T_);
  b1_ = detail::upload<View<Real**>>(pot, "grid_b1", T_);
  upT_ = detail::transpose_last_two(up_);
  msgT_ = detail::transpose_last_two(msg_);
  midT_ = detail::transpose_last_two(mid_);
  outT_ = detail::transpose_last_two(out_);
  w1t_ = detail::transpose_last_two(w1_);
  w2t_ = detail::transpose_last_two(w2_);
  {
    const Array& emb = pot.array("embedding");
    const Array& up0 = pot.array("layer0.up");  // [l][c_out][c_in]; the scalars are l = 0
    const int S = static_cast<int>(emb.shape[0]);
    embedding_up_ = View<Real**>("embedding_up", S, C_);
    auto host = Kokkos::create_mirror_view(embedding_up_);
    for (int z = 0; z < S; ++z)
      for (int c = 0; c < C_; ++c) {
        double sum = 0;
        for (int cc = 0; cc < C_; ++cc) sum += up0.values[c * C_ + cc] * emb.values[z * C_ + cc];
        host(z, c) = static_cast<Real>(sum);
      }
    Kokkos::deep_copy(embedding_up_, host);
  }
  ro_w1_ = detail::upload<View<double**>>(pot, "readout.w1");
  ro_b1_ = detail::upload<View<double*>>(pot, "readout.b1");
  ro_w2_ = detail::upload<View<double*>>(pot, "readout.w2");
  e0_ = detail::upload_vector<View<double*>>("atomic_energies", hp_.atomic_energies);
  if (hp_.repulsion == Repulsion::zbl) {
    const int S = static_cast<int>(hp_.elements.size());
    repulsion_pairs_ = View<double***>("repulsion_pairs", S, S, 3);
    auto host = Kokkos::create_mirror_view(repulsion_pairs_);
    for (int zi = 0; zi < S; ++zi)
      for (int zj = 0; zj < S; ++zj) {
        const auto pair = ZblPair<double>::make(atomic_number(hp_.elements[zi]), atomic_number(hp_.elements[zj]),
                                                hp_.repulsion_radii[zi] + hp_.repulsion_radii[zj]);
        host(zi, zj, 0) = pair.charge_product;
        host(zi, zj, 1) = pair.inv_screening;
        host(zi, zj, 2) = pair.r_max;
      }
    Kokkos::deep_copy(repulsion_pairs_, host);
  }

  // Nonzero coupling coefficients of every path, grouped by (input harmonic, output harmonic) within the path
  // (so by radial function too), then ordered as described at group_s1_.
  if (nshe_ > kMaxEdgeHarmonics) throw std::invalid_argument("facet engine: l_edge above 6 is not supported");
  struct Group {
    int s1, s3, k;
    std::vector<std::pair<int, double>> pairs;  // (edge harmonic, coefficient)
  };
  std::vector<Group> groups;
  const auto paths = coupling_paths(L_, Le_);
  for (size_t p = 0; p < paths.size(); ++p) {
    const auto& path = paths[p];
    const CouplingTensor T = hp_.tensor_product == TensorProduct::gaunt
                                 ? gaunt(path.l_in, path.l_edge, path.l_out)
                                 : clebsch_gordan(path.l_in, path.l_edge, path.l_out);
    const int radial = hp_.tensor_product == TensorProduct::gaunt ? path.l_edge : static_cast<int>(p);
    for (int i1 = 0; i1 < 2 * path.l_in + 1; ++i1)
      for (int i3 = 0; i3 < 2 * path.l_out + 1; ++i3) {
        Group g{path.l_in * path.l_in + i1, path.l_out * path.l_out + i3, radial, {}};
        for (int i2 = 0; i2 < 2 * path.l_edge + 1; ++i2) {
          const double v = T(i1, i2, i3);
          if (std::abs(v) >= 1e-15) g.pairs.push_back({path.l_edge * path.l_edge + i2, v});
        }
        if (!g.pairs.empty()) groups.push_back(std::move(g));
      }
  }
  std::stable_sort(groups.begin(), groups.end(), [](const Group& x, const Group& y) {
    return std::make_pair(x.s1 > 0, x.s3) < std::make_pair(y.s1 > 0, y.s3);
  });
  std::vector<int> g_s1, g_s3, g_k, g_first{0}, p_s2, runs;
  std::vector<Real> p_value;
  for (size_t q = 0; q < groups.size(); ++q) {
    const Group& g = groups[q];
    if (q == 0 || g.s3 != groups[q - 1].s3 || (g.s1 > 0) != (groups[q - 1].s1 > 0)) runs.push_back(static_cast<int>(q));
    if (g.s1 == 0) n_groups_scalar_ = static_cast<int>(q) + 1, n_runs_scalar_ = static_cast<int>(runs.size());
    g_s1.push_back(g.s1);
    g_s3.push_back(g.s3);
    g_k.push_back(g.k);
    for (const auto& [s2, v] : g.pairs) p_s2.push_back(s2), p_value.push_back(static_cast<Real>(v));
    g_first.push_back(static_cast<int>(p_s2.size()));
  }
  n_groups_ = static_cast<int>(groups.size());
  n_runs_ = static_cast<int>(runs.size());
  runs.push_back(n_groups_);
  group_s1_ = detail::upload_vector<View<int*>>("group_s1", g_s1);
  group_s3_ = detail::upload_vector<View<int*>>("group_s3", g_s3);
  group_k_ = detail::upload_vector<View<int*>>("group_k", g_k);
  group_first_ = detail::upload_vector<View<int*>>("group_first", g_first);
  pair_s2_ = detail::upload_vector<View<int*>>("pair_s2", p_s2);
  pair_value_ = detail::upload_vector<View<Real*>>("pair_value", p_value);
  run_first_ = detail::upload_vector<View<int*>>("run_first", runs);

  const S2Grid grid = make_s2_grid(L_, {hp_.grid_theta, hp_.grid_phi});
  grid_Y_ = View<Real**>("grid_Y", P_, nsh_);
  grid_Yw_ = View<Real**>("grid_Yw", P_, nsh_);
  auto hY = Kokkos::create_mirror_view(grid_Y_);
  auto hYw = Kokkos::create_mirror_view(grid_Yw_);
  for (int p = 0; p < P_; ++p)
    for (int s = 0; s < nsh_; ++s) {
      hY(p, s) = grid.to_grid(p, s);
      hYw(p, s) = grid.from_grid(s, p);
    }
  Kokkos::deep_copy(grid_Y_, hY);
  Kokkos::deep_copy(grid_Yw_, hYw);
  a_.resize(T_);
  M_.resize(T_);
}

template <class Device, class Real>
size_t Engine<Device, Real>::workspace_bytes() const {
  size_t bytes = 0;
  auto add = [&](const auto& v) { bytes += v.span() * sizeof(typename std::decay_t<decltype(v)>::value_type); };
  for (const auto& v : a_) add(v);
  for (const auto& v : M_) add(v);
  add(h_), add(dh_), add(dM_), add(da_), add(exchange_buffer_), add(da_copies_), add(last_Q_);
  add(edge_count_), add(edge_offset_), add(edge_j_), add(edge_first_), add(edge_vec_), add(edge_r_);
  add(edge_u_), add(edge_du_), add(edge_B_), add(edge_dB_), add(edge_Y_), add(edge_dY_);
  return bytes;
}

template <class Device, class Real>
template <class Neighbors>
Kokkos::pair<int, int> Engine<Device, Real>::first_coincident_pair(int n_local, int n_all, Positions x,
                                                             View<const int*> species,
                                                             const Neighbors& neighbors) const {
  long long first = 0;  // i * n_all + j of the first pair; the Min reducer starts from the largest value
  const long long none = Kokkos::reduction_identity<long long>::min();
  Kokkos::parallel_reduce(
      "facet::coincident_atoms", Kokkos::RangePolicy<ExecSpace>(0, n_local),
      KOKKOS_LAMBDA(int i, long long& found) {
        if (species(i) < 0) return;
        for (int jj = 0; jj < neighbors.count(i); ++jj) {
          const int j = neighbors(i, jj);
          if (species(j) < 0) continue;
          const double dx = x(j, 0) - x(i, 0), dy = x(j, 1) - x(i, 1), dz = x(j, 2) - x(i, 2);
          if (dx * dx + dy * dy + dz * dz < 1e-20) {
            const long long key = static_cast<long long>(i) * n_all + j;
            if (key < found) found = key;
          }
        }
      },
      Kokkos::Min<long long>(first));
  if (first == none) return {-1, -1};
  return {static_cast<int>(first / n_all), static_cast<int>(first % n_all)};
}

template <class Device, class Real>
int Engine<Device, Real>::first_nonfinite_force(int n_all, Forces f) {
  int first = 0;
  Kokkos::parallel_reduce(
      "facet::nonfinite_forces", Kokkos::RangePolicy<ExecSpace>(0, n_all),
      KOKKOS_LAMBDA(int i, int& found) {
        if (!(detail::finite(f(i, 0)) && detail::finite(f(i, 1)) && detail::finite(f(i, 2))) && i < found)
          found = i;
      },
      Kokkos::Min<int>(first));
  return first == Kokkos::reduction_identity<int>::min() ? -1 : first;
}

template <class Device, class Real>
template <class Neighbors>
void Engine<Device, Real>::build_edges(int n_local, Positions x, View<const int*> species, const Neighbors& neighbors) {
  grow(edge_count_, "edge_count", n_local);
  grow(edge_offset_, "edge_offset", n_local + 1);
  auto count = edge_count_;
  auto offset = edge_offset_;
  const double rc2 = hp_.r_cut * hp_.r_cut;
  Kokkos::parallel_for(
      "facet::count_edges", Kokkos::RangePolicy<ExecSpace>(0, n_local), KOKKOS_LAMBDA(int i) {
        int n = 0;
        if (species(i) >= 0)
          for (int jj = 0; jj < neighbors.count(i); ++jj) {
            const int j = neighbors(i, jj);
            if (species(j) < 0) continue;
            const double dx = x(j, 0) - x(i, 0), dy = x(j, 1) - x(i, 1), dz = x(j, 2) - x(i, 2);
            if (dx * dx + dy * dy + dz * dz < rc2) ++n;
          }
        count(i) = n;
      });
  int total = 0;
  Kokkos::parallel_scan(
      "facet::edge_offsets", Kokkos::RangePolicy<ExecSpace>(0, n_local),
      KOKKOS_LAMBDA(int i, int& partial, bool final) {
        if (final) offset(i) = partial;
        partial += count(i);
        if (final && i == n_local - 1) offset(n_local) = partial;
      },
      total);
  if (n_local == 0) Kokkos::deep_copy(Kokkos::subview(offset, 0), 0);
  n_edges_ = total;
  grow(edge_j_, "edge_j", total);
  grow(edge_vec_, "edge_vec", total, 3);
  auto ej = edge_j_;
  auto ev = edge_vec_;
  Kokkos::parallel_for(
      "facet::fill_edges", Kokkos::RangePolicy<ExecSpace>(0, n_local), KOKKOS_LAMBDA(int i) {
        if (species(i) < 0) return;
        int e = offset(i);
        for (int jj = 0; jj < neighbors.count(i); ++jj) {
          const int j = neighbors(i, jj);
          if (species(j) < 0) continue;
          const double dx = x(j, 0) - x(i, 0), dy = x(j, 1) - x(i, 1), dz = x(j, 2) - x(i, 2);
          if (dx * dx + dy * dy + dz * dz >= rc2) continue;
          ej(e) = j;
          ev(e, 0) = dx;
          ev(e, 1) = dy;
          ev(e, 2) = dz;
          ++e;
        }
      });
}

template <class Device, class Real>
void Engine<Device, Real>::edge_geometry() {
  const int E = n_edges_;
  grow(edge_r_, "edge_r", E);
  grow(edge_u_, "edge_u", E);
  grow(edge_du_, "edge_du", E);
  grow(edge_first_, "edge_first", E);
  grow(edge_B_, "edge_B", E, 4);
  grow(edge_dB_, "edge_dB", E, 4);
  grow(edge_Y_, "edge_Y", E, nshe_);
  grow(edge_dY_, "edge_dY", E, nshe_, 3);
  auto ev = edge_vec_;
  auto er = edge_r_;
  auto eu = edge_u_;
  auto edu = edge_du_;
  auto efirst = edge_first_;
  auto eB = edge_B_;
  auto edB = edge_dB_;
  auto eY = edge_Y_;
  auto edY = edge_dY_;
  const int Le = Le_;
  const CubicBSplineBasis<double> basis{hp_.r_cut, K_};
  const PolynomialEnvelope<double> envelope{hp_.r_cut, hp_.envelope_p};
  Kokkos::parallel_for(
      "facet::edge_geometry", Kokkos::RangePolicy<ExecSpace>(0, E), KOKKOS_LAMBDA(int e) {
        const double r[3] = {ev(e, 0), ev(e, 1), ev(e, 2)};
        const double d = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
        er(e) = d;
        double u, du, d2u;
        envelope.evaluate(d, u, du, d2u);
        eu(e) = u;
        edu(e) = du;
        double B[4], dB[4];
        efirst(e) = basis.evaluate(d, B, dB);
        for (int b = 0; b < 4; ++b) {
          eB(e, b) = B[b];
          edB(e, b) = dB[b];
        }
        detail::edge_harmonics<kMaxEdgeHarmonics>(Le, r, &eY(e, 0), &edY(e, 0, 0));
      });
}

template <class Device, class Real>
void Engine<Device, Real>::embed(int n_local, int n_all, View<const int*> species) {
  // h^0 = embedding of the species (scalars only), a^0 = W_up^0 h^0 for every atom: ghosts know their
  // species, so layer 0 needs no exchange.
  grow(h_, "h", n_local, nsh_, C_);
  grow(a_[0], "a0", n_all, nsh_, C_);
  auto h = h_;
  auto a = a_[0];
  auto emb = embedding_;
  auto emb_up = embedding_up_;
  const int C = C_, nsh = nsh_;
  Kokkos::parallel_for(
      "facet::embed", detail::team_policy<ExecSpace>(n_all), KOKKOS_LAMBDA(const Team& team) {
        const int i = team.league_rank();
        const int z = species(i);
        detail::team_vector_for<ExecSpace>(team, C, [&](int c) { a(i, 0, c) = z >= 0 ? emb_up(z, c) : Real(0); });
        for (int s = 1; s < nsh; ++s) detail::team_vector_for<ExecSpace>(team, C, [&](int c) { a(i, s, c) = 0; });
        if (i >= n_local) return;
        detail::team_vector_for<ExecSpace>(team, C, [&](int c) { h(i, 0, c) = z >= 0 ? emb(z, c) : Real(0); });
        for (int s = 1; s < nsh; ++s) detail::team_vector_for<ExecSpace>(team, C, [&](int c) { h(i, s, c) = 0; });
      });
}

template <class Device, class Real>
void Engine<Device, Real>::message(int t, int n_local) {
  // M_i = sum over edges i -> j and coupling nonzeros of value * Y(r_ij) * R(r_ij) * a_j. One team per atom;
  // per edge the radial values R[k][c] and the groups' coefficients (sums of value * Y over the group's
  // nonzeros) go to scratch, then every run of groups with one output harmonic adds to its row of M in one
  // pass over the channels (the TeamVectorRange).
  grow(M_[t], "M", n_local, nsh_, C_);
  auto M = M_[t];
  auto a = a_[t];
  auto offset = edge_offset_;
  auto ej = edge_j_;
  auto efirst = edge_first_;
  auto eB = edge_B_;
  auto eu = edge_u_;
  auto eY = edge_Y_;
  auto radial = radial_;
  auto gs1 = group_s1_, gs3 = group_s3_, gk = group_k_, gfirst = group_first_;
  auto ps2 = pair_s2_;
  auto pvalue = pair_value_;
  auto run_first = run_first_;
  const int n_groups = t == 0 ? n_groups_scalar_ : n_groups_;
  const int n_runs = t == 0 ? n_runs_scalar_ : n_runs_;
  const int C = C_, nsh = nsh_, nR = nR_;
  const Real inv_avg = inv_avg_;
  using Scratch = Kokkos::View<Real*, typename ExecSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  const int scratch_size = nR * C + n_groups_;
  Kokkos::parallel_for(
      "facet::message",
      detail::team_policy<ExecSpace>(n_local)
          .set_scratch_size(0, Kokkos::PerTeam(Scratch::shmem_size(scratch_size))),
      KOKKOS_LAMBDA(const Team& team) {
        const int i = team.league_rank();
        Scratch buf(team.team_scratch(0), scratch_size);
        Real* R = buf.data();
        Real* coef = R + nR * C;
        for (int s = 0; s < nsh; ++s) {
          Real* Ms = &M(i, s, 0);
          detail::team_vector_for<ExecSpace>(team, C, [&](int c) { Ms[c] = 0; });
        }
        for (int e = offset(i); e < offset(i + 1); ++e) {
          const int j = ej(e);
          const int first = efirst(e);
          const Real scale = eu(e) * inv_avg;
          const Real B0 = eB(e, 0), B1 = eB(e, 1), B2 = eB(e, 2), B3 = eB(e, 3);
          for (int k = 0; k < nR; ++k) {
            const Real* w0 = &radial(t, k, first, 0);
            Real* Rk = R + k * C;
            detail::team_vector_for<ExecSpace>(team, C, [&](int c) {
              Rk[c] = scale * (w0[c] * B0 + w0[C + c] * B1 + w0[2 * C + c] * B2 + w0[3 * C + c] * B3);
            });
          }
          detail::team_vector_for<ExecSpace>(team, n_groups, [&](int q) {
            Real sum = 0;
            for (int n = gfirst(q); n < gfirst(q + 1); ++n) sum += pvalue(n) * eY(e, ps2(n));
            coef[q] = sum;
          });
          team.team_barrier();
          const Real* aj = &a(j, 0, 0);
          for (int r = 0; r < n_runs; ++r) {
            const int q0 = run_first(r), q1 = run_first(r + 1);
            Real* Ms = &M(i, gs3(q0), 0);
#ifdef FACET_HOST_VECTOR_TYPES
            if constexpr (detail::runs_on_host<ExecSpace>) {
              detail::host_message_run(C, Ms, q0, q1, coef, gk.data(), gs1.data(), R, aj);
              continue;
            }
#endif
            detail::team_vector_for<ExecSpace>(team, C, [&](int c) {
              Real m = Ms[c];
              for (int q = q0; q < q1; ++q) m += coef[q] * (R[gk(q) * C + c] * aj[gs1(q) * C + c]);
              Ms[c] = m;
            });
          }
          team.team_barrier();  // scratch is reused by the next edge
        }
      });
}

template <class Device, class Real>
void Engine<Device, Real>::node_update(int t, int n_local, int n_all, bool want_gradient) {
  // Per atom (one team): g = W_mid M, then the grid MLP U = Yw^T W2 silu(W1 Y g + b1), then
  // h += W_msg M + W_out U and a^{t+1} = W_up^{t+1} h. The MLP's two matrices are moved through the
  // (linear) projections: pre = Y (g W1^T) + b1 and U = (Yw^T silu(pre)) W2^T, so the only per-point work is
  // with nsh = (L+1)^2 harmonics instead of Cg grid channels (4x fewer operations for Facet-small; the
  // same values to round-off). Points go in blocks of kPointBlock, spread over the team's threads;
  // every inner loop runs over a contiguous output channel with transposed weights.
  const bool last = t + 1 == T_;
  // After the last layer only the scalars of h reach the readout: there U and the update of h are needed
  // for l = 0 only (h's other rows are not read again).
  const int L_out = last ? 0 : L_;
  const int nsh_out = sh_size(L_out);
  if (!last) grow(a_[t + 1], "a", n_all, nsh_, C_);  // ghost rows are filled by the exchange
  const bool form_Q = last && want_gradient;
  if (form_Q) grow(last_Q_, "last_Q", n_local, nsh_, H_);
  auto Q = last_Q_;
  auto M = M_[t];
  auto h = h_;
  auto a_next = last ? Features() : a_[t + 1];
  auto midT = midT_, msgT = msgT_, outT = outT_, upT = upT_;
  auto w1t = w1t_, w2t = w2t_;
  auto b1 = b1_;
  auto gY = grid_Y_, gYw = grid_Yw_;
  const int L = L_;
  const int C = C_, Cg = Cg_, H = H_, P = P_, nsh = nsh_;
  constexpr int B = kPointBlock;
  // Per team scratch: g and U [nsh][Cg], gW = g W1^T and V = Yw^T silu(pre) [nsh][H], a block's hidden and
  // (for Q) Yw_p[0] silu'(pre) [B][H].
  const int scratch_size = 2 * nsh * Cg + 2 * nsh * H + 2 * B * H;
  using Scratch = Kokkos::View<Real*, typename ExecSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  const size_t bytes = Scratch::shmem_size(scratch_size);
  Kokkos::parallel_for(
      "facet::node_update",
      detail::team_policy<ExecSpace>(n_local).set_scratch_size(0, Kokkos::PerTeam(bytes)),
      KOKKOS_LAMBDA(const Team& team) {
        const int i = team.league_rank();
        Scratch buf(team.team_scratch(0), scratch_size);
        Real* g = buf.data();
        Real* U = g + nsh * Cg;
        Real* gW = U + nsh * Cg;
        Real* V = gW + nsh * H;
        Real* hid = V + nsh * H;
        Real* dq = hid + B * H;
        Real* Qi = form_Q ? &Q(i, 0, 0) : nullptr;
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, nsh), [&](int s) {
          detail::vector_for<ExecSpace>(team, H, [&](int k) { V[s * H + k] = 0; });
          if (form_Q) detail::vector_for<ExecSpace>(team, H, [&](int k) { Qi[s * H + k] = 0; });
        });
        for (int l = 0; l <= L; ++l)  // g = W_mid M, degree by degree
          detail::rows_times_matrix<ExecSpace>(team, 2 * l + 1, Cg, C, &M(i, l * l, 0), C, 1, &midT(t, l, 0, 0), Cg,
                                               g + l * l * Cg, Cg);
        // Phases are separated by team barriers: a phase reads what other threads and lanes wrote.
        team.team_barrier();
        detail::rows_times_matrix<ExecSpace>(team, nsh, H, Cg, g, Cg, 1, &w1t(t, 0, 0), H, gW, H);  // gW = g W1^T
        team.team_barrier();
        for (int p0 = 0; p0 < P; p0 += B) {
          const int nb = P - p0 < B ? P - p0 : B;
          detail::rows_times_matrix<ExecSpace>(team, nb, H, nsh, &gY(p0, 0), nsh, 1, gW, H, hid, H, &b1(t, 0), false,
                                               !form_Q);  // hidden = silu(Y gW + b1)
          team.team_barrier();
          if (form_Q) {  // the same with silu' beside it (one exp for both), then Q += Y^T (Yw[0] silu'(pre))
            Kokkos::parallel_for(Kokkos::TeamThreadRange(team, nb), [&](int b) {
              const Real w0 = gYw(p0 + b, 0);
              Real* hb = hid + b * H;
              Real* qb = dq + b * H;
              detail::vector_for<ExecSpace>(team, H, [&](int k) {
                const Real x = hb[k];
                const Real sig = Real(1) / (Real(1) + fast_exp(-x));
                hb[k] = x * sig;
                qb[k] = w0 * (sig * (Real(1) + x * (Real(1) - sig)));
              });
            });
            team.team_barrier();
            detail::rows_times_matrix<ExecSpace>(team, nsh, H, nb, &gY(p0, 0), 1, nsh, dq, H, Qi, H, nullptr, true);
          }
          detail::rows_times_matrix<ExecSpace>(team, nsh_out, H, nb, &gYw(p0, 0), 1, nsh, hid, H, V, H, nullptr,
                                               true);  // V += Yw^T hidden
          team.team_barrier();
        }
        detail::rows_times_matrix<ExecSpace>(team, nsh_out, Cg, H, V, H, 1, &w2t(t, 0, 0), Cg, U, Cg);  // U = V W2^T
        team.team_barrier();
        // h += W_msg M + W_out U (the same rows go to the same lanes in both: no barrier between), then
        // a^{t+1} = W_up^{t+1} h.
        for (int l = 0; l <= L_out; ++l) {
          Real* hl = &h(i, l * l, 0);
          detail::rows_times_matrix<ExecSpace>(team, 2 * l + 1, C, C, &M(i, l * l, 0), C, 1, &msgT(t, l, 0, 0), C, hl, C,
                                               nullptr, true);
          detail::rows_times_matrix<ExecSpace>(team, 2 * l + 1, C, Cg, U + l * l * Cg, Cg, 1, &outT(t, l, 0, 0), C, hl, C,
                                               nullptr, true);
        }
        if (last) return;
        team.team_barrier();
        for (int l = 0; l <= L; ++l)
          detail::rows_times_matrix<ExecSpace>(team, 2 * l + 1, C, C, &h(i, l * l, 0), C, 1, &upT(t + 1, l, 0, 0), C,
                                               &a_next(i, l * l, 0), C);
      });
}

template <class Device, class Real>
double Engine<Device, Real>::readout(int n_local, View<const int*> species, AtomEnergy atom_energy, bool want_atom_energy) {
  // E_i = E0 + s w_r . silu(W_r h^00 + b_r); also seeds the adjoint dE/dh (scalars only).
  grow(dh_, "dh", n_local, nsh_, C_);
  auto h = h_;
  auto dh = dh_;
  auto w1 = ro_w1_;
  auto b1 = ro_b1_;
  auto w2 = ro_w2_;
  auto e0 = e0_;
  const int C = C_, Hr = Hr_, nsh = nsh_;
  const double scale = hp_.energy_scale;
  double energy = 0;
  // One team per atom (lanes over the channels); Hr hidden values' back-propagation factors in scratch.
  using Scratch = Kokkos::View<double*, typename ExecSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  Kokkos::parallel_reduce(
      "facet::readout",
      detail::team_policy<ExecSpace>(n_local).set_scratch_size(0, Kokkos::PerTeam(Scratch::shmem_size(Hr))),
      KOKKOS_LAMBDA(const Team& team, double& sum) {
        const int i = team.league_rank();
        Scratch back(team.team_scratch(0), Hr);
        for (int s = 1; s < nsh; ++s) detail::team_vector_for<ExecSpace>(team, C, [&](int c) { dh(i, s, c) = 0; });
        const int z = species(i);
        if (z < 0) {
          detail::team_vector_for<ExecSpace>(team, C, [&](int c) { dh(i, 0, c) = 0; });
          return;
        }
        const Real* hi = &h(i, 0, 0);
        double e = 0;
        for (int k = 0; k < Hr; ++k) {  // the sums are known to every thread and lane
          const double pre = b1(k) + detail::team_vector_sum<ExecSpace, double>(team, C, [&](int c) {
                               return w1(k, c) * double(hi[c]);
                             });
          e += w2(k) * detail::silu(pre);
          Kokkos::single(Kokkos::PerTeam(team), [&]() { back(k) = scale * w2(k) * detail::silu_derivative(pre); });
        }
        team.team_barrier();
        detail::team_vector_for<ExecSpace>(team, C, [&](int c) {
          double d = 0;
          for (int k = 0; k < Hr; ++k) d += back(k) * w1(k, c);
          dh(i, 0, c) = static_cast<Real>(d);
        });
        e = e0(z) + scale * e;
        Kokkos::single(Kokkos::PerTeam(team), [&]() {
          if (want_atom_energy) atom_energy(i) += e;
          sum += e;
        });
      },
      energy);
  return energy;
}

template <class Device, class Real>
void Engine<Device, Real>::node_backward(int t, int n_local) {
  // Given dh = dE/dh^{t+1}: dM = W_msg^T dh + W_mid^T dg, where dg comes from the grid MLP's adjoint with
  // dU = W_out^T dh, with the matrices moved through the projections as in node_update:
  // dV = dU W2, dpre = (Yw dV) silu'(pre), dg = (Y^T dpre) W1; pre = Y gW + b1 is recomputed block by block
  // rather than stored.
  grow(dM_, "dM", n_local, nsh_, C_);
  // In the last layer dh has scalars only (the readout's): so have dU and dV, and W_msg^T dh is zero for
  // l > 0; and Y^T dpre = dV[0] Q with the Q of the forward pass (last_Q_): no grid points, g or gW.
  const bool last = t + 1 == T_;
  const int L_in = last ? 0 : L_;
  const int nsh_in = sh_size(L_in);
  auto Q = last_Q_;
  auto M = M_[t];
  auto dh = dh_;
  auto dM = dM_;
  auto mid = mid_, msg = msg_, out = out_;
  auto midT = midT_;
  auto w1 = w1_, w2 = w2_, w1t = w1t_;
  auto b1 = b1_;
  auto gY = grid_Y_, gYw = grid_Yw_;
  const int L = L_;
  const int C = C_, Cg = Cg_, H = H_, P = P_, nsh = nsh_;
  constexpr int B = kPointBlock;
  // Per team scratch: g, dU, dg [nsh][Cg]; gW, dV, dgW [nsh][H]; a block's pre and dpre [B][H].
  const int scratch_size = 3 * nsh * Cg + 3 * nsh * H + 2 * B * H;
  using Scratch = Kokkos::View<Real*, typename ExecSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  const size_t bytes = Scratch::shmem_size(scratch_size);
  Kokkos::parallel_for(
      "facet::node_backward",
      detail::team_policy<ExecSpace>(n_local).set_scratch_size(0, Kokkos::PerTeam(bytes)),
      KOKKOS_LAMBDA(const Team& team) {
        const int i = team.league_rank();
        Scratch buf(team.team_scratch(0), scratch_size);
        Real* g = buf.data();
        Real* dU = g + nsh * Cg;
        Real* dg = dU + nsh * Cg;
        Real* gW = dg + nsh * Cg;
        Real* dV = gW + nsh * H;
        Real* dgW = dV + nsh * H;
        Real* pre = dgW + nsh * H;
        Real* dpre = pre + B * H;
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, nsh), [&](int s) {
          detail::vector_for<ExecSpace>(team, H, [&](int k) { dgW[s * H + k] = 0; });
        });
        for (int l = 0; l <= L; ++l) {  // g = W_mid M, dU = W_out^T dh, degree by degree
          if (!last)
            detail::rows_times_matrix<ExecSpace>(team, 2 * l + 1, Cg, C, &M(i, l * l, 0), C, 1, &midT(t, l, 0, 0), Cg,
                                                 g + l * l * Cg, Cg);
          if (l <= L_in)
            detail::rows_times_matrix<ExecSpace>(team, 2 * l + 1, Cg, C, &dh(i, l * l, 0), C, 1, &out(t, l, 0, 0), Cg,
                                                 dU + l * l * Cg, Cg);
        }
        team.team_barrier();
        if (!last) detail::rows_times_matrix<ExecSpace>(team, nsh, H, Cg, g, Cg, 1, &w1t(t, 0, 0), H, gW, H);  // g W1^T
        detail::rows_times_matrix<ExecSpace>(team, nsh_in, H, Cg, dU, Cg, 1, &w2(t, 0, 0), H, dV, H);  // dV = dU W2
        team.team_barrier();
        if (last)  // dgW = dV[0] Q
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, nsh), [&](int s) {
            const Real* Qs = &Q(i, s, 0);
            detail::vector_for<ExecSpace>(team, H, [&](int k) { dgW[s * H + k] = dV[k] * Qs[k]; });
          });
        team.team_barrier();
        for (int p0 = 0; p0 < (last ? 0 : P); p0 += B) {
          const int nb = P - p0 < B ? P - p0 : B;
          detail::rows_times_matrix<ExecSpace>(team, nb, H, nsh, &gY(p0, 0), nsh, 1, gW, H, pre, H, &b1(t, 0));
          detail::rows_times_matrix<ExecSpace>(team, nb, H, nsh_in, &gYw(p0, 0), nsh, 1, dV, H, dpre, H);  // Yw dV
          team.team_barrier();
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, nb), [&](int b) {
            const Real* pb = pre + b * H;
            Real* dpb = dpre + b * H;
            detail::vector_for<ExecSpace>(team, H, [&](int k) { dpb[k] *= detail::silu_derivative(pb[k]); });
          });
          team.team_barrier();
          detail::rows_times_matrix<ExecSpace>(team, nsh, H, nb, &gY(p0, 0), 1, nsh, dpre, H, dgW, H, nullptr,
                                               true);  // dgW += Y^T dpre
          team.team_barrier();
        }
        detail::rows_times_matrix<ExecSpace>(team, nsh, Cg, H, dgW, H, 1, &w1(t, 0, 0), Cg, dg, Cg);  // dg = dgW W1
        team.team_barrier();
        for (int l = 0; l <= L; ++l) {  // dM = W_msg^T dh + W_mid^T dg
          Real* dMl = &dM(i, l * l, 0);
          if (l <= L_in)
            detail::rows_times_matrix<ExecSpace>(team, 2 * l + 1, C, C, &dh(i, l * l, 0), C, 1, &msg(t, l, 0, 0), C, dMl,
                                                 C);
          detail::rows_times_matrix<ExecSpace>(team, 2 * l + 1, C, Cg, dg + l * l * Cg, Cg, 1, &mid(t, l, 0, 0), C, dMl,
                                               C, nullptr, l <= L_in);
        }
      });
}

template <class Device, class Real>
void Engine<Device, Real>::edge_backward(int t, int n_local, int n_all, bool want_atom_virial, Forces f,
                                   AtomVirial atom_virial, double virial[6]) {
  // For every edge i -> j of the messages into i: da_j (scattered; j may be a ghost), and the edge
  // gradient g = dE/dr_ij from the harmonics and the radial functions, which gives F_i += g, F_j -= g and
  // the virial -r_ij (x) g. Channels are the vector dimension, as in message(); dE/dY of an edge comes from
  // one channel sum per coupling group.
  grow(da_, "da", n_all, nsh_, C_);
  Kokkos::deep_copy(Kokkos::subview(da_, std::make_pair(0, n_all), Kokkos::ALL, Kokkos::ALL), Real(0));
  // da is scattered a channel row at a time: on host spaces with several threads into one private copy per
  // thread (a unique token), summed afterwards, so that the row updates are plain SIMD loops (a ScatterView
  // access per element defeats the vectoriser and cost a third of the time in float); on one thread straight
  // into da; on GPUs by atomics.
  const size_t row_count = static_cast<size_t>(n_all) * nsh_ * C_;
  auto tokens = tokens_;
  const bool private_copies = detail::runs_on_host<ExecSpace> && tokens.size() > 1;
  if (private_copies) {
    if (da_copies_.extent(0) < static_cast<size_t>(tokens.size()) || da_copies_.extent(1) < row_count)
      da_copies_ = View<Real**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "da_copies"), tokens.size(),
                                row_count + row_count / 16);
    Kokkos::deep_copy(Kokkos::subview(da_copies_, Kokkos::ALL, std::make_pair(size_t(0), row_count)), Real(0));
  }
  Real* const da_base = private_copies ? da_copies_.data() : da_.data();
  const size_t copy_stride = private_copies ? da_copies_.extent(1) : 0;
  using FScatter = Kokkos::Experimental::ScatterView<double* [3], Kokkos::LayoutRight, Device>;
  using VScatter = Kokkos::Experimental::ScatterView<double* [6], Kokkos::LayoutRight, Device>;
  Kokkos::View<double* [3], Kokkos::LayoutRight, Device> f_view(f.data(), f.extent(0));
  FScatter f_scatter(f_view);
  Kokkos::View<double* [6], Kokkos::LayoutRight, Device> v_view;
  if (want_atom_virial) v_view = Kokkos::View<double* [6], Kokkos::LayoutRight, Device>(atom_virial.data(), atom_virial.extent(0));
  VScatter v_scatter(v_view);

  auto dM = dM_;
  auto a = a_[t];
  auto offset = edge_offset_;
  auto ej = edge_j_;
  auto ev = edge_vec_;
  auto er = edge_r_;
  auto efirst = edge_first_;
  auto eB = edge_B_;
  auto edB = edge_dB_;
  auto eu = edge_u_;
  auto edu = edge_du_;
  auto eY = edge_Y_;
  auto edY = edge_dY_;
  auto radial = radial_;
  auto gs1 = group_s1_, gs3 = group_s3_, gk = group_k_, gfirst = group_first_;
  auto ps2 = pair_s2_;
  auto pvalue = pair_value_;
  const int n_groups = t == 0 ? n_groups_scalar_ : n_groups_;
  const int C = C_, nR = nR_, nshe = nshe_, nsh = nsh_;
  const Real inv_avg = inv_avg_;
  // Per team scratch [.][C]: R and dR/dr (nR rows each). The channel sums of an edge are in Real
  // (a few dozen terms); what they give is added up in double.
  using Scratch = Kokkos::View<Real*, typename ExecSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  const int scratch_size = 2 * nR * C;
  Kokkos::View<double[6], Device> vsum("virial");
  Kokkos::parallel_for(
      "facet::edge_backward",
      detail::team_policy<ExecSpace>(n_local)
          .set_scratch_size(0, Kokkos::PerTeam(Scratch::shmem_size(scratch_size))),
      KOKKOS_LAMBDA(const Team& team) {
        const int i = team.league_rank();
        const int token = private_copies ? tokens.acquire() : 0;
        Real* const da_copy = da_base + token * copy_stride;
        auto f_access = f_scatter.access();
        auto v_access = v_scatter.access();
        Scratch buf(team.team_scratch(0), scratch_size);
        Real* R = buf.data();
        Real* dR = R + nR * C;
        // Atom i's force and virial are summed over its edges here and added once (on GPUs, one atomic per
        // atom instead of one per edge on six shared addresses); only the Kokkos::single thread's copy counts.
        double fi[3] = {0, 0, 0}, wi[6] = {0, 0, 0, 0, 0, 0};
        for (int e = offset(i); e < offset(i + 1); ++e) {
          const int j = ej(e);
          const int first = efirst(e);
          const Real u = eu(e) * inv_avg, du = edu(e) * inv_avg;
          const Real B[4] = {eB(e, 0), eB(e, 1), eB(e, 2), eB(e, 3)};
          const Real dB[4] = {edB(e, 0), edB(e, 1), edB(e, 2), edB(e, 3)};
          for (int k = 0; k < nR; ++k) {
            const Real* w0 = &radial(t, k, first, 0);
            Real* Rk = R + k * C;
            Real* dRk = dR + k * C;
            detail::team_vector_for<ExecSpace>(team, C, [&](int c) {
              const Real v = w0[c] * B[0] + w0[C + c] * B[1] + w0[2 * C + c] * B[2] + w0[3 * C + c] * B[3];
              const Real dv = w0[c] * dB[0] + w0[C + c] * dB[1] + w0[2 * C + c] * dB[2] + w0[3 * C + c] * dB[3];
              Rk[c] = u * v;
              dRk[c] = du * v + u * dv;  // d/dr
            });
          }
          // Per group: da_j, and the channel sums of dM a_j against R (dE/dY) and dR/dr (dE/dr).
          double dEdY[kMaxEdgeHarmonics];
          double dEdr = 0;
#ifdef FACET_HOST_VECTOR_TYPES
          if constexpr (detail::runs_on_host<ExecSpace>) {
            using Lanes = detail::HostLaneSums<Real>;
            typename Lanes::vec dEdY_lanes[kMaxEdgeHarmonics], dEdr_lanes{};
            for (int s = 0; s < nshe; ++s) dEdY_lanes[s] = typename Lanes::vec{};
            typename detail::HostSimd<Real>::vec S, D;
            for (int q = 0; q < n_groups; ++q) {
              Real coef = 0;
              for (int n = gfirst(q); n < gfirst(q + 1); ++n) coef += pvalue(n) * eY(e, ps2(n));
              detail::host_edge_group(C, coef, &dM(i, gs3(q), 0), &a(j, gs1(q), 0), R + gk(q) * C, dR + gk(q) * C,
                                      da_copy + (static_cast<size_t>(j) * nsh + gs1(q)) * C, S, D);
              for (int n = gfirst(q); n < gfirst(q + 1); ++n) Lanes::add(dEdY_lanes[ps2(n)], double(pvalue(n)), S);
              Lanes::add(dEdr_lanes, double(coef), D);
            }
            for (int s = 0; s < nshe; ++s) dEdY[s] = Lanes::total(dEdY_lanes[s]);
            dEdr = Lanes::total(dEdr_lanes);
          } else
#endif
          {
            for (int s = 0; s < nshe; ++s) dEdY[s] = 0;
            for (int q = 0; q < n_groups; ++q) {
              Real coef = 0;
              for (int n = gfirst(q); n < gfirst(q + 1); ++n) coef += pvalue(n) * eY(e, ps2(n));
              const Real* dMs = &dM(i, gs3(q), 0);
              const Real* aj = &a(j, gs1(q), 0);
              const Real* Rk = R + gk(q) * C;
              const Real* dRk = dR + gk(q) * C;
              Real* const da_row = da_copy + (static_cast<size_t>(j) * nsh + gs1(q)) * C;
              const auto sums = detail::team_vector_sums<ExecSpace, Real>(team, C, [&](int c, Real& S, Real& D) {
                const Real w = dMs[c];
                detail::scatter_add<ExecSpace>(da_row[c], w * coef * Rk[c]);
                const Real x = w * aj[c];
                S += x * Rk[c];
                D += x * dRk[c];
              });
              for (int n = gfirst(q); n < gfirst(q + 1); ++n) dEdY[ps2(n)] += pvalue(n) * double(sums.first);
              dEdr += double(coef) * double(sums.second);
            }
          }
          team.team_barrier();
          Kokkos::single(Kokkos::PerTeam(team), [&]() {
            double g[3];
            const double r = er(e);
            const double rv[3] = {ev(e, 0), ev(e, 1), ev(e, 2)};
            for (int k = 0; k < 3; ++k) {
              g[k] = dEdr * rv[k] / r;
              for (int s = 0; s < nshe; ++s) g[k] += dEdY[s] * edY(e, s, k);
            }
            for (int k = 0; k < 3; ++k) {
              fi[k] += g[k];
              f_access(j, k) -= g[k];
            }
            const double w[6] = {-rv[0] * g[0], -rv[1] * g[1], -rv[2] * g[2],
                                 -rv[0] * g[1], -rv[0] * g[2], -rv[1] * g[2]};
            for (int k = 0; k < 6; ++k) wi[k] += w[k];
            if (want_atom_virial)
              for (int k = 0; k < 6; ++k) v_access(j, k) += 0.5 * w[k];
          });
          team.team_barrier();  // scratch is reused by the next edge
        }
        Kokkos::single(Kokkos::PerTeam(team), [&]() {
          for (int k = 0; k < 3; ++k) f_access(i, k) += fi[k];
          for (int k = 0; k < 6; ++k) Kokkos::atomic_add(&vsum(k), wi[k]);
          if (want_atom_virial)
            for (int k = 0; k < 6; ++k) v_access(i, k) += 0.5 * wi[k];
        });
        if (private_copies) tokens.release(token);
      });
  if (private_copies) {
    auto da = da_;
    auto copies = da_copies_;
    const int n_copies = tokens.size();
    Kokkos::parallel_for(
        "facet::sum_da_copies", Kokkos::RangePolicy<ExecSpace>(0, row_count), KOKKOS_LAMBDA(size_t k) {
          Real sum = 0;
          for (int copy = 0; copy < n_copies; ++copy) sum += copies(copy, k);
          da.data()[k] = sum;
        });
  }
  Kokkos::Experimental::contribute(f_view, f_scatter);
  if (want_atom_virial) Kokkos::Experimental::contribute(v_view, v_scatter);
  auto host_vsum = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), vsum);
  for (int k = 0; k < 6; ++k) virial[k] += host_vsum(k);
}

template <class Device, class Real>
void Engine<Device, Real>::up_backward(int t, int n_local) {
  // dh^t += W_up^T da for local atoms (after the exchange has added the ghosts' da to their owners).
  auto dh = dh_;
  auto da = da_;
  auto up = up_;
  const int L = L_;
  const int C = C_;
  Kokkos::parallel_for(
      "facet::up_backward", detail::team_policy<ExecSpace>(n_local), KOKKOS_LAMBDA(const Team& team) {
        const int i = team.league_rank();
        for (int l = 0; l <= L; ++l)
          detail::rows_times_matrix<ExecSpace>(team, 2 * l + 1, C, C, &da(i, l * l, 0), C, 1, &up(t, l, 0, 0), C,
                                               &dh(i, l * l, 0), C, nullptr, true);
      });
}

template <class Device, class Real>
double Engine<Device, Real>::repulsion(int n_local, View<const int*> species, bool want_atom_energy,
                                       AtomEnergy atom_energy, bool want_gradient, bool want_atom_virial, Forces f,
                                       AtomVirial atom_virial, double virial[6]) {
  // Half of each pair's energy goes to each atom: the edge i -> j gives E(r_ij) / 2 to i (j -> i, on j's rank
  // or as i's own edge, gives the other half), and its gradient g = dE/dr_ij / 2 as in edge_backward.
  if (hp_.repulsion == Repulsion::none || n_local == 0) return 0.0;
  using FScatter = Kokkos::Experimental::ScatterView<double* [3], Kokkos::LayoutRight, Device>;
  using VScatter = Kokkos::Experimental::ScatterView<double* [6], Kokkos::LayoutRight, Device>;
  Kokkos::View<double* [3], Kokkos::LayoutRight, Device> f_view;
  if (want_gradient) f_view = Kokkos::View<double* [3], Kokkos::LayoutRight, Device>(f.data(), f.extent(0));
  FScatter f_scatter(f_view);
  Kokkos::View<double* [6], Kokkos::LayoutRight, Device> v_view;
  if (want_atom_virial) v_view = Kokkos::View<double* [6], Kokkos::LayoutRight, Device>(atom_virial.data(), atom_virial.extent(0));
  VScatter v_scatter(v_view);
  Kokkos::View<double[6], Device> vsum("repulsion_virial");
  auto offset = edge_offset_;
  auto ej = edge_j_;
  auto ev = edge_vec_;
  auto er = edge_r_;
  auto pairs = repulsion_pairs_;
  double energy = 0;
  Kokkos::parallel_reduce(
      "facet::repulsion", Kokkos::RangePolicy<ExecSpace>(0, n_local),
      KOKKOS_LAMBDA(int i, double& sum) {
        const int zi = species(i);
        if (zi < 0) return;
        auto f_access = f_scatter.access();
        auto v_access = v_scatter.access();
        double e_i = 0, w_i[6] = {0, 0, 0, 0, 0, 0};  // i's virial, added once (as in edge_backward)
        for (int e = offset(i); e < offset(i + 1); ++e) {
          const int j = ej(e), zj = species(j);
          const ZblPair<double> pair{pairs(zi, zj, 0), pairs(zi, zj, 1), pairs(zi, zj, 2)};
          const double r = er(e);
          double pair_energy, derivative;
          pair.evaluate(r, pair_energy, derivative);
          e_i += 0.5 * pair_energy;
          if (!want_gradient || derivative == 0.0) continue;
          const double rv[3] = {ev(e, 0), ev(e, 1), ev(e, 2)};
          double g[3];
          for (int k = 0; k < 3; ++k) {
            g[k] = 0.5 * derivative * rv[k] / r;
            f_access(i, k) += g[k];
            f_access(j, k) -= g[k];
          }
          const double w[6] = {-rv[0] * g[0], -rv[1] * g[1], -rv[2] * g[2], -rv[0] * g[1], -rv[0] * g[2], -rv[1] * g[2]};
          for (int k = 0; k < 6; ++k) w_i[k] += w[k];
          if (want_atom_virial)
            for (int k = 0; k < 6; ++k) v_access(j, k) += 0.5 * w[k];
        }
        if (want_gradient)
          for (int k = 0; k < 6; ++k) {
            if (w_i[k] != 0.0) Kokkos::atomic_add(&vsum(k), w_i[k]);
            if (want_atom_virial) v_access(i, k) += 0.5 * w_i[k];
          }
        if (want_atom_energy) atom_energy(i) += e_i;
        sum += e_i;
      },
      energy);
  if (want_gradient) Kokkos::Experimental::contribute(f_view, f_scatter);
  if (want_atom_virial) Kokkos::Experimental::contribute(v_view, v_scatter);
  auto host_vsum = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), vsum);
  for (int k = 0; k < 6; ++k) virial[k] += host_vsum(k);
  return energy;
}

template <class Device, class Real>
void Engine<Device, Real>::exchange_forward(GhostExchange<Device>& exchange, Features data, int n_local, int n_all) {
  if constexpr (std::is_same<Real, double>::value) {
    (void)n_local, (void)n_all;
    exchange.forward(data);
  } else {  // owners' rows out in double, ghosts' rows back
    grow(exchange_buffer_, "exchange_buffer", n_all, nsh_, C_);
    const int per_atom = nsh_ * C_;
    detail::copy_rows<ExecSpace>("facet::features_to_double", exchange_buffer_, data, 0, n_local, per_atom);
    exchange.forward(exchange_buffer_);
    detail::copy_rows<ExecSpace>("facet::features_from_double", data, exchange_buffer_, n_local, n_all, per_atom);
  }
}

template <class Device, class Real>
void Engine<Device, Real>::exchange_reverse(GhostExchange<Device>& exchange, Features data, int n_local, int n_all) {
  if constexpr (std::is_same<Real, double>::value) {
    (void)n_local, (void)n_all;
    exchange.reverse(data);
  } else {  // all rows out in double (ghosts' adjoints are added to their owners), owners' rows back
    grow(exchange_buffer_, "exchange_buffer", n_all, nsh_, C_);
    const int per_atom = nsh_ * C_;
    detail::copy_rows<ExecSpace>("facet::adjoints_to_double", exchange_buffer_, data, 0, n_all, per_atom);
    exchange.reverse(exchange_buffer_);
    detail::copy_rows<ExecSpace>("facet::adjoints_from_double", data, exchange_buffer_, 0, n_local, per_atom);
  }
}

template <class Device, class Real>
template <class Neighbors>
typename Engine<Device, Real>::Result Engine<Device, Real>::compute(int n_local, int n_all, Positions x, View<const int*> species,
                                                        const Neighbors& neighbors, GhostExchange<Device>* exchange,
                                                        const EngineRequest& request, Forces f, AtomEnergy atom_energy,
                                                        AtomVirial atom_virial) {
  Result result;
  const bool want_gradient = request.forces || request.virial || request.atom_virial;
  build_edges(n_local, x, species, neighbors);
  edge_geometry();
  embed(n_local, n_all, species);
  for (int t = 0; t < T_; ++t) {
    // a^t of local atoms comes from the previous node update; the exchange fills the ghosts.
    if (t > 0 && exchange) exchange_forward(*exchange, a_[t], n_local, n_all);
    message(t, n_local);
    node_update(t, n_local, n_all, want_gradient);
  }
  result.energy = readout(n_local, species, atom_energy, request.atom_energy) +
                  repulsion(n_local, species, request.atom_energy, atom_energy, want_gradient, request.atom_virial, f,
                            atom_virial, result.virial);
  if (!want_gradient) return result;
  for (int t = T_ - 1; t >= 0; --t) {
    node_backward(t, n_local);
    edge_backward(t, n_local, n_all, request.atom_virial, f, atom_virial, result.virial);
    if (t > 0) {
      if (exchange) exchange_reverse(*exchange, da_, n_local, n_all);
      up_backward(t, n_local);
    }
  }
  return result;
}

// The precision a pair style asks for (pair_style facet ... precision double|mixed), and an engine of either.
enum class Precision { double_precision, mixed };

inline Precision parse_precision(const std::string& name) {
  if (name == "double") return Precision::double_precision;
  if (name == "mixed") return Precision::mixed;
  throw std::invalid_argument("unknown precision '" + name + "' (expected double or mixed)");
}

inline const char* precision_name(Precision p) { return p == Precision::mixed ? "mixed" : "double"; }

template <class Device>
using AnyEngine = std::variant<std::unique_ptr<Engine<Device, double>>, std::unique_ptr<Engine<Device, float>>>;

template <class Device>
AnyEngine<Device> make_engine(const Potential& potential, Precision precision) {
  if (precision == Precision::mixed) return std::make_unique<Engine<Device, float>>(potential);
  return std::make_unique<Engine<Device, double>>(potential);
}

}  // namespace facet
