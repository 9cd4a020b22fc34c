// One atomic configuration (a frame of a training set): species, positions, cell and the reference labels.
// Units are LAMMPS `metal`: Å, eV, eV/Å, eV/Å^3.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace facet {

struct Structure {
  std::vector<std::string> species;                // chemical symbol per atom
  std::vector<std::array<double, 3>> positions;    // Å
  std::array<std::array<double, 3>, 3> cell{};     // rows are the lattice vectors a, b, c (Å)
  std::array<bool, 3> pbc{false, false, false};
  std::optional<double> energy;                    // eV
  std::vector<std::array<double, 3>> forces;       // eV/Å, empty when absent
  std::optional<std::array<double, 9>> stress;     // eV/Å^3, ASE sign (positive = tensile), row-major 3x3
  std::map<std::string, std::string> info;         // every other key=value of the comment line, raw text
  std::string source;                              // file (or other source) the frame was read from
  size_t line = 0;                                 // line where the frame starts, for messages

  size_t size() const { return species.size(); }
  // |det cell|: the volume of a periodic cell (Å^3).
  double volume() const {
    const auto& [a, b, c] = cell;
    return std::abs(a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) +
                    a[2] * (b[0] * c[1] - b[1] * c[0]));
  }
};

// Field by field, every double compared exactly.
inline bool operator==(const Structure& x, const Structure& y) {
  return x.species == y.species && x.positions == y.positions && x.cell == y.cell && x.pbc == y.pbc &&
         x.energy == y.energy && x.forces == y.forces && x.stress == y.stress && x.info == y.info &&
         x.source == y.source && x.line == y.line;
}

}  // namespace facet
