// The potential file: bit-exact round trip, and a clear error for every kind of damage.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
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
  text = replace_once(text, "facet-potential 1\n", "facet-potential 7\n");
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
