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

}  // namespace facet
