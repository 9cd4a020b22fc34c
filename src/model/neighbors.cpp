#include "model/neighbors.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>

namespace facet {

namespace {

using Vec = std::array<double, 3>;

Vec cross(const Vec& a, const Vec& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const Vec& a, const Vec& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

long floor_div(long a, long b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

}  // namespace

// Binning in the fractional coordinates of the cell (Cartesian axes for a molecule, whose cell may be zero).
// Along direction k the lattice planes are d_k = V / |b × c| apart (and cyclically), and |r_ij| >= d_k |Δs_k|,
// so a bin d_k / nb_k wide holds every neighbour within `reach` bins; a cell thinner than r_cut gets one bin
// and a reach of several periods, which yields the many images of small cells. Candidates are then checked
// on the original (unwrapped) positions, so the result does not depend on the binning's round-off.
NeighborList build_neighbor_list(const Structure& s, double r_cut) {
  auto fail = [](const std::string& m) { throw std::invalid_argument("build_neighbor_list: " + m); };
  if (!(r_cut > 0 && std::isfinite(r_cut))) fail("r_cut must be a positive number");
  const size_t n = s.positions.size();
  if (n > static_cast<size_t>(INT_MAX)) fail("too many atoms");
  for (const auto& x : s.positions)
    if (!std::isfinite(x[0]) || !std::isfinite(x[1]) || !std::isfinite(x[2])) fail("non-finite position");

  const bool periodic = s.pbc[0] || s.pbc[1] || s.pbc[2];
  const std::array<Vec, 3> basis = periodic ? s.cell : std::array<Vec, 3>{Vec{1, 0, 0}, Vec{0, 1, 0}, Vec{0, 0, 1}};
  std::array<Vec, 3> normal;  // rows of det * basis^-1, transposed: s_k = x · normal_k / det
  for (int k = 0; k < 3; ++k) normal[k] = cross(basis[(k + 1) % 3], basis[(k + 2) % 3]);
  const double det = dot(basis[0], normal[0]);
  double scale = 1;
  for (const auto& v : basis) scale *= std::sqrt(dot(v, v));
  if (!(std::abs(det) > 1e-12 * scale)) fail("singular cell in a periodic frame");

  // Fractional coordinates, wrapped into [0, 1) along periodic directions: s = u + wrap.
  std::vector<Vec> u(n);
  std::vector<std::array<long, 3>> wrap(n, {0, 0, 0});
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) {
      u[i][k] = dot(s.positions[i], normal[k]) / det;
      if (!(std::abs(u[i][k]) < 1e9)) fail("position " + std::to_string(i) + " lies more than 1e9 cells away");
      if (s.pbc[k]) {
        wrap[i][k] = static_cast<long>(std::floor(u[i][k]));
        u[i][k] -= static_cast<double>(wrap[i][k]);
      }
    }

  // Bins per direction, at least r_cut wide where the extent allows, and no more in all than about 2 per atom.
  std::array<double, 3> lo{0, 0, 0}, span{1, 1, 1}, plane;  // plane: d_k
  std::array<long, 3> bins, reach;
  const double max_bins = 2.0 * static_cast<double>(n) + 8;
  for (int k = 0; k < 3; ++k) {
    if (!s.pbc[k] && n > 0) {
      const auto [mn, mx] = std::minmax_element(u.begin(), u.end(), [k](const Vec& a, const Vec& b) { return a[k] < b[k]; });
      lo[k] = (*mn)[k];
      span[k] = (*mx)[k] - lo[k];
    }
    plane[k] = std::abs(det) / std::sqrt(dot(normal[k], normal[k]));
    bins[k] = static_cast<long>(std::clamp(std::floor(span[k] * plane[k] / r_cut), 1.0, max_bins));
  }
  while (static_cast<double>(bins[0]) * static_cast<double>(bins[1]) * static_cast<double>(bins[2]) > max_bins) {
    long& most = *std::max_element(bins.begin(), bins.end());
    most = (most + 1) / 2;
  }
  for (int k = 0; k < 3; ++k) {
    const double width = span[k] * plane[k] / static_cast<double>(bins[k]);
    // |bin offset| <= ceil(r_cut / width); the 1e-9 covers the round-off of the fractional coordinates.
    reach[k] = width > 0 ? static_cast<long>(std::min(std::floor(r_cut / width * (1 + 1e-9)) + 1, 1e6)) : 0;
    if (!s.pbc[k]) reach[k] = std::min(reach[k], bins[k] - 1);
  }

  auto bin_of = [&](size_t i, int k) {
    if (bins[k] == 1) return 0L;
    const long b = static_cast<long>(std::floor((u[i][k] - lo[k]) / span[k] * static_cast<double>(bins[k])));
    return std::clamp(b, 0L, bins[k] - 1);
  };
  const size_t nbins = static_cast<size_t>(bins[0] * bins[1] * bins[2]);
  auto flat = [&](long b0, long b1, long b2) { return static_cast<size_t>((b0 * bins[1] + b1) * bins[2] + b2); };
  std::vector<std::array<long, 3>> home(n);
  std::vector<size_t> start(nbins + 1, 0), members(n);  // atoms of bin b: members[start[b] .. start[b+1])
  for (size_t i = 0; i < n; ++i) {
    home[i] = {bin_of(i, 0), bin_of(i, 1), bin_of(i, 2)};
    ++start[flat(home[i][0], home[i][1], home[i][2]) + 1];
  }
  for (size_t b = 0; b < nbins; ++b) start[b + 1] += start[b];
  {
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (size_t i = 0; i < n; ++i) members[fill[flat(home[i][0], home[i][1], home[i][2])]++] = i;
  }

  NeighborList list;
  std::vector<std::tuple<int, std::array<int, 3>>> found;  // (j, n) of the current i
  for (size_t i = 0; i < n; ++i) {
    found.clear();
    std::array<long, 3> t0, t1;  // bin range, unrolled over periods along periodic directions
    for (int k = 0; k < 3; ++k) {
      t0[k] = home[i][k] - reach[k];
      t1[k] = home[i][k] + reach[k];
      if (!s.pbc[k]) t0[k] = std::max(t0[k], 0L), t1[k] = std::min(t1[k], bins[k] - 1);
    }
    std::array<long, 3> t, b, image;
    for (t[0] = t0[0]; t[0] <= t1[0]; ++t[0])
      for (t[1] = t0[1]; t[1] <= t1[1]; ++t[1])
        for (t[2] = t0[2]; t[2] <= t1[2]; ++t[2]) {
          for (int k = 0; k < 3; ++k) {
            image[k] = floor_div(t[k], bins[k]);
            b[k] = t[k] - image[k] * bins[k];
          }
          const size_t bin = flat(b[0], b[1], b[2]);
          for (size_t m = start[bin]; m < start[bin + 1]; ++m) {
            const size_t j = members[m];
            std::array<int, 3> shift;
            for (int k = 0; k < 3; ++k) shift[k] = static_cast<int>(image[k] + wrap[i][k] - wrap[j][k]);
            if (j == i && shift == std::array<int, 3>{0, 0, 0}) continue;
            Vec r;
            for (int c = 0; c < 3; ++c)
              r[c] = s.positions[j][c] + shift[0] * s.cell[0][c] + shift[1] * s.cell[1][c] + shift[2] * s.cell[2][c] -
                     s.positions[i][c];
            if (std::sqrt(dot(r, r)) < r_cut) found.emplace_back(static_cast<int>(j), shift);
          }
        }
    std::sort(found.begin(), found.end());
    for (const auto& [j, shift] : found) {
      list.first.push_back(static_cast<int>(i));
      list.second.push_back(j);
      list.shift.push_back(shift);
    }
  }
  return list;
}

GhostedStructure with_periodic_ghosts(const Structure& s, double r_cut) {
  const NeighborList nl = build_neighbor_list(s, r_cut);
  GhostedStructure g;
  g.n_local = static_cast<int>(s.size());
  for (const auto& p : s.positions) g.x.insert(g.x.end(), p.begin(), p.end());
  for (int i = 0; i < g.n_local; ++i) g.owner.push_back(i);
  std::map<std::array<int, 4>, int> ghost_of;  // (atom, image) -> ghost index
  std::vector<std::vector<int>> neighbors(g.n_local);
  for (size_t e = 0; e < nl.size(); ++e) {
    const auto& n = nl.shift[e];
    int j = nl.second[e];
    if (n[0] != 0 || n[1] != 0 || n[2] != 0) {
      const std::array<int, 4> key{j, n[0], n[1], n[2]};
      auto it = ghost_of.find(key);
      if (it == ghost_of.end()) {
        for (int k = 0; k < 3; ++k)
          g.x.push_back(s.positions[j][k] + n[0] * s.cell[0][k] + n[1] * s.cell[1][k] + n[2] * s.cell[2][k]);
        g.owner.push_back(j);
        it = ghost_of.emplace(key, static_cast<int>(g.owner.size()) - 1).first;
      }
      j = it->second;
    }
    neighbors[nl.first[e]].push_back(j);
  }
  g.n_all = static_cast<int>(g.owner.size());
  for (const auto& v : neighbors) g.width = std::max(g.width, static_cast<int>(v.size()));
  g.list.assign(static_cast<size_t>(g.n_local) * g.width, -1);
  for (int i = 0; i < g.n_local; ++i) {
    g.counts.push_back(static_cast<int>(neighbors[i].size()));
    std::copy(neighbors[i].begin(), neighbors[i].end(), g.list.begin() + static_cast<size_t>(i) * g.width);
  }
  return g;
}

size_t GhostedStructure::edges() const {
  size_t n = 0;
  for (int c : counts) n += static_cast<size_t>(c);
  return n;
}

Structure rattled_diamond_silicon(int cells, double rattle, unsigned seed) {
  const double a = 5.431;
  const double basis[8][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0},
                              {.25, .25, .25}, {.25, .75, .75}, {.75, .25, .75}, {.75, .75, .25}};
  std::mt19937 rng(seed);
  std::normal_distribution<double> gaussian(0.0, rattle > 0 ? rattle : 1.0);  // a zero deviation is not allowed
  auto noise = [&] { return rattle > 0 ? gaussian(rng) : 0.0; };
  Structure s;
  s.cell = {{{cells * a, 0, 0}, {0, cells * a, 0}, {0, 0, cells * a}}};
  s.pbc = {true, true, true};
  for (int i = 0; i < cells; ++i)
    for (int j = 0; j < cells; ++j)
      for (int k = 0; k < cells; ++k)
        for (const auto& b : basis) {
          s.positions.push_back({(i + b[0]) * a + noise(), (j + b[1]) * a + noise(), (k + b[2]) * a + noise()});
          s.species.push_back("Si");
        }
  return s;
}

}  // namespace facet
