// Extended-XYZ (ASE convention) reader and writer for training data; docs/extxyz.md says what is accepted.
#pragma once

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/structure.hpp"

namespace facet {

// Names of the label keys. Data sets differ here (e.g. "REF_energy", "dft_forces"); the structure of the
// file does not, so Lattice, Properties, pbc, species and pos keep their fixed ASE names.
struct ExtxyzKeys {
  std::string energy = "energy";  // comment-line number (eV)
  std::string forces = "forces";  // Properties column, R:3 (eV/Å)
  std::string stress = "stress";  // comment-line 9 or 6 numbers (eV/Å^3)
  std::string virial = "virial";  // used only without a stress: stress = -virial / volume (virial in eV)
};

// Every message starts with `source:line: ` (a file that cannot be opened: `path: `).
class ExtxyzError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads every frame of a file; an empty file gives no frames.
std::vector<Structure> read_extxyz(const std::string& path, const ExtxyzKeys& keys = {});
// The same on text in memory; `source` names it in messages and in Structure::source.
std::vector<Structure> parse_extxyz(const std::string& text, const std::string& source, const ExtxyzKeys& keys = {});

// Writes one frame (ASE layout, numbers with 17 significant digits, so that reading it back is bit-exact).
// Throws ExtxyzError for a structure the reader would not give back unchanged (inconsistent sizes, an info
// key that is one of the reserved keys or not a single word, a value with a newline).
void write_extxyz(std::ostream& out, const Structure& s, const ExtxyzKeys& keys = {});

}  // namespace facet
