// Helpers shared by the file readers (potential, extended XYZ): reading a whole file, and strict number parsing.
#pragma once

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

namespace facet {

// The content of a file; `Error` names the path and the cause when it cannot be read. A directory is refused
// explicitly: std::ifstream opens one and reads it as an empty file, which would pass for a file with no frames.
template <class Error>
std::string read_whole_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": is a directory, not " + what);
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(path + ": cannot open " + what + " (" + std::strerror(errno) + ")");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw Error(path + ": read error in " + what + " (" + std::strerror(errno) + ")");
  return text.str();
}

// Numbers: the whole word must be the number, read without regard to the locale. std::from_chars rather than
// strtod: strtod depends on the C locale (a decimal comma under some LC_NUMERIC) and flags subnormal values with
// ERANGE, which made the potential reader refuse weights that its writer wrote.

enum class NumberStatus { ok, not_a_number, out_of_range };

// A leading '+' is accepted (from_chars alone refuses it); hex floats, "0x..", and trailing characters are not.
// NaN and infinities parse as such: callers that need finite values check std::isfinite.
inline NumberStatus parse_double(std::string_view word, double& value) {
  if (word.size() > 1 && word[0] == '+' && word[1] != '-') word.remove_prefix(1);
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec == std::errc::result_out_of_range && end == word.data() + word.size()) return NumberStatus::out_of_range;
  if (ec != std::errc() || end != word.data() + word.size()) return NumberStatus::not_a_number;
  return NumberStatus::ok;
}

inline std::optional<long long> parse_integer(std::string_view word) {
  if (word.size() > 1 && word[0] == '+' && word[1] != '-') word.remove_prefix(1);
  long long value = 0;
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc() || end != word.data() + word.size()) return std::nullopt;
  return value;
}

}  // namespace facet
