// libFuzzer target for the extended-XYZ reader (docs/robustness.md). Any input must either parse or throw
// ExtxyzError starting with `fuzz.xyz:<line>: `; the frames of an input that parses must be written by the writer
// and read back unchanged (what the reader accepts is a structure the format can express). Anything else aborts,
// which libFuzzer reports with the input that caused it.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "model/extxyz.hpp"

namespace {

constexpr const char* kSource = "fuzz.xyz";

[[noreturn]] void violation(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_extxyz: %s: %s\n", what, detail.c_str());
  std::abort();
}

bool names_file_and_line(const std::string& msg) {
  const std::string prefix = std::string(kSource) + ":";
  return msg.rfind(prefix, 0) == 0 && msg.size() > prefix.size() &&
         std::isdigit(static_cast<unsigned char>(msg[prefix.size()]));
}

// Exceptions other than ExtxyzError are not caught: libFuzzer reports them as crashes.
void check(const std::string& text) {
  std::vector<facet::Structure> frames;
  try {
    frames = facet::parse_extxyz(text, kSource);
  } catch (const facet::ExtxyzError& e) {
    if (!names_file_and_line(e.what())) violation("error does not name the file and line", e.what());
    return;
  }
  std::ostringstream out;
  for (const auto& s : frames) {
    try {
      facet::write_extxyz(out, s);
    } catch (const facet::ExtxyzError& e) {
      violation("the reader accepted a frame the writer refuses", e.what());
    }
  }
  auto back = facet::parse_extxyz(out.str(), kSource);
  if (back.size() != frames.size()) violation("a write/read round trip changed the number of frames", out.str());
  for (size_t f = 0; f < frames.size(); ++f) {
    back[f].line = frames[f].line;  // the rewritten text has its own line numbers
    if (!(back[f] == frames[f])) violation("a write/read round trip changed a frame", out.str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
