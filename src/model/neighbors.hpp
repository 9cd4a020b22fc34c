// Periodic neighbour list of a Structure: the edges of docs/model.md ("Edges").
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "model/structure.hpp"

namespace facet {

// Directed edges i -> j, both directions present: edge e is atom second[e] seen from atom first[e], in the
// periodic image shift[e] = n, so that r_ij = x_j + n·cell - x_i (n0 a + n1 b + n2 c, cell rows a, b, c).
struct NeighborList {
  std::vector<int> first, second;
  std::vector<std::array<int, 3>> shift;
  size_t size() const { return first.size(); }
};

// Every (i, j, n) with |r_ij| < r_cut (strict; |r_ij| = sqrt(r_ij·r_ij), as the model computes it) except
// i == j with n = 0: images of i itself and several images of one j appear when the cell is small against
// r_cut. Non-periodic directions get no images. Positions need not lie inside the cell. Edges are sorted by i,
// then j, then n (lexicographic). Cell-list binning, so the cost is linear in the number of atoms.
// Throws std::invalid_argument for r_cut <= 0, a non-finite position, or a singular cell in a periodic frame.
NeighborList build_neighbor_list(const Structure& s, double r_cut);

// A periodic structure laid out as LAMMPS lays out one rank's atoms, for programs that drive the engine
// without LAMMPS (the benchmark, the GPU check): the atoms ("local"), then one ghost atom per (atom,
// periodic image) that some edge reaches, and per local atom its neighbours as indices into that array.
struct GhostedStructure {
  int n_local = 0, n_all = 0;
  int width = 1;            // the longest neighbour list
  std::vector<double> x;    // [n_all][3]
  std::vector<int> owner;   // [n_all]: the local atom that each atom is, or is an image of
  std::vector<int> counts;  // [n_local]: neighbours of each local atom
  std::vector<int> list;    // [n_local][width]: their indices, -1 beyond counts[i]
  size_t edges() const;
};
GhostedStructure with_periodic_ghosts(const Structure& s, double r_cut);

// Diamond silicon (a = 5.431 Å), cells x cells x cells conventional cells (8 atoms each), every coordinate
// displaced by Gaussian noise of standard deviation `rattle` Å (std::mt19937 with `seed`).
Structure rattled_diamond_silicon(int cells, double rattle, unsigned seed);

}  // namespace facet
