// libFuzzer target for the potential-file reader (docs/robustness.md). Any input must either parse or throw
// PotentialError naming its source; an input that parses must be a potential the writer accepts and that reads
// back unchanged (the reader never accepts what the format forbids). Anything else aborts, which libFuzzer
// reports with the input that caused it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "model/potential.hpp"

namespace {

constexpr const char* kSource = "fuzz.facet";

[[noreturn]] void violation(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_potential: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Exceptions other than PotentialError are not caught: libFuzzer reports them as crashes.
void check(const std::string& text) {
  facet::Potential pot;
  try {
    pot = facet::parse_potential(text, kSource);
  } catch (const facet::PotentialError& e) {
    if (std::string(e.what()).rfind(std::string(kSource) + ":", 0) != 0) violation("error does not name the file", e.what());
    return;
  }
  std::string again;
  try {
    again = facet::format_potential(pot);
  } catch (const facet::PotentialError& e) {
    violation("the reader accepted a potential the writer refuses", e.what());
  }
  if (!(facet::parse_potential(again, kSource) == pot)) violation("a write/read round trip changed the potential", "");
}

// The input with a correct checksum as its last line: almost every mutation breaks the checksum, and without
// this the parser behind the hash check would hardly be reached.
std::string with_valid_checksum(std::string text) {
  const auto pos = text.rfind("\nchecksum ");
  if (pos != std::string::npos) text.erase(pos + 1);
  else if (!text.empty() && text.back() != '\n') text += '\n';
  char line[40];
  std::snprintf(line, sizeof line, "checksum fnv1a64 %016llx\n",
                static_cast<unsigned long long>(facet::fnv1a64(text.data(), text.size())));
  return text + line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  check(text);
  check(with_valid_checksum(text));
  return 0;
}
