// Neighbour list: known coordination shells, equivalence of cells describing the same crystal, brute force.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <stdexcept>
#include <tuple>

#include "model/neighbors.hpp"

using namespace facet;

namespace {

using Vec = std::array<double, 3>;
using Edge = std::tuple<int, int, std::array<int, 3>>;

constexpr double kSi = 5.431;

Vec edge_vector(const Structure& s, int i, int j, const std::array<int, 3>& n) {
  Vec r;
  for (int c = 0; c < 3; ++c)
    r[c] = s.positions[j][c] + n[0] * s.cell[0][c] + n[1] * s.cell[1][c] + n[2] * s.cell[2][c] - s.positions[i][c];
  return r;
}
double norm(const Vec& r) { return std::sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]); }

std::vector<Edge> edges(const NeighborList& nl) {
  EXPECT_EQ(nl.second.size(), nl.size());
  EXPECT_EQ(nl.shift.size(), nl.size());
  std::vector<Edge> out;
  for (size_t e = 0; e < nl.size(); ++e) out.emplace_back(nl.first[e], nl.second[e], nl.shift[e]);
  return out;
}

Vec cross(const Vec& a, const Vec& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

// Every image within `extra` periods more than the cutoff spans along each periodic direction, one by one.
std::vector<Edge> brute_force(const Structure& s, double r_cut, int extra) {
  std::vector<Edge> out;
  int lo[3];
  for (int k = 0; k < 3; ++k) {
    const Vec normal = cross(s.cell[(k + 1) % 3], s.cell[(k + 2) % 3]);
    const double plane = s.volume() / norm(normal);
    lo[k] = s.pbc[k] ? -static_cast<int>(std::ceil(r_cut / plane)) - extra : 0;
  }
  for (int i = 0; i < static_cast<int>(s.size()); ++i)
    for (int j = 0; j < static_cast<int>(s.size()); ++j)
      for (int a = lo[0]; a <= -lo[0]; ++a)
        for (int b = lo[1]; b <= -lo[1]; ++b)
          for (int c = lo[2]; c <= -lo[2]; ++c) {
            const std::array<int, 3> n{a, b, c};
            if ((i != j || n != std::array<int, 3>{0, 0, 0}) && norm(edge_vector(s, i, j, n)) < r_cut)
              out.emplace_back(i, j, n);
          }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int> neighbour_counts(const Structure& s, const NeighborList& nl) {
  std::vector<int> count(s.size(), 0);
  for (int i : nl.first) ++count[i];
  return count;
}

// Sorted neighbour distances of atom i.
std::vector<double> distances(const Structure& s, const NeighborList& nl, int i) {
  std::vector<double> d;
  for (size_t e = 0; e < nl.size(); ++e)
    if (nl.first[e] == i) d.push_back(norm(edge_vector(s, i, nl.second[e], nl.shift[e])));
  std::sort(d.begin(), d.end());
  return d;
}

Structure periodic(std::array<Vec, 3> cell) {
  Structure s;
  s.cell = cell;
  s.pbc = {true, true, true};
  return s;
}

void add_atom(Structure& s, const Vec& x) {
  s.species.push_back("Si");
  s.positions.push_back(x);
}

// Diamond Si: fcc primitive cell with two atoms.
Structure si_primitive() {
  const double h = kSi / 2;
  Structure s = periodic({{{0, h, h}, {h, 0, h}, {h, h, 0}}});
  add_atom(s, {0, 0, 0});
  add_atom(s, {kSi / 4, kSi / 4, kSi / 4});
  return s;
}

// The conventional cubic cell, repeated `rep` times along each axis.
Structure si_cubic(int rep) {
  const double L = kSi * rep;
  Structure s = periodic({{{L, 0, 0}, {0, L, 0}, {0, 0, L}}});
  const double basis[8][3] = {{0, 0, 0}, {0, 2, 2}, {2, 0, 2}, {2, 2, 0}, {1, 1, 1}, {1, 3, 3}, {3, 1, 3}, {3, 3, 1}};
  for (int a = 0; a < rep; ++a)
    for (int b = 0; b < rep; ++b)
      for (int c = 0; c < rep; ++c)
        for (const auto& p : basis)
          add_atom(s, {(a + p[0] / 4) * kSi, (b + p[1] / 4) * kSi, (c + p[2] / 4) * kSi});
  return s;
}

void expect_symmetric(const Structure& s, const NeighborList& nl) {
  const auto all = edges(nl);
  const std::set<Edge> set(all.begin(), all.end());
  EXPECT_EQ(set.size(), all.size()) << "duplicate edges";
  for (const auto& [i, j, n] : all) {
    EXPECT_EQ(set.count({j, i, {-n[0], -n[1], -n[2]}}), 1u) << i << " -> " << j;
    const Vec rij = edge_vector(s, i, j, n), rji = edge_vector(s, j, i, {-n[0], -n[1], -n[2]});
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(rij[c], -rji[c], 1e-12);
  }
}

}  // namespace

TEST(Neighbors, DiamondSiliconShellsInEveryCell) {
  const double first = kSi * std::sqrt(3.0) / 4, second = kSi / std::sqrt(2.0);
  for (const auto& [name, s] : {std::pair{"primitive", si_primitive()}, std::pair{"cubic", si_cubic(1)},
                                std::pair{"3x3x3 cubic", si_cubic(3)}}) {
    SCOPED_TRACE(name);
    for (const auto& [r_cut, expected] : {std::pair{2.5, 4}, std::pair{4.0, 16}}) {
      const auto nl = build_neighbor_list(s, r_cut);
      EXPECT_EQ(nl.size(), s.size() * expected);
      for (int c : neighbour_counts(s, nl)) EXPECT_EQ(c, expected);
      for (int i = 0; i < static_cast<int>(s.size()); ++i) {
        const auto d = distances(s, nl, i);
        ASSERT_EQ(d.size(), static_cast<size_t>(expected));
        EXPECT_NEAR(d[0], first, 1e-12);
        EXPECT_NEAR(d[3], first, 1e-12);
        if (expected == 16) {
          EXPECT_NEAR(d[4], second, 1e-12);
          EXPECT_NEAR(d[15], second, 1e-12);
        }
      }
      expect_symmetric(s, nl);
    }
  }
}

TEST(Neighbors, OneAtomCellSeesManyImagesOfItself) {
  Structure s = periodic({{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}});
  add_atom(s, {0.3, -0.2, 0.7});
  // Lattice points with 0 < |n|^2 <= 6: 6 + 12 + 8 + 6 + 24 + 24.
  const auto nl = build_neighbor_list(s, 2.5);
  EXPECT_EQ(nl.size(), 80u);
  EXPECT_EQ(edges(nl), brute_force(s, 2.5, 1));
  expect_symmetric(s, nl);
}

TEST(Neighbors, ShearedCellMatchesTheEquivalentOrthogonalSupercell) {
  // b' = 2 b - a = (0, 2L, 0): the lattice of the sheared cell has an orthogonal cell of twice the volume.
  const double L = 4.0;
  Structure sheared = periodic({{{L, 0, 0}, {L / 2, L, 0}, {0, 0, L}}});
  Structure ortho = periodic({{{L, 0, 0}, {0, 2 * L, 0}, {0, 0, L}}});
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < 6; ++i) {
    const double f[3] = {unit(rng), unit(rng), unit(rng)};
    Vec x{};
    for (int k = 0; k < 3; ++k)
      for (int c = 0; c < 3; ++c) x[c] += f[k] * sheared.cell[k][c];
    add_atom(sheared, x);
  }
  ortho.species = sheared.species;
  ortho.positions = sheared.positions;
  for (const auto& x : sheared.positions) add_atom(ortho, {x[0] + L / 2, x[1] + L, x[2]});
  for (double r_cut : {2.0, 3.9, 7.5}) {
    SCOPED_TRACE(r_cut);
    const auto a = build_neighbor_list(sheared, r_cut), b = build_neighbor_list(ortho, r_cut);
    for (int i = 0; i < static_cast<int>(sheared.size()); ++i) {
      const auto da = distances(sheared, a, i), db = distances(ortho, b, i);
      ASSERT_EQ(da.size(), db.size()) << "atom " << i;
      for (size_t k = 0; k < da.size(); ++k) EXPECT_NEAR(da[k], db[k], 1e-10);
    }
  }
}

TEST(Neighbors, SkewedCellOfTheSameLatticeGivesTheSameDistances) {
  // cell' = M cell with an integer M of determinant 1: the same crystal, described by a very skewed cell,
  // with the atoms left where they were (outside the new cell).
  Structure cubic = si_cubic(1);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> rattle(0, 0.1);
  for (auto& x : cubic.positions)
    for (double& c : x) c += rattle(rng);
  Structure skewed = cubic;
  const int M[3][3] = {{1, 0, 0}, {2, 1, 0}, {-3, 2, 1}};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      skewed.cell[r][c] = 0;
      for (int k = 0; k < 3; ++k) skewed.cell[r][c] += M[r][k] * cubic.cell[k][c];
    }
  for (double r_cut : {2.6, 4.0, 6.3}) {
    SCOPED_TRACE(r_cut);
    const auto a = build_neighbor_list(cubic, r_cut), b = build_neighbor_list(skewed, r_cut);
    EXPECT_EQ(a.size(), b.size());
    for (int i = 0; i < static_cast<int>(cubic.size()); ++i) {
      const auto da = distances(cubic, a, i), db = distances(skewed, b, i);
      ASSERT_EQ(da.size(), db.size()) << "atom " << i;
      for (size_t k = 0; k < da.size(); ++k) EXPECT_NEAR(da[k], db[k], 1e-10);
    }
    expect_symmetric(skewed, b);
  }
}

TEST(Neighbors, NonPeriodicClusterMatchesBruteForce) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> box(-6, 6);
  Structure s;
  for (int i = 0; i < 150; ++i) add_atom(s, {box(rng), box(rng), 0.3 * box(rng)});
  s.cell = {{{1, 0, 0}, {2, 0, 0}, {0, 0, 0}}};  // a molecule's cell is ignored, even a singular one
  for (double r_cut : {0.5, 2.0, 30.0}) {
    const auto nl = build_neighbor_list(s, r_cut);
    EXPECT_EQ(edges(nl), brute_force(s, r_cut, 0)) << r_cut;
    for (const auto& n : nl.shift) EXPECT_EQ(n, (std::array<int, 3>{0, 0, 0}));
  }
  EXPECT_EQ(build_neighbor_list(s, 30.0).size(), 150u * 149u);
}

TEST(Neighbors, RandomTriclinicAndMixedPeriodicityMatchBruteForce) {
  std::mt19937_64 rng(17);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> frac(-1.5, 2.5);  // atoms well outside the cell as well
  for (int trial = 0; trial < 24; ++trial) {
    SCOPED_TRACE(trial);
    Structure s;
    for (auto& row : s.cell)
      for (double& x : row) x = normal(rng);
    for (int k = 0; k < 3; ++k) s.cell[k][k] += 4 + trial % 5;
    s.pbc = {trial % 2 == 0, trial % 3 != 0, trial % 4 != 1};
    const int n = 1 + trial * 2;
    for (int i = 0; i < n; ++i) {
      const double f[3] = {frac(rng), frac(rng), frac(rng)};
      Vec x{};
      for (int k = 0; k < 3; ++k)
        for (int c = 0; c < 3; ++c) x[c] += f[k] * s.cell[k][c];
      add_atom(s, x);
    }
    const double r_cut = 1.5 + trial % 6;
    const auto nl = build_neighbor_list(s, r_cut);
    EXPECT_EQ(edges(nl), brute_force(s, r_cut, 5));
    expect_symmetric(s, nl);
  }
}

TEST(Neighbors, CutoffIsStrict) {
  Structure pair;
  add_atom(pair, {0, 0, 0});
  add_atom(pair, {2.5, 0, 0});
  EXPECT_EQ(build_neighbor_list(pair, 2.5).size(), 0u);
  EXPECT_EQ(build_neighbor_list(pair, std::nextafter(2.5, 3.0)).size(), 2u);

  // Six images of the atom itself at exactly 3 (4.0 and 3.0 are both exact in binary).
  Structure cube = periodic({{{3, 0, 0}, {0, 3, 0}, {0, 0, 3}}});
  add_atom(cube, {1, 1, 1});
  EXPECT_EQ(build_neighbor_list(cube, 3.0).size(), 0u);
  EXPECT_EQ(build_neighbor_list(cube, std::nextafter(3.0, 4.0)).size(), 6u);
  // The second shell at sqrt(18), exactly as the list computes it from the vector (3, 3, 0).
  EXPECT_EQ(build_neighbor_list(cube, std::sqrt(18.0)).size(), 6u);
  EXPECT_EQ(build_neighbor_list(cube, std::nextafter(std::sqrt(18.0), 5.0)).size(), 18u);
}

TEST(Neighbors, EdgesAreSortedByIThenJThenShift) {
  const Structure s = si_primitive();
  const auto all = edges(build_neighbor_list(s, 6.0));
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

TEST(Neighbors, RejectsBadInput) {
  Structure s = si_primitive();
  EXPECT_THROW(build_neighbor_list(s, 0.0), std::invalid_argument);
  EXPECT_THROW(build_neighbor_list(s, -1.0), std::invalid_argument);
  EXPECT_THROW(build_neighbor_list(s, NAN), std::invalid_argument);
  s.positions[1][0] = INFINITY;
  EXPECT_THROW(build_neighbor_list(s, 3.0), std::invalid_argument);
  s.positions[1][0] = 1e300;
  EXPECT_THROW(build_neighbor_list(s, 3.0), std::invalid_argument);
  Structure flat = periodic({{{1, 0, 0}, {0, 1, 0}, {1, 1, 0}}});
  add_atom(flat, {0, 0, 0});
  EXPECT_THROW(build_neighbor_list(flat, 3.0), std::invalid_argument);
  EXPECT_EQ(build_neighbor_list(Structure{}, 3.0).size(), 0u);
}

// with_periodic_ghosts: the LAMMPS-like layout the benchmark and the GPU check feed the engine. Every edge of
// build_neighbor_list appears once, as a neighbour index whose position gives the same edge vector; each
// ghost is its owner moved by a lattice vector, and no (owner, image) pair has two ghosts.
TEST(Neighbors, PeriodicGhostsReproduceTheNeighbourList) {
  const Structure s = rattled_diamond_silicon(2, 0.07, 11);
  ASSERT_EQ(s.size(), 64u);
  const double r_cut = 5.0;
  const NeighborList nl = build_neighbor_list(s, r_cut);
  const GhostedStructure g = with_periodic_ghosts(s, r_cut);
  ASSERT_EQ(g.n_local, 64);
  ASSERT_GT(g.n_all, g.n_local);  // a 10.9 Å cell with a 5 Å cutoff needs images
  ASSERT_EQ(g.x.size(), 3u * g.n_all);
  ASSERT_EQ(g.owner.size(), static_cast<size_t>(g.n_all));
  EXPECT_EQ(g.edges(), nl.size());

  // Edge vectors per atom, sorted, from both sides.
  std::vector<std::vector<Vec>> from_list(64), from_ghosts(64);
  for (size_t e = 0; e < nl.size(); ++e) from_list[nl.first[e]].push_back(edge_vector(s, nl.first[e], nl.second[e], nl.shift[e]));
  for (int i = 0; i < g.n_local; ++i) {
    ASSERT_LE(g.counts[i], g.width);
    for (int jj = 0; jj < g.counts[i]; ++jj) {
      const int j = g.list[static_cast<size_t>(i) * g.width + jj];
      ASSERT_GE(j, 0);
      ASSERT_LT(j, g.n_all);
      from_ghosts[i].push_back({g.x[3 * j] - g.x[3 * i], g.x[3 * j + 1] - g.x[3 * i + 1], g.x[3 * j + 2] - g.x[3 * i + 2]});
    }
  }
  for (int i = 0; i < 64; ++i) {
    std::sort(from_list[i].begin(), from_list[i].end());
    std::sort(from_ghosts[i].begin(), from_ghosts[i].end());
    ASSERT_EQ(from_list[i].size(), from_ghosts[i].size()) << "atom " << i;
    for (size_t k = 0; k < from_list[i].size(); ++k)
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(from_ghosts[i][k][c], from_list[i][k][c], 1e-12) << "atom " << i;
  }

  std::set<std::array<long, 4>> images;
  for (int j = 0; j < g.n_all; ++j) {
    const int o = g.owner[j];
    if (j < g.n_local) {
      EXPECT_EQ(o, j);
      continue;
    }
    ASSERT_GE(o, 0);
    ASSERT_LT(o, g.n_local);
    std::array<long, 4> key{o, 0, 0, 0};
    for (int c = 0; c < 3; ++c) {  // the cell is cubic: each coordinate moves by a whole number of edges
      const double n = (g.x[3 * j + c] - s.positions[o][c]) / s.cell[c][c];
      EXPECT_NEAR(n, std::round(n), 1e-12);
      key[c + 1] = std::lround(n);
    }
    EXPECT_NE(key[1] | key[2] | key[3], 0L) << "a ghost at its owner's own position";
    EXPECT_TRUE(images.insert(key).second) << "two ghosts of atom " << o << " in one image";
  }
}

TEST(Neighbors, RattledDiamondIsSeededAndRattledAsAsked) {
  const Structure a = rattled_diamond_silicon(3, 0.1, 5), b = rattled_diamond_silicon(3, 0.1, 5);
  EXPECT_EQ(a.positions, b.positions);
  ASSERT_EQ(a.size(), 216u);
  EXPECT_DOUBLE_EQ(a.cell[0][0], 3 * kSi);
  const Structure ideal = rattled_diamond_silicon(3, 0.0, 5);
  double sum2 = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (int c = 0; c < 3; ++c) sum2 += std::pow(a.positions[i][c] - ideal.positions[i][c], 2);
  // 648 Gaussian coordinates of standard deviation 0.1: the sample's rms is within ~3 % of it (3 sigma ~ 8 %).
  EXPECT_NEAR(std::sqrt(sum2 / 648), 0.1, 0.008);
  EXPECT_NE(rattled_diamond_silicon(3, 0.1, 6).positions, a.positions);
}
