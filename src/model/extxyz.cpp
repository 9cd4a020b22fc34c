#include "model/extxyz.hpp"

#include "model/elements.hpp"
#include "model/text_input.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <string_view>

namespace facet {

namespace {

bool is_element(std::string_view s) { return atomic_number(s) > 0; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (true) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) return words;
    const size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    words.push_back(s.substr(start, i - start));
  }
}

// Locale-independent, and strict: the whole word, finite (no nan, inf or overflow).
std::optional<double> to_double(std::string_view w) {
  double v = 0;
  if (parse_double(w, v) != NumberStatus::ok || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<bool> to_bool(std::string_view w) {
  if (w == "T" || w == "True" || w == "true") return true;
  if (w == "F" || w == "False" || w == "false") return false;
  return std::nullopt;
}

// Lattice, Properties or pbc when `key` spells one of them in any case.
std::optional<std::string_view> structural_key(std::string_view key) {
  for (std::string_view fixed : {"Lattice", "Properties", "pbc"})
    if (std::equal(key.begin(), key.end(), fixed.begin(), fixed.end(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); }))
      return fixed;
  return std::nullopt;
}

// A cell whose volume is negligible against the product of its vector lengths (or with a zero vector).
bool singular(const Structure& s) {
  double scale = 1;
  for (const auto& row : s.cell) scale *= std::sqrt(row[0] * row[0] + row[1] * row[1] + row[2] * row[2]);
  return !(s.volume() > 1e-12 * scale);
}

// A line for a message: trimmed, and short.
std::string quote_line(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return "'" + std::string(s.substr(0, 60)) + (s.size() > 60 ? "...'" : "'");
}

std::string fmt(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 17);
  return std::string(buf, end);
}

constexpr size_t kMaxColumns = 1000000;

struct Column {
  std::string name;
  char type;  // S, R, I or L
  size_t count;
};

// Splits the text into lines and reads frames off them; every error names the source and a line.
class Reader {
 public:
  Reader(const std::string& text, std::string source, const ExtxyzKeys& keys)
      : source_(std::move(source)), keys_(keys) {
    for (size_t pos = 0; pos < text.size();) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      lines_.emplace_back(text.data() + pos, nl - pos);
      pos = nl + 1;
    }
    // Trailing blank lines are not content: a frame cut short before them is "truncated".
    end_ = lines_.size();
    while (end_ > 0 && split(lines_[end_ - 1]).empty()) --end_;
  }

  std::vector<Structure> read_all() {
    std::vector<Structure> frames;
    while (true) {
      while (next_ < end_ && split(lines_[next_]).empty()) ++next_;  // blank lines between frames
      if (next_ >= end_) return frames;
      frames.push_back(read_frame());
    }
  }

 private:
  [[noreturn]] void fail(size_t index, const std::string& msg) const {
    throw ExtxyzError(source_ + ":" + std::to_string(index + 1) + ": " + msg);
  }

  Structure read_frame() {
    const size_t first = next_++;
    Structure s;
    s.source = source_;
    s.line = first + 1;

    const auto count_words = split(lines_[first]);
    const auto count = count_words.size() == 1 ? parse_integer(count_words[0]) : std::nullopt;
    if (!count || *count < 1)
      fail(first, "expected the atom count of a frame (a positive integer), found " + quote_line(lines_[first]));
    const size_t n = static_cast<size_t>(*count);
    if (next_ >= end_) truncated(first, n, 0);
    const size_t comment = next_++;
    const auto columns = read_comment(comment, s);

    size_t width = 0;
    for (const auto& c : columns) width += c.count;
    const size_t capacity = std::min(n, end_ - next_);
    s.species.reserve(capacity);
    s.positions.reserve(capacity);

    for (size_t atom = 0; atom < n; ++atom) {
      if (next_ >= end_) truncated(first, n, atom);
      const size_t index = next_++;
      const auto words = split(lines_[index]);
      if (words.size() != width) {
        std::string msg = "expected " + std::to_string(width) + " columns (from Properties), found " + std::to_string(words.size());
        // The usual cause: the frame announces more atoms than it has, and the next frame's count line shows up here.
        if (words.size() == 1 && parse_integer(words[0]))
          msg += " (a lone integer: does the frame starting at line " + std::to_string(first + 1) + " have fewer than the " +
                 std::to_string(n) + " atoms it announces?)";
        fail(index, msg);
      }
      size_t w = 0;
      for (const auto& c : columns) {
        if (c.name == "species") {
          if (!is_element(words[w])) fail(index, "unknown chemical symbol '" + std::string(words[w]) + "'");
          s.species.emplace_back(words[w]);
        } else if (c.name == "pos" || c.name == keys_.forces) {
          std::array<double, 3> v;
          for (size_t k = 0; k < 3; ++k) {
            const auto x = to_double(words[w + k]);
            if (!x) fail(index, "column '" + c.name + "': '" + std::string(words[w + k]) + "' is not a finite number");
            v[k] = *x;
          }
          (c.name == "pos" ? s.positions : s.forces).push_back(v);
        }
        w += c.count;
      }
    }
    return s;
  }

  [[noreturn]] void truncated(size_t first, size_t announced, size_t found) const {
    fail(first, "truncated frame: it announces " + std::to_string(announced) + " atoms, only " + std::to_string(found) +
                    " follow before the end of the input");
  }

  // key=value pairs of the comment line: values may be quoted ("..." or '...', with backslash escapes) or in
  // braces {...}; a bare key is a flag and reads as "T"; spaces around '=' are allowed.
  std::vector<std::pair<std::string, std::string>> key_values(size_t index) const {
    const std::string_view line = lines_[index];
    std::vector<std::pair<std::string, std::string>> pairs;
    size_t i = 0;
    auto skip = [&] {
      while (i < line.size() && is_space(line[i])) ++i;
    };
    while (true) {
      skip();
      if (i == line.size()) return pairs;
      const size_t start = i;
      while (i < line.size() && !is_space(line[i]) && line[i] != '=') ++i;
      std::string key(line.substr(start, i - start));
      if (key.empty()) fail(index, "'=' without a key");
      if (key.find_first_of("\"'{}") != std::string::npos) fail(index, "key " + quote_line(key) + " holds a quote or brace");
      skip();
      std::string value = "T";
      if (i < line.size() && line[i] == '=') {
        ++i;
        skip();
        value.clear();
        if (i < line.size() && (line[i] == '"' || line[i] == '\'' || line[i] == '{')) {
          const char open = line[i], close = open == '{' ? '}' : open;
          bool closed = false;
          for (++i; i < line.size(); ++i) {
            if (line[i] == '\\' && open != '{' && i + 1 < line.size()) {
              value += line[++i];
            } else if (line[i] == close) {
              closed = true;
              ++i;
              break;
            } else {
              value += line[i];
            }
          }
          if (!closed) fail(index, "unbalanced quotes: the value of '" + key + "' opens with " + open + " and never closes");
          if (i < line.size() && !is_space(line[i]))
            fail(index, "the value of '" + key + "' continues after its closing " + close);
        } else {
          while (i < line.size() && !is_space(line[i])) value += line[i++];
          if (value.find_first_of("\"'{}") != std::string::npos)
            fail(index, "unbalanced quotes in the value of '" + key + "': " + quote_line(value));
        }
      }
      for (const auto& [k, v] : pairs)
        if (k == key) fail(index, "key '" + key + "' appears twice");
      pairs.emplace_back(std::move(key), std::move(value));
    }
  }

  std::vector<double> numbers(size_t index, const std::string& key, const std::string& value) const {
    std::vector<double> out;
    for (const auto w : split(value)) {
      const auto x = to_double(w);
      if (!x) fail(index, key + ": '" + std::string(w) + "' is not a finite number");
      out.push_back(*x);
    }
    return out;
  }

  // 9 values (3x3 row-major) or 6 (Voigt xx yy zz yz xz xy) as a row-major 3x3.
  std::array<double, 9> tensor(size_t index, const std::string& key, const std::string& value) const {
    const auto v = numbers(index, key, value);
    if (v.size() == 9) return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]};
    if (v.size() == 6) return {v[0], v[5], v[4], v[5], v[1], v[3], v[4], v[3], v[2]};
    fail(index, key + " needs 9 values (3x3) or 6 (Voigt xx yy zz yz xz xy), found " + std::to_string(v.size()));
  }

  std::vector<Column> properties(size_t index, const std::string& value) const {
    std::vector<std::string_view> fields;
    for (size_t pos = 0;;) {
      const size_t colon = value.find(':', pos);
      fields.push_back(std::string_view(value).substr(pos, colon == std::string::npos ? std::string::npos : colon - pos));
      if (colon == std::string::npos) break;
      pos = colon + 1;
    }
    if (fields.size() % 3 != 0)
      fail(index, "Properties: expected name:type:count triples, found " + quote_line(value));
    std::vector<Column> columns;
    size_t width = 0;
    for (size_t f = 0; f < fields.size(); f += 3) {
      Column c{std::string(fields[f]), fields[f + 1].size() == 1 ? fields[f + 1][0] : '?', 0};
      if (c.name.empty()) fail(index, "Properties: a column has no name");
      if (std::string_view("SRIL").find(c.type) == std::string_view::npos)
        fail(index, "Properties: column '" + c.name + "' has type '" + std::string(fields[f + 1]) + "' (expected S, R, I or L)");
      const auto count = parse_integer(fields[f + 2]);
      if (!count || *count < 1)
        fail(index, "Properties: column '" + c.name + "' has count '" + std::string(fields[f + 2]) + "' (expected a positive integer)");
      c.count = static_cast<size_t>(*count);
      // Bounded so that the column offsets cannot wrap around and index past an atom line's words.
      width += c.count;
      if (width > kMaxColumns)
        fail(index, "Properties: the columns add up to more than " + std::to_string(kMaxColumns) + " per atom");
      for (const auto& o : columns)
        if (o.name == c.name) fail(index, "Properties: column '" + c.name + "' appears twice");
      columns.push_back(std::move(c));
    }
    auto require = [&](const std::string& name, char type, size_t count, bool needed) {
      const auto it = std::find_if(columns.begin(), columns.end(), [&](const Column& c) { return c.name == name; });
      if (it == columns.end()) {
        if (needed) fail(index, "Properties has no '" + name + "' column");
        return;
      }
      if (it->type != type || it->count != count)
        fail(index, "Properties: column '" + name + "' is " + it->type + ":" + std::to_string(it->count) + ", expected " +
                        type + ":" + std::to_string(count));
    };
    require("species", 'S', 1, true);
    require("pos", 'R', 3, true);
    require(keys_.forces, 'R', 3, false);
    return columns;
  }

  // Fills the frame's cell, pbc and labels; returns the per-atom columns.
  std::vector<Column> read_comment(size_t index, Structure& s) const {
    auto pairs = key_values(index);
    std::optional<std::string> lattice, props, pbc, stress, virial;
    for (auto& [key, value] : pairs) {
      if (key == "Lattice") lattice = std::move(value);
      else if (key == "Properties") props = std::move(value);
      else if (key == "pbc") pbc = std::move(value);
      else if (key == keys_.stress) stress = std::move(value);
      else if (key == keys_.virial) virial = std::move(value);
      else if (key == keys_.energy) {
        const auto v = numbers(index, key, value);
        if (v.size() != 1) fail(index, key + " needs one number, found " + std::to_string(v.size()));
        s.energy = v[0];
      } else {
        // A miscased structural key would silently turn a periodic frame into a molecule.
        if (const auto fixed = structural_key(key))
          fail(index, "key '" + key + "': the extended-XYZ name is '" + std::string(*fixed) + "' (keys are case-sensitive)");
        s.info.emplace(std::move(key), std::move(value));
      }
    }

    if (lattice) {
      const auto v = numbers(index, "Lattice", *lattice);
      if (v.size() != 9) fail(index, "Lattice needs 9 numbers, found " + std::to_string(v.size()));
      for (size_t r = 0; r < 3; ++r)
        for (size_t c = 0; c < 3; ++c) s.cell[r][c] = v[3 * r + c];
      s.pbc = {true, true, true};
    }
    if (pbc) {
      const auto words = split(*pbc);
      if (words.size() != 3) fail(index, "pbc needs 3 booleans (T/F), found " + quote_line(*pbc));
      for (size_t k = 0; k < 3; ++k) {
        const auto b = to_bool(words[k]);
        if (!b) fail(index, "pbc: '" + std::string(words[k]) + "' is not a boolean (T, F, True, False)");
        s.pbc[k] = *b;
      }
    }
    const bool periodic = s.pbc[0] || s.pbc[1] || s.pbc[2];
    if (periodic && !lattice) fail(index, "pbc is periodic but there is no Lattice");
    if (periodic && singular(s)) fail(index, "singular cell (volume " + fmt(s.volume()) + " Å^3) for a periodic frame");

    if (stress) {
      s.stress = tensor(index, keys_.stress, *stress);
    } else if (virial) {
      const auto w = tensor(index, keys_.virial, *virial);
      if (!lattice || !(s.volume() > 0) || !std::isfinite(s.volume()))
        fail(index, keys_.virial + " needs a Lattice with a finite non-zero volume to give a stress");
      std::array<double, 9> sigma;
      for (size_t k = 0; k < 9; ++k) {
        sigma[k] = -w[k] / s.volume();
        // A tiny (non-periodic, so unchecked) cell can turn a finite virial into an infinite stress.
        if (!std::isfinite(sigma[k]))
          fail(index, keys_.virial + " / volume (" + fmt(s.volume()) + " Å^3) is not a finite stress");
      }
      s.stress = sigma;
    }
    if (virial && stress) s.info.emplace(keys_.virial, std::move(*virial));  // unused: kept like any other key

    return properties(index, props.value_or("species:S:1:pos:R:3"));
  }

  std::string source_;
  const ExtxyzKeys& keys_;
  std::vector<std::string_view> lines_;
  size_t end_ = 0, next_ = 0;
};

bool needs_quotes(const std::string& v) {
  return v.empty() || std::any_of(v.begin(), v.end(), [](char c) { return is_space(c) || std::strchr("\"'{}=\\", c); });
}

}  // namespace

std::vector<Structure> parse_extxyz(const std::string& text, const std::string& source, const ExtxyzKeys& keys) {
  return Reader(text, source, keys).read_all();
}

std::vector<Structure> read_extxyz(const std::string& path, const ExtxyzKeys& keys) {
  return parse_extxyz(read_whole_file<ExtxyzError>(path, "the extended-XYZ file"), path, keys);
}

void write_extxyz(std::ostream& out, const Structure& s, const ExtxyzKeys& keys) {
  auto fail = [](const std::string& m) { throw ExtxyzError("write_extxyz: " + m); };
  auto num = [&](double v) {
    if (!std::isfinite(v)) fail("non-finite value");
    return fmt(v);
  };
  const size_t n = s.species.size();
  if (n == 0) fail("a frame needs at least one atom");
  if (s.positions.size() != n) fail(std::to_string(n) + " species but " + std::to_string(s.positions.size()) + " positions");
  if (!s.forces.empty() && s.forces.size() != n) fail(std::to_string(n) + " atoms but " + std::to_string(s.forces.size()) + " forces");
  for (const auto& e : s.species)
    if (!is_element(e)) fail("unknown chemical symbol '" + e + "'");

  std::string line = std::to_string(n) + "\n";
  const bool periodic = s.pbc[0] || s.pbc[1] || s.pbc[2];
  if (periodic && singular(s)) fail("singular cell for a periodic frame");
  bool has_cell = periodic;
  for (const auto& row : s.cell)
    for (double x : row) has_cell = has_cell || x != 0;
  if (has_cell) {
    line += "Lattice=\"";
    for (size_t k = 0; k < 9; ++k) line += (k ? " " : "") + num(s.cell[k / 3][k % 3]);
    line += "\" ";
  }
  line += "Properties=species:S:1:pos:R:3";
  if (!s.forces.empty()) line += ":" + keys.forces + ":R:3";
  if (s.energy) line += " " + keys.energy + "=" + num(*s.energy);
  if (s.stress) {
    line += " " + keys.stress + "=\"";
    for (size_t k = 0; k < 9; ++k) line += (k ? " " : "") + num((*s.stress)[k]);
    line += "\"";
  }
  for (const auto& [key, value] : s.info) {
    if (key.empty() || key.find_first_of(" \t\r\n\v\f=\"'{}") != std::string::npos)
      fail("info key '" + key + "' is not a single word");
    if (structural_key(key) || key == keys.energy || key == keys.stress ||
        (key == keys.virial && !s.stress))
      fail("info key '" + key + "' is reserved (the reader would take it for a label or the cell)");
    if (value.find('\n') != std::string::npos) fail("the value of info key '" + key + "' holds a newline");
    line += " " + key + "=";
    if (!needs_quotes(value)) {
      line += value;
      continue;
    }
    line += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') line += '\\';
      line += c;
    }
    line += '"';
  }
  line += std::string(" pbc=\"") + (s.pbc[0] ? "T" : "F") + (s.pbc[1] ? " T" : " F") + (s.pbc[2] ? " T" : " F") + "\"\n";
  for (size_t i = 0; i < n; ++i) {
    line += s.species[i];
    for (double x : s.positions[i]) line += " " + num(x);
    if (!s.forces.empty())
      for (double f : s.forces[i]) line += " " + num(f);
    line += "\n";
  }
  out << line;
}

}  // namespace facet
