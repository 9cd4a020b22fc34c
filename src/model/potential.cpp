#include "model/potential.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/elements.hpp"
#include "model/text_input.hpp"

namespace facet {

std::vector<CouplingPath> coupling_paths(int l_max, int l_edge) {
  std::vector<CouplingPath> paths;
  for (int l1 = 0; l1 <= l_max; ++l1)
    for (int l2 = 0; l2 <= l_edge; ++l2)
      for (int l3 = std::abs(l1 - l2); l3 <= std::min(l1 + l2, l_max); ++l3)
        if ((l1 + l2 + l3) % 2 == 0) paths.push_back({l1, l2, l3});
  return paths;
}

int num_radial_functions(const ModelHyperparameters& hp) {
  return hp.tensor_product == TensorProduct::gaunt ? hp.l_edge + 1
                                                   : static_cast<int>(coupling_paths(hp.l_max, hp.l_edge).size());
}

bool operator==(const ModelHyperparameters& a, const ModelHyperparameters& b) {
  return a.elements == b.elements && a.r_cut == b.r_cut && a.l_max == b.l_max && a.l_edge == b.l_edge &&
         a.channels == b.channels && a.layers == b.layers && a.radial_basis == b.radial_basis &&
         a.envelope_p == b.envelope_p && a.tensor_product == b.tensor_product && a.grid_channels == b.grid_channels &&
         a.grid_hidden == b.grid_hidden && a.grid_theta == b.grid_theta && a.grid_phi == b.grid_phi &&
         a.readout_hidden == b.readout_hidden && a.avg_num_neighbors == b.avg_num_neighbors &&
         a.energy_scale == b.energy_scale && a.atomic_energies == b.atomic_energies && a.repulsion == b.repulsion &&
         a.repulsion_radii == b.repulsion_radii;
}

int64_t Array::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const Array& Potential::array(const std::string& name) const {
  auto it = arrays.find(name);
  if (it == arrays.end()) throw PotentialError("potential has no array '" + name + "'");
  return it->second;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> expected_arrays(const ModelHyperparameters& hp) {
  const int64_t S = static_cast<int64_t>(hp.elements.size()), C = hp.channels, Cg = hp.grid_channels,
                H = hp.grid_hidden, Hr = hp.readout_hidden, nl = hp.l_max + 1, K = hp.radial_basis,
                nR = num_radial_functions(hp);
  std::vector<std::pair<std::string, std::vector<int64_t>>> out = {{"embedding", {S, C}}};
  for (int t = 0; t < hp.layers; ++t) {
    const std::string p = "layer" + std::to_string(t) + ".";
    out.push_back({p + "up", {nl, C, C}});
    out.push_back({p + "radial", {nR, K, C}});
    out.push_back({p + "mid", {nl, Cg, C}});
    out.push_back({p + "grid_w1", {H, Cg}});
    out.push_back({p + "grid_b1", {H}});
    out.push_back({p + "grid_w2", {Cg, H}});
    out.push_back({p + "msg", {nl, C, C}});
    out.push_back({p + "out", {nl, C, Cg}});
  }
  out.push_back({"readout.w1", {Hr, C}});
  out.push_back({"readout.b1", {Hr}});
  out.push_back({"readout.w2", {Hr}});
  return out;
}

void validate(const ModelHyperparameters& hp) {
  auto fail = [](const std::string& m) { throw PotentialError(m); };
  if (hp.elements.empty()) fail("elements: at least one element is needed");
  for (const auto& e : hp.elements)
    if (atomic_number(e) == 0) fail("elements: '" + e + "' is not a chemical element symbol (spelt like 'Si')");
  for (size_t i = 0; i < hp.elements.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (hp.elements[i] == hp.elements[j]) fail("elements: '" + hp.elements[i] + "' appears twice");
  if (!(hp.r_cut > 0 && std::isfinite(hp.r_cut))) fail("r_cut must be a positive number");
  if (hp.l_max < 0 || hp.l_max > 8) fail("l_max must be in 0..8");
  if (hp.l_edge < 0 || hp.l_edge > 8) fail("l_edge must be in 0..8");
  if (hp.channels < 1) fail("channels must be >= 1");
  if (hp.layers < 1) fail("layers must be >= 1");
  if (hp.radial_basis < 4) fail("radial_basis must be >= 4 (cubic B-splines)");
  if (hp.envelope_p < 2) fail("envelope_p must be >= 2");
  if (hp.grid_channels < 1 || hp.grid_hidden < 1 || hp.readout_hidden < 1)
    fail("grid_channels, grid_hidden and readout_hidden must be >= 1");
  // The grid must at least resolve degree l_max, or the projection back loses the linear part.
  if (hp.grid_theta < hp.l_max + 1 || hp.grid_phi < 2 * hp.l_max + 1)
    fail("grid " + std::to_string(hp.grid_theta) + " x " + std::to_string(hp.grid_phi) +
         " does not resolve l_max = " + std::to_string(hp.l_max) + " (needs n_theta >= l_max+1, n_phi >= 2 l_max+1)");
  if (!(hp.avg_num_neighbors > 0 && std::isfinite(hp.avg_num_neighbors))) fail("avg_num_neighbors must be positive");
  if (!std::isfinite(hp.energy_scale)) fail("energy_scale must be finite");
  if (hp.atomic_energies.size() != hp.elements.size())
    fail("atomic_energies: " + std::to_string(hp.atomic_energies.size()) + " values for " +
         std::to_string(hp.elements.size()) + " elements");
  for (double e : hp.atomic_energies)
    if (!std::isfinite(e)) fail("atomic_energies must be finite");
  auto fmt = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return std::string(buf);
  };
  if (hp.repulsion == Repulsion::none && !hp.repulsion_radii.empty()) fail("repulsion none takes no radii");
  if (hp.repulsion == Repulsion::zbl) {
    if (hp.repulsion_radii.size() != hp.elements.size())
      fail("repulsion zbl: " + std::to_string(hp.repulsion_radii.size()) + " radii for " +
           std::to_string(hp.elements.size()) + " elements");
    for (size_t i = 0; i < hp.elements.size(); ++i) {
      const double r = hp.repulsion_radii[i];
      if (!(r > 0 && std::isfinite(r))) fail("repulsion zbl: the radius of " + hp.elements[i] + " must be positive");
      // The pair term is evaluated on the model's edges only: it must be off before r_cut.
      for (size_t j = 0; j <= i; ++j)
        if (r + hp.repulsion_radii[j] > hp.r_cut)
          fail("repulsion zbl: the radii of " + hp.elements[i] + " and " + hp.elements[j] + " add up to " +
               fmt(r + hp.repulsion_radii[j]) + " Å, beyond r_cut " + fmt(hp.r_cut) + " Å");
    }
  }
}

uint64_t fnv1a64(const char* data, size_t size) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

namespace {

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::vector<std::string> split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

struct Line {
  size_t number;
  std::vector<std::string> words;
};

// Walks the significant lines (not blank, not '#') of a potential file; errors carry file and line.
class Parser {
 public:
  Parser(const std::string& text, size_t end, std::string source) : source_(std::move(source)), content_size_(end) {
    size_t pos = 0, number = 0;
    while (pos < end) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos || nl > end) nl = end;
      ++number;
      auto words = split(text.substr(pos, nl - pos));
      if (!words.empty() && words[0][0] != '#') lines_.push_back({number, std::move(words)});
      pos = nl + 1;
    }
    last_line_ = number;
  }

  [[noreturn]] void fail(const Line& line, const std::string& msg) const {
    throw PotentialError(source_ + ":" + std::to_string(line.number) + ": " + msg);
  }
  [[noreturn]] void fail_truncated(const std::string& msg) const {
    throw PotentialError(source_ + ": truncated: " + msg + " (the content ends after line " +
                         std::to_string(last_line_) + ")");
  }
  bool done() const { return cur_ >= lines_.size(); }
  const Line& peek() const {
    if (done()) fail_truncated("unexpected end of the content");
    return lines_[cur_];
  }
  const Line& take() {
    const Line& l = peek();
    ++cur_;
    return l;
  }

  // The line `name v1 ... vn`, with exactly `count` values unless count < 0.
  const Line& key(const std::string& name, int count) {
    if (done()) fail_truncated("expected key '" + name + "'");
    const Line& l = take();
    if (l.words[0] != name) fail(l, "expected key '" + name + "', found '" + l.words[0] + "'");
    if (count >= 0 && static_cast<int>(l.words.size()) - 1 != count)
      fail(l, "'" + name + "' needs " + std::to_string(count) + " value(s), found " + std::to_string(l.words.size() - 1));
    return l;
  }

  double number(const Line& l, const std::string& word, const std::string& what) const {
    double v = 0;
    switch (parse_double(word, v)) {
      case NumberStatus::not_a_number: fail(l, what + ": '" + word + "' is not a number");
      case NumberStatus::out_of_range: fail(l, what + ": value '" + word + "' is out of the range of a double");
      case NumberStatus::ok: break;
    }
    if (!std::isfinite(v)) fail(l, what + ": value '" + word + "' is not finite");
    return v;
  }
  long long integer(const Line& l, const std::string& word, const std::string& what) const {
    const auto v = parse_integer(word);
    if (!v) fail(l, what + ": '" + word + "' is not an integer");
    return *v;
  }
  // An int-sized hyperparameter; the range check keeps a huge value from wrapping into a plausible one.
  int small_integer(const Line& l, const std::string& word, const std::string& what) const {
    const long long v = integer(l, word, what);
    if (v < -1000000 || v > 1000000) fail(l, what + ": " + word + " is out of range");
    return static_cast<int>(v);
  }
  double key_number(const std::string& name) {
    const Line& l = key(name, 1);
    return number(l, l.words[1], name);
  }
  int key_int(const std::string& name) {
    const Line& l = key(name, 1);
    return small_integer(l, l.words[1], name);
  }
  size_t lines_left() const { return lines_.size() - cur_; }
  // An upper bound on the values the content can hold: each takes a character and a separator.
  size_t max_values() const { return content_size_ / 2 + 1; }

 private:
  std::string source_;
  std::vector<Line> lines_;
  size_t content_size_, cur_ = 0, last_line_ = 0;
};

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

}  // namespace

Potential parse_potential(const std::string& text, const std::string& source) {
  // Magic and version first, so that a newer file gets the version message rather than another one.
  const auto first_nl = text.find('\n');
  const auto magic = split(text.substr(0, first_nl));
  if (text.empty()) throw PotentialError(source + ": the file is empty");
  if (magic.size() != 2 || magic[0] != "facet-potential")
    throw PotentialError(source + ":1: not a facet potential file (the first line must be 'facet-potential <version>')");
  const auto version = parse_integer(magic[1]);
  if (!version || *version < 1) throw PotentialError(source + ":1: bad format version '" + magic[1] + "'");
  if (*version > kPotentialFormatVersion)
    throw PotentialError(source + ": format version " + magic[1] + " is newer than this facet-lammps reads (" +
                         std::to_string(kPotentialFormatVersion) + "): update facet-lammps");

  // The checksum line covers every byte before it.
  size_t cs = std::string::npos;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (text.compare(pos, 9, "checksum ") == 0) cs = pos;
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  if (cs == std::string::npos) {
    const size_t lines = std::count(text.begin(), text.end(), '\n');
    throw PotentialError(source + ": truncated: no 'checksum' line (the file ends after line " + std::to_string(lines) + ")");
  }
  const size_t cs_end = text.find('\n', cs);
  if (cs_end == std::string::npos)
    throw PotentialError(source + ": truncated: the checksum line is incomplete (no final newline)");
  const auto cs_words = split(text.substr(cs, cs_end - cs));
  if (cs_words.size() != 3 || cs_words[1] != "fnv1a64" || cs_words[2].size() != 16 ||
      !split(text.substr(cs_end + 1)).empty())
    throw PotentialError(source + ": malformed checksum line (expected 'checksum fnv1a64 <16 hex digits>' as the last line)");
  const std::string actual = hex16(fnv1a64(text.data(), cs));
  if (cs_words[2] != actual)
    throw PotentialError(source + ": checksum mismatch (file says " + cs_words[2] + ", content hashes to " + actual +
                         "): the file is corrupt or was edited");

  Parser in(text, cs, source);
  in.take();  // the magic line, checked above
  Potential pot;
  auto& hp = pot.hyper;
  // meta lines may stand anywhere before the first array
  auto skip_meta = [&] {
    while (!in.done() && in.peek().words[0] == "meta") {
      const Line& l = in.take();
      if (l.words.size() < 2) in.fail(l, "'meta' needs a key");
      std::string value;
      for (size_t i = 2; i < l.words.size(); ++i) value += (i > 2 ? " " : "") + l.words[i];
      pot.meta.emplace_back(l.words[1], value);
    }
  };
  auto next_key = [&](const std::string& name, int count) -> const Line& {
    skip_meta();
    return in.key(name, count);
  };

  {
    const Line& l = next_key("units", 1);
    if (l.words[1] != "metal") in.fail(l, "units '" + l.words[1] + "': facet potentials use LAMMPS 'metal' units");
  }
  const Line& elements = next_key("elements", -1);
  {
    if (elements.words.size() < 2) in.fail(elements, "'elements' needs a count and the symbols");
    const long long n = in.integer(elements, elements.words[1], "elements");
    if (n < 1 || static_cast<size_t>(n) != elements.words.size() - 2)
      in.fail(elements, "'elements' says " + elements.words[1] + " element(s) but lists " +
                            std::to_string(elements.words.size() - 2));
    hp.elements.assign(elements.words.begin() + 2, elements.words.end());
    for (const auto& e : hp.elements)
      if (atomic_number(e) == 0) in.fail(elements, "'" + e + "' is not a chemical element symbol (spelt like 'Si')");
  }
  auto number = [&](const char* k) { skip_meta(); return in.key_number(k); };
  auto integer = [&](const char* k) { skip_meta(); return in.key_int(k); };
  hp.r_cut = number("r_cut");
  hp.l_max = integer("l_max");
  hp.l_edge = integer("l_edge");
  hp.channels = integer("channels");
  hp.layers = integer("layers");
  hp.radial_basis = integer("radial_basis");
  hp.envelope_p = integer("envelope_p");
  {
    const Line& l = next_key("tensor_product", 1);
    if (l.words[1] == "gaunt") hp.tensor_product = TensorProduct::gaunt;
    else if (l.words[1] == "cg") hp.tensor_product = TensorProduct::cg;
    else in.fail(l, "tensor_product '" + l.words[1] + "': expected 'gaunt' or 'cg'");
  }
  hp.grid_channels = integer("grid_channels");
  hp.grid_hidden = integer("grid_hidden");
  {
    const Line& l = next_key("grid", 2);
    hp.grid_theta = in.small_integer(l, l.words[1], "grid");
    hp.grid_phi = in.small_integer(l, l.words[2], "grid");
  }
  hp.readout_hidden = integer("readout_hidden");
  hp.avg_num_neighbors = number("avg_num_neighbors");
  hp.energy_scale = number("energy_scale");
  const Line* l = &next_key("atomic_energies", static_cast<int>(hp.elements.size()));
  for (size_t i = 1; i < l->words.size(); ++i) hp.atomic_energies.push_back(in.number(*l, l->words[i], "atomic_energies"));
  {
    // Version 1 has no repulsion line (and no repulsion); from version 2 on it is required.
    if (*version >= 2) {
      l = &next_key("repulsion", -1);
      const auto& w = l->words;
      if (w.size() < 2) in.fail(*l, "'repulsion' needs 'none' or 'zbl <one radius per element>'");
      if (w[1] == "none") {
        if (w.size() != 2) in.fail(*l, "'repulsion none' takes no values");
      } else if (w[1] == "zbl") {
        if (w.size() - 2 != hp.elements.size())
          in.fail(*l, "'repulsion zbl' needs " + std::to_string(hp.elements.size()) + " radii (one per element), found " +
                          std::to_string(w.size() - 2));
        hp.repulsion = Repulsion::zbl;
        for (size_t i = 2; i < w.size(); ++i) hp.repulsion_radii.push_back(in.number(*l, w[i], "repulsion"));
      } else {
        in.fail(*l, "repulsion '" + w[1] + "': expected 'none' or 'zbl'");
      }
    }
    try {
      validate(hp);
    } catch (const PotentialError& e) {
      in.fail(*l, std::string("inconsistent hyperparameters: ") + e.what());
    }
  }
  skip_meta();
  // Each layer has 8 arrays, each starting on its own line: a layer count the rest of the file cannot hold
  // is refused here, before expected_arrays() lists millions of names.
  if (static_cast<size_t>(hp.layers) > in.lines_left() / 8)
    in.fail_truncated("'layers " + std::to_string(hp.layers) + "' needs " + std::to_string(8 * hp.layers + 4) +
                      " arrays, only " + std::to_string(in.lines_left()) + " lines follow");

  for (const auto& [name, shape] : expected_arrays(hp)) {
    if (in.done()) in.fail_truncated("expected array '" + name + "'");
    const Line& head = in.take();
    if (head.words[0] != "array" || head.words.size() < 3)
      in.fail(head, "expected 'array " + name + " <rank> <dims>', found '" + head.words[0] + "'");
    if (head.words[1] != name) in.fail(head, "expected array '" + name + "', found '" + head.words[1] + "'");
    const long long rank = in.integer(head, head.words[2], "array rank");
    if (rank < 1 || static_cast<size_t>(rank) != head.words.size() - 3)
      in.fail(head, "array '" + name + "': rank " + head.words[2] + " does not match the " +
                        std::to_string(head.words.size() - 3) + " dimension(s) given");
    Array a;
    for (long long d = 0; d < rank; ++d) a.shape.push_back(in.integer(head, head.words[3 + d], "array dimension"));
    if (a.shape != shape)
      in.fail(head, "array '" + name + "' has shape " + shape_str(a.shape) + ", expected " + shape_str(shape));
    const int64_t count = a.size();
    // The count follows from the file's hyperparameters: reserve no more than the content can hold, so that
    // a huge shape ends in a "truncated" error rather than an allocation failure.
    a.values.reserve(std::min(static_cast<size_t>(count), in.max_values()));
    while (static_cast<int64_t>(a.values.size()) < count) {
      if (in.done()) in.fail_truncated("array '" + name + "' has " + std::to_string(a.values.size()) + " of " + std::to_string(count) + " values");
      const Line& l = in.take();
      if (l.words[0] == "array" || l.words[0] == "end")
        in.fail(l, "array '" + name + "' has " + std::to_string(a.values.size()) + " of its " + std::to_string(count) +
                       " values before '" + l.words[0] + "'");
      if (static_cast<int64_t>(a.values.size() + l.words.size()) > count)
        in.fail(l, "array '" + name + "' has more than its " + std::to_string(count) + " values");
      for (const auto& w : l.words) a.values.push_back(in.number(l, w, "array '" + name + "'"));
    }
    pot.arrays.emplace(name, std::move(a));
  }
  if (in.done()) in.fail_truncated("expected 'end' after the arrays");
  const Line& last = in.take();
  if (last.words[0] != "end" || last.words.size() != 1)
    in.fail(last, last.words[0] == "array" ? "unexpected array '" + (last.words.size() > 1 ? last.words[1] : "") + "'"
                                           : "expected 'end', found '" + last.words[0] + "'");
  if (!in.done()) in.fail(in.peek(), "content after 'end'");
  return pot;
}

Potential read_potential(const std::string& path) {
  return parse_potential(read_whole_file<PotentialError>(path, "the potential file"), path);
}

std::string format_potential(const Potential& pot) {
  const auto& hp = pot.hyper;
  validate(hp);
  std::ostringstream o;
  o << "facet-potential " << kPotentialFormatVersion << "\n";
  o << "# facet-lammps potential: docs/potential-format.md describes this file, docs/model.md the model\n";
  for (const auto& [k, v] : pot.meta) {
    if (k.empty() || k.find_first_of(" \t\n") != std::string::npos || v.find('\n') != std::string::npos)
      throw PotentialError("meta key '" + k + "': keys are single words and values single lines");
    o << "meta " << k << (v.empty() ? "" : " ") << v << "\n";
  }
  o << "units metal\n";
  o << "elements " << hp.elements.size();
  for (const auto& e : hp.elements) o << " " << e;
  o << "\nr_cut " << fmt(hp.r_cut) << "\nl_max " << hp.l_max << "\nl_edge " << hp.l_edge
    << "\nchannels " << hp.channels << "\nlayers " << hp.layers << "\nradial_basis " << hp.radial_basis
    << "\nenvelope_p " << hp.envelope_p
    << "\ntensor_product " << (hp.tensor_product == TensorProduct::gaunt ? "gaunt" : "cg")
    << "\ngrid_channels " << hp.grid_channels << "\ngrid_hidden " << hp.grid_hidden << "\ngrid " << hp.grid_theta
    << " " << hp.grid_phi << "\nreadout_hidden " << hp.readout_hidden << "\navg_num_neighbors "
    << fmt(hp.avg_num_neighbors) << "\nenergy_scale " << fmt(hp.energy_scale) << "\natomic_energies";
  for (double e : hp.atomic_energies) o << " " << fmt(e);
  o << "\nrepulsion " << (hp.repulsion == Repulsion::zbl ? "zbl" : "none");
  for (double r : hp.repulsion_radii) o << " " << fmt(r);
  o << "\n";
  const auto expected = expected_arrays(hp);
  if (pot.arrays.size() != expected.size())
    throw PotentialError("potential has " + std::to_string(pot.arrays.size()) + " arrays, the model needs " +
                         std::to_string(expected.size()));
  for (const auto& [name, shape] : expected) {
    const Array& a = pot.array(name);
    if (a.shape != shape || static_cast<int64_t>(a.values.size()) != a.size())
      throw PotentialError("array '" + name + "' has shape " + shape_str(a.shape) + ", expected " + shape_str(shape));
    o << "array " << name << " " << shape.size();
    for (auto d : shape) o << " " << d;
    for (size_t i = 0; i < a.values.size(); ++i) {
      if (!std::isfinite(a.values[i])) throw PotentialError("array '" + name + "' holds a non-finite value");
      o << (i % 6 == 0 ? "\n" : " ") << fmt(a.values[i]);
    }
    o << "\n";
  }
  o << "end\n";
  std::string text = o.str();
  text += "checksum fnv1a64 " + hex16(fnv1a64(text.data(), text.size())) + "\n";
  return text;
}

void write_potential(const Potential& pot, const std::string& path) {
  const std::string text = format_potential(pot);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw PotentialError(path + ": cannot write (" + std::strerror(errno) + ")");
    out << text;
    out.flush();
    if (!out) throw PotentialError(path + ": write failed (" + std::strerror(errno) + ")");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace facet
