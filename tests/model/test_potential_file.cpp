// The potential file: bit-exact round trip, and a clear error for every kind of damage.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "model/potential.hpp"

using namespace facet;

namespace {

ModelHyperparameters small_hyperparameters() {
  ModelHyperparameters hp;
  hp.elements = {"Si", "O"};
  hp.r_cut = 4.5;
  hp.channels = 3;
  hp.grid_channels = 2;
  hp.grid_hidden = 3;
  hp.readout_hidden = 2;
  hp.radial_basis = 5;
  hp.grid_theta = 4;
  hp.grid_phi = 7;
  hp.avg_num_neighbors = 11.25;
  hp.energy_scale = 0.7;
  hp.atomic_energies = {-158.25, -432.0 / 3.0};
  return hp;
}

// Values spread over many magnitudes, so that formatting must keep all 17 digits.
Potential random_potential(const ModelHyperparameters& hp, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> exponent(-300, 300);
  Potential pot;
  pot.hyper = hp;
  pot.meta = {{"trained_on", "data/si.xyz (120 frames)"}, {"seed", "7"}};
  for (const auto& [name, shape] : expected_arrays(hp)) {
    Array a;
    a.shape = shape;
    for (int64_t i = 0; i < a.size(); ++i)
      a.values.push_back(i % 7 == 3 ? std::ldexp(normal(rng), exponent(rng)) : normal(rng));
    pot.arrays[name] = a;
  }
  return pot;
}

// Replaces the checksum so that a deliberately edited text passes the hash and reaches the parser.
std::string rehash(std::string text) {
  text.erase(text.rfind("checksum "));
  char buf[40];
  std::snprintf(buf, sizeof buf, "checksum fnv1a64 %016llx\n",
                static_cast<unsigned long long>(fnv1a64(text.data(), text.size())));
  return text + buf;
}

std::string error_of(const std::string& text) {
  try {
    parse_potential(text, "test.facet");
  } catch (const PotentialError& e) {
    return e.what();
  }
  return "";
}

// The error of reading `text` from a file on disk, which must name the file.
std::string file_error_of(const std::string& text) {
  const auto path = (std::filesystem::temp_directory_path() / "facet-test-bad.facet").string();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::string msg;
  try {
    read_potential(path);
  } catch (const PotentialError& e) {
    msg = e.what();
  }
  std::filesystem::remove(path);
  EXPECT_EQ(msg.rfind(path + ":", 0), 0u) << "the message does not start with the file name: " << msg;
  return msg;
}

// The smallest model: one element, one channel, one layer, degree 0 (about 1 kB of text).
Potential minimal_potential() {
  ModelHyperparameters hp;
  hp.elements = {"Si"};
  hp.l_max = hp.l_edge = 0;
  hp.channels = hp.layers = hp.grid_channels = hp.grid_hidden = hp.readout_hidden = 1;
  hp.radial_basis = 4;
  hp.grid_theta = hp.grid_phi = 1;
  hp.atomic_energies = {-4.1};
  return random_potential(hp, 11);
}

bool contains(const std::string& msg, const std::string& fragment) { return msg.find(fragment) != std::string::npos; }

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return text.replace(pos, from.size(), to);
}

}  // namespace

TEST(CouplingPaths, ElevenNaturalParityPathsForDegreeTwo) {
  const auto paths = coupling_paths(2, 2);
  EXPECT_EQ(paths.size(), 11u);
  for (const auto& p : paths) {
    EXPECT_EQ((p.l_in + p.l_edge + p.l_out) % 2, 0);
    EXPECT_LE(std::abs(p.l_in - p.l_edge), p.l_out);
    EXPECT_LE(p.l_out, p.l_in + p.l_edge);
  }
  EXPECT_EQ(paths.front(), (CouplingPath{0, 0, 0}));
  EXPECT_EQ(paths.back(), (CouplingPath{2, 2, 2}));
  // The cross-product-like path 1 x 1 -> 1 breaks parity and is excluded.
  for (const auto& p : paths) EXPECT_FALSE(p.l_in == 1 && p.l_edge == 1 && p.l_out == 1);
}

TEST(PotentialFile, RoundTripIsBitExact) {
  for (auto tp : {TensorProduct::gaunt, TensorProduct::cg}) {
    auto hp = small_hyperparameters();
    hp.tensor_product = tp;
    const Potential pot = random_potential(hp, 42);
    const std::string text = format_potential(pot);
    const Potential back = parse_potential(text, "mem");
    EXPECT_TRUE(back == pot);  // operator== compares every double bit for bit (no NaNs present)
    EXPECT_EQ(format_potential(back), text);
  }
}

TEST(PotentialFile, RepulsionRoundTripsAndVersionOneFilesHaveNone) {
  auto hp = small_hyperparameters();
  hp.repulsion = Repulsion::zbl;
  hp.repulsion_radii = {1.11, 0.66};
  const Potential pot = random_potential(hp, 43);
  const std::string text = format_potential(pot);
  EXPECT_TRUE(contains(text, "\nrepulsion zbl 1.1100000000000001 0.66000000000000003\n")) << text.substr(0, 600);
  EXPECT_TRUE(parse_potential(text, "mem") == pot);

  // A version-1 file (no repulsion line) reads as a model without repulsion.
  const Potential plain = random_potential(small_hyperparameters(), 44);
  std::string v1 = replace_once(format_potential(plain), "facet-potential 2\n", "facet-potential 1\n");
  v1 = replace_once(v1, "repulsion none\n", "");
  const Potential back = parse_potential(rehash(v1), "v1.facet");
  EXPECT_EQ(back.hyper.repulsion, Repulsion::none);
  EXPECT_TRUE(back == plain);
  // ... and a repulsion line in a version-1 file is out of place.
  const auto msg = error_of(rehash(replace_once(format_potential(pot), "facet-potential 2\n", "facet-potential 1\n")));
  EXPECT_TRUE(contains(msg, "expected 'array embedding <rank> <dims>', found 'repulsion'")) << msg;
}

TEST(PotentialFileErrors, BadRepulsionLinesNameTheLineAndCause) {
  auto hp = small_hyperparameters();
  hp.repulsion = Repulsion::zbl;
  hp.repulsion_radii = {1.11, 0.66};
  const std::string good = format_potential(random_potential(hp, 45));
  const std::string line = "repulsion zbl 1.1100000000000001 0.66000000000000003";
  const size_t pos = good.find(line);
  ASSERT_NE(pos, std::string::npos);
  const std::string line_no = std::to_string(std::count(good.begin(), good.begin() + pos, '\n') + 1);
  struct Case {
    std::string to, expected;
  };
  const std::vector<Case> cases = {
      {"repulsion zbl 1.11", "'repulsion zbl' needs 2 radii (one per element), found 1"},
      {"repulsion zbl 1.11 0.66 0.5", "'repulsion zbl' needs 2 radii (one per element), found 3"},
      {"repulsion zbl 1.11 x", "repulsion: 'x' is not a number"},
      {"repulsion zbl 1.11 -0.66", "the radius of O must be positive"},
      {"repulsion zbl 2.5 0.66", "the radii of Si and Si add up to 5 Å, beyond r_cut 4.5 Å"},
      {"repulsion lj 1 2", "repulsion 'lj': expected 'none' or 'zbl'"},
      {"repulsion none 1.11 0.66", "'repulsion none' takes no values"},
      {"repulsion", "'repulsion' needs 'none' or 'zbl <one radius per element>'"},
      {"repulse zbl 1.11 0.66", "expected key 'repulsion', found 'repulse'"},
  };
  for (const auto& c : cases) {
    const auto msg = error_of(rehash(replace_once(good, line, c.to)));
    EXPECT_TRUE(contains(msg, "test.facet:" + line_no + ": ")) << c.to << ": " << msg;
    EXPECT_TRUE(contains(msg, c.expected)) << c.to << ": " << msg;
  }
}

TEST(PotentialFile, WriteAndReadFile) {
  const Potential pot = random_potential(small_hyperparameters(), 1);
  const auto path = std::filesystem::temp_directory_path() / "facet-test-roundtrip.facet";
  write_potential(pot, path.string());
  EXPECT_TRUE(read_potential(path.string()) == pot);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  std::filesystem::remove(path);
}

TEST(PotentialFile, MissingFileNamesThePath) {
  const std::string msg = [] {
    try {
      read_potential("/nonexistent/dir/Si.facet");
    } catch (const PotentialError& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_NE(msg.find("/nonexistent/dir/Si.facet: cannot open"), std::string::npos) << msg;
}

TEST(PotentialFile, TruncationAtEveryByteIsAnError) {
  const std::string text = format_potential(random_potential(small_hyperparameters(), 3));
  const size_t first_line = text.find('\n') + 1;
  for (size_t cut = 0; cut < text.size(); ++cut) {
    const std::string msg = error_of(text.substr(0, cut));
    ASSERT_FALSE(msg.empty()) << "no error for a file cut at byte " << cut;
    ASSERT_EQ(msg.rfind("test.facet", 0), 0u) << msg;
    if (cut == 0) {
      EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
    }
    if (cut > first_line) {
      ASSERT_NE(msg.find("truncated"), std::string::npos) << "cut at " << cut << ": " << msg;
    }
  }
}

TEST(PotentialFile, CorruptionIsACheckSumMismatch) {
  std::string text = format_potential(random_potential(small_hyperparameters(), 4));
  const size_t pos = text.find("array layer1.radial");
  ASSERT_NE(pos, std::string::npos);
  const size_t digit = text.find_first_of("123456789", text.find('\n', pos));
  text[digit] = text[digit] == '9' ? '8' : static_cast<char>(text[digit] + 1);
  EXPECT_NE(error_of(text).find("checksum mismatch"), std::string::npos) << error_of(text);
}

TEST(PotentialFile, NewerVersionIsRefusedByName) {
  std::string text = format_potential(random_potential(small_hyperparameters(), 5));
  text = replace_once(text, "facet-potential 2\n", "facet-potential 7\n");
  const auto msg = error_of(rehash(text));
  EXPECT_NE(msg.find("format version 7 is newer"), std::string::npos) << msg;
}

TEST(PotentialFile, WrongMagic) {
  const auto msg = error_of("# a LAMMPS eam file\n1 2 3\n");
  EXPECT_NE(msg.find("test.facet:1: not a facet potential file"), std::string::npos) << msg;
}

TEST(PotentialFile, BadContentNamesLineAndCause) {
  const std::string good = format_potential(random_potential(small_hyperparameters(), 6));
  struct Case {
    std::string from, to, expected;
  };
  const std::vector<Case> cases = {
      {"units metal", "units real", ":5: units 'real': facet potentials use LAMMPS 'metal' units"},
      {"tensor_product gaunt", "tensor_product fft", "tensor_product 'fft': expected 'gaunt' or 'cg'"},
      {"elements 2 Si O", "elements 3 Si O", "'elements' says 3 element(s) but lists 2"},
      {"elements 2 Si O", "elements 2 Si Si", "'Si' appears twice"},
      {"r_cut 4.5", "r_cut abc", "r_cut: 'abc' is not a number"},
      {"r_cut 4.5", "r_cut nan", "r_cut: value 'nan' is not finite"},
      {"channels 3", "channel 3", "expected key 'channels', found 'channel'"},
      {"grid 4 7", "grid 2 7", "does not resolve l_max"},
      {"array layer0.up 3 3 3 3", "array layer0.up 3 3 2 3", "array 'layer0.up' has shape 3x2x3, expected 3x3x3"},
      {"array layer0.mid", "array layer0.middle", "expected array 'layer0.mid', found 'layer0.middle'"},
      {"\nend\n", "\n1.5\nend\n", "expected 'end', found '1.5'"},
  };
  for (const auto& c : cases) {
    const auto msg = error_of(rehash(replace_once(good, c.from, c.to)));
    EXPECT_NE(msg.find(c.expected), std::string::npos) << c.from << " -> " << c.to << ": " << msg;
    EXPECT_EQ(msg.rfind("test.facet:", 0), 0u) << msg;  // names the file and the line
  }
}

TEST(PotentialFile, NonFiniteWeightIsAnErrorWithItsLine) {
  std::string text = format_potential(random_potential(small_hyperparameters(), 8));
  const size_t head = text.find("array layer0.grid_b1");
  const size_t line_start = text.find('\n', head) + 1;
  const size_t value_end = text.find_first_of(" \n", line_start);
  text.replace(line_start, value_end - line_start, "inf");
  const size_t line_no = std::count(text.begin(), text.begin() + line_start, '\n') + 1;
  const auto msg = error_of(rehash(text));
  EXPECT_NE(msg.find("test.facet:" + std::to_string(line_no) + ": array 'layer0.grid_b1': value 'inf' is not finite"),
            std::string::npos)
      << msg;
}

TEST(PotentialFile, WriterRefusesInconsistentPotentials) {
  Potential pot = random_potential(small_hyperparameters(), 9);
  pot.arrays["layer0.up"].values[0] = std::nan("");
  EXPECT_THROW(format_potential(pot), PotentialError);
  pot = random_potential(small_hyperparameters(), 9);
  pot.arrays.erase("readout.b1");
  EXPECT_THROW(format_potential(pot), PotentialError);
  pot = random_potential(small_hyperparameters(), 9);
  pot.hyper.atomic_energies.pop_back();
  EXPECT_THROW(format_potential(pot), PotentialError);
}

// Issue 6: every kind of bad input gets an error naming the file, the line where there is one, and the cause.

TEST(PotentialFileErrors, EmptyFileOnDisk) {
  const auto msg = file_error_of("");
  EXPECT_TRUE(contains(msg, ": the file is empty")) << msg;
}

TEST(PotentialFileErrors, DirectoryIsNotReadAsAnEmptyFile) {
  const auto dir = std::filesystem::temp_directory_path().string();
  try {
    read_potential(dir);
    FAIL() << "no error for a directory";
  } catch (const PotentialError& e) {
    EXPECT_EQ(std::string(e.what()), dir + ": is a directory, not the potential file");
  }
}

// Every prefix of a small valid file, read from disk: an error naming the file and saying "truncated" with the
// line the content ends after (or "empty" / the magic line for the first bytes), never a potential.
TEST(PotentialFileErrors, TruncatedFileOnDiskAtEveryByte) {
  const std::string text = format_potential(minimal_potential());
  ASSERT_LT(text.size(), 2000u);
  const size_t first_line = text.find('\n') + 1;
  for (size_t cut = 0; cut < text.size(); ++cut) {
    const std::string part = text.substr(0, cut);
    const std::string msg = file_error_of(part);
    ASSERT_FALSE(msg.empty()) << "no error for the file cut at byte " << cut;
    if (cut == 0) {
      EXPECT_TRUE(contains(msg, "the file is empty")) << msg;
    } else if (cut < first_line) {
      // "facet-potent" or "facet-potential " is no magic line; "facet-potential 2" without its newline is.
      EXPECT_TRUE(contains(msg, ":1: not a facet potential file") || contains(msg, ":1: bad format version") ||
                  contains(msg, ": truncated: no 'checksum' line"))
          << "cut at " << cut << ": " << msg;
    } else {
      const std::string lines = std::to_string(std::count(part.begin(), part.end(), '\n'));
      ASSERT_TRUE(contains(msg, ": truncated: no 'checksum' line (the file ends after line " + lines + ")") ||
                  contains(msg, ": truncated: the checksum line is incomplete"))
          << "cut at " << cut << ": " << msg;
    }
  }
}

TEST(PotentialFileErrors, BadVersionNamesTheLineAndTheValue) {
  const std::string good = format_potential(minimal_potential());
  for (const char* version : {"0", "-1", "1.0", "one", "0x1", "99999999999999999999"}) {
    const auto msg = error_of(rehash(replace_once(good, "facet-potential 2\n", std::string("facet-potential ") + version + "\n")));
    EXPECT_EQ(msg, std::string("test.facet:1: bad format version '") + version + "'");
  }
  const auto msg = error_of(rehash(replace_once(good, "facet-potential 2\n", "facet-potential 3\n")));
  EXPECT_EQ(msg, "test.facet: format version 3 is newer than this facet-lammps reads (2): update facet-lammps");
  // A missing version is no magic line at all.
  EXPECT_TRUE(contains(error_of(rehash(replace_once(good, "facet-potential 2\n", "facet-potential\n"))),
                       "test.facet:1: not a facet potential file"));
}

TEST(PotentialFileErrors, MalformedChecksumLine) {
  const std::string good = format_potential(minimal_potential());
  const size_t cs = good.rfind("checksum ");
  for (const char* line : {"checksum crc32 0123456789abcdef\n", "checksum fnv1a64 0123\n", "checksum fnv1a64\n"}) {
    const auto msg = error_of(good.substr(0, cs) + line);
    EXPECT_TRUE(contains(msg, "test.facet: malformed checksum line")) << line << msg;
  }
  EXPECT_TRUE(contains(error_of(good + "end\n"), "test.facet: malformed checksum line")) << error_of(good + "end\n");
  // Text after the checksum line would not be covered by it.
  const auto msg = error_of(good + "# appended\n");
  EXPECT_TRUE(contains(msg, "malformed checksum line (expected 'checksum fnv1a64 <16 hex digits>' as the last line)"))
      << msg;
}

TEST(PotentialFileErrors, EveryNonFiniteOrUnreadableWeightNamesItsLine) {
  const std::string good = format_potential(random_potential(small_hyperparameters(), 8));
  const size_t head = good.find("array layer1.msg");
  const size_t line_start = good.find('\n', head) + 1;
  const size_t value_end = good.find_first_of(" \n", line_start);
  const std::string where = "test.facet:" + std::to_string(std::count(good.begin(), good.begin() + line_start, '\n') + 1) +
                            ": array 'layer1.msg': ";
  struct Case {
    std::string value, cause;
  };
  for (const Case& c : std::vector<Case>{{"nan", "value 'nan' is not finite"},
                                         {"-nan", "value '-nan' is not finite"},
                                         {"-inf", "value '-inf' is not finite"},
                                         {"infinity", "value 'infinity' is not finite"},
                                         {"1e999", "value '1e999' is out of the range of a double"},
                                         {"0x1p3", "'0x1p3' is not a number"},
                                         {"1,5", "'1,5' is not a number"},
                                         {"--1", "'--1' is not a number"}}) {
    std::string text = good;
    text.replace(line_start, value_end - line_start, c.value);
    EXPECT_EQ(error_of(rehash(text)), where + c.cause);
  }
}

// Regression (found while fuzzing, tests/fuzz/regressions/potential/subnormal-weight.facet): the strtod-based
// reader refused subnormal values, which the writer writes, so a trained potential could fail to load.
TEST(PotentialFile, SubnormalAndSignedValuesReadBack) {
  Potential pot = minimal_potential();
  pot.arrays["layer0.up"].values[0] = 4.9406564584124654e-324;
  pot.arrays["layer0.mid"].values[0] = -2.2250738585072009e-308;
  EXPECT_TRUE(parse_potential(format_potential(pot), "mem") == pot);
  const std::string text = rehash(replace_once(format_potential(minimal_potential()), "r_cut 5", "r_cut +5.5"));
  EXPECT_EQ(parse_potential(text, "mem").hyper.r_cut, 5.5);
}

TEST(PotentialFileErrors, UnknownElementNamesTheElementsLine) {
  const std::string good = format_potential(random_potential(small_hyperparameters(), 12));
  for (const char* bad : {"Xx", "si", "SI", "X", "NULL", "1"}) {
    const auto msg = error_of(rehash(replace_once(good, "elements 2 Si O", std::string("elements 2 Si ") + bad)));
    EXPECT_EQ(msg, std::string("test.facet:6: '") + bad + "' is not a chemical element symbol (spelt like 'Si')");
  }
  // The writer (and the trainer, through validate) refuses them too.
  Potential pot = random_potential(small_hyperparameters(), 12);
  pot.hyper.elements[1] = "Oo";
  try {
    format_potential(pot);
    FAIL() << "no error";
  } catch (const PotentialError& e) {
    EXPECT_TRUE(contains(e.what(), "elements: 'Oo' is not a chemical element symbol")) << e.what();
  }
}

TEST(PotentialFileErrors, MissingExtraAndShortArraysAreNamed) {
  const std::string good = format_potential(random_potential(small_hyperparameters(), 13));
  // An array removed from the middle: the next one is found in its place.
  const size_t b1 = good.find("array readout.b1"), w2 = good.find("array readout.w2");
  auto msg = error_of(rehash(good.substr(0, b1) + good.substr(w2)));
  EXPECT_TRUE(contains(msg, ": expected array 'readout.b1', found 'readout.w2'")) << msg;
  // The last array removed: 'end' comes where it should be.
  const size_t end = good.rfind("end\n");
  msg = error_of(rehash(good.substr(0, w2) + good.substr(end)));
  EXPECT_TRUE(contains(msg, ": expected 'array readout.w2 <rank> <dims>', found 'end'")) << msg;
  // One array too many.
  msg = error_of(rehash(good.substr(0, end) + "array readout.extra 1 1\n0.5\n" + good.substr(end)));
  EXPECT_TRUE(contains(msg, ": unexpected array 'readout.extra'")) << msg;
  // An array with a value missing runs into the next header.
  const size_t b1_values = good.find('\n', b1) + 1;  // the line "<value> <value>"
  msg = error_of(rehash(good.substr(0, good.find(' ', b1_values)) + good.substr(good.find('\n', b1_values))));
  EXPECT_TRUE(contains(msg, ": array 'readout.b1' has 1 of its 2 values before 'array'")) << msg;
  // A value too many.
  msg = error_of(rehash(replace_once(good, "\nend\n", " 1.5\nend\n")));
  EXPECT_TRUE(contains(msg, ": array 'readout.w2' has more than its 2 values")) << msg;
}

TEST(PotentialFileErrors, ArrayHeaderDefects) {
  const std::string good = format_potential(random_potential(small_hyperparameters(), 14));
  struct Case {
    std::string from, to, expected;
  };
  for (const Case& c : std::vector<Case>{
           {"array layer0.up 3 3 3 3", "array layer0.up 2 3 3 3", "array 'layer0.up': rank 2 does not match the 3 dimension(s) given"},
           {"array layer0.up 3 3 3 3", "array layer0.up 3 3 3 x", "array dimension: 'x' is not an integer"},
           {"array layer0.up 3 3 3 3", "array layer0.up", "expected 'array layer0.up <rank> <dims>', found 'array'"},
           {"array layer0.up 3 3 3 3", "array layer0.up 1 27", "array 'layer0.up' has shape 27, expected 3x3x3"},
           {"array layer0.up 3 3 3 3", "aray layer0.up 3 3 3 3", "expected 'array layer0.up <rank> <dims>', found 'aray'"},
       }) {
    const auto msg = error_of(rehash(replace_once(good, c.from, c.to)));
    EXPECT_TRUE(contains(msg, c.expected)) << c.to << ": " << msg;
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(msg[std::string("test.facet:").size()]))) << "no line: " << msg;
  }
}

// Regressions for hyperparameters that a small file can state but not hold (tests/fuzz/regressions/potential).
TEST(PotentialFileErrors, OutOfRangeHyperparametersDoNotWrapOrExhaustMemory) {
  const std::string good = format_potential(minimal_potential());
  // 2^32 + 1 used to wrap to 1 in a cast to int, and the grid was read as 1 x 1 without a word.
  auto msg = error_of(rehash(replace_once(good, "grid 1 1", "grid 4294967297 1")));
  EXPECT_TRUE(contains(msg, "test.facet:17: grid: 4294967297 is out of range")) << msg;
  msg = error_of(rehash(replace_once(good, "channels 1", "channels 2147483648")));
  EXPECT_TRUE(contains(msg, "test.facet:10: channels: 2147483648 is out of range")) << msg;
  // A million layers used to list 8 million array names (about a minute and a GB) before finding the file short.
  msg = error_of(rehash(replace_once(good, "layers 1", "layers 1000000")));
  EXPECT_TRUE(contains(msg, "test.facet: truncated: 'layers 1000000' needs 8000004 arrays, only 25 lines follow (the content ends after line 47)")) << msg;
  // A million channels: the first array wants 10^6 values; the reader used to reserve them all up front.
  std::string text = replace_once(good, "channels 1\n", "channels 1000000\n");
  text = replace_once(text, "array embedding 2 1 1\n", "array embedding 2 1 1000000\n");
  msg = error_of(rehash(text));
  EXPECT_TRUE(contains(msg, ": array 'embedding' has 1 of its 1000000 values before 'array'")) << msg;
}
