// Extended-XYZ: the ASE convention read faithfully, a bit-exact round trip, and a located error for each defect.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <sstream>

#include "model/extxyz.hpp"

using namespace facet;

namespace {

std::string error_of(const std::string& text, const ExtxyzKeys& keys = {}) {
  try {
    parse_extxyz(text, "test.xyz", keys);
  } catch (const ExtxyzError& e) {
    return e.what();
  }
  return "";
}

// The message starts with `test.xyz:<line>: ` and contains every fragment.
void expect_error(const std::string& text, size_t line, std::initializer_list<const char*> fragments) {
  const std::string msg = error_of(text);
  ASSERT_FALSE(msg.empty()) << "no error for:\n" << text;
  const std::string prefix = "test.xyz:" + std::to_string(line) + ": ";
  EXPECT_EQ(msg.rfind(prefix, 0), 0u) << "expected the prefix '" << prefix << "': " << msg;
  for (const char* f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "no '" << f << "' in: " << msg;
}

// A two-atom frame with the given comment line.
std::string frame(const std::string& comment, const std::string& atom1 = "Si 0 0 0",
                  const std::string& atom2 = "Si 1.3575 1.3575 1.3575") {
  return "2\n" + comment + "\n" + atom1 + "\n" + atom2 + "\n";
}

const std::string kCubic = "Lattice=\"5.43 0 0 0 5.43 0 0 0 5.43\"";

std::string write(const Structure& s, const ExtxyzKeys& keys = {}) {
  std::ostringstream out;
  write_extxyz(out, s, keys);
  return out.str();
}

}  // namespace

TEST(Extxyz, ReadsAnAseFrame) {
  const std::string text =
      "2\n"
      "Lattice=\"5.43 0.0 0.0 0.0 5.43 0.0 0.1 0.0 5.43\" "
      "Properties=species:S:1:pos:R:3:magmoms:R:1:tags:I:1:forces:R:3:fixed:L:1 energy=-10.5 "
      "stress=\"0.1 0.2 0.3 0.2 0.4 0.5 0.3 0.5 0.6\" config_type=\"bulk diamond\" converged pbc=\"T T F\"\n"
      "Si 0.0 0.0 0.0       0.5 3 0.1 -0.2 0.3 T\n"
      "C  1.3575 1.3575 1.3575 nan 1 -0.1 0.2 -3e-1 F\n";
  const auto frames = parse_extxyz(text, "mem.xyz");
  ASSERT_EQ(frames.size(), 1u);
  const Structure& s = frames[0];
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.species, (std::vector<std::string>{"Si", "C"}));
  EXPECT_EQ(s.positions[1], (std::array<double, 3>{1.3575, 1.3575, 1.3575}));
  // Lattice lists a, then b, then c: the rows of the cell.
  EXPECT_EQ(s.cell[0], (std::array<double, 3>{5.43, 0, 0}));
  EXPECT_EQ(s.cell[2], (std::array<double, 3>{0.1, 0, 5.43}));
  EXPECT_DOUBLE_EQ(s.volume(), 5.43 * 5.43 * 5.43);
  EXPECT_EQ(s.pbc, (std::array<bool, 3>{true, true, false}));
  ASSERT_TRUE(s.energy);
  EXPECT_EQ(*s.energy, -10.5);
  ASSERT_EQ(s.forces.size(), 2u);
  EXPECT_EQ(s.forces[0], (std::array<double, 3>{0.1, -0.2, 0.3}));
  EXPECT_EQ(s.forces[1], (std::array<double, 3>{-0.1, 0.2, -0.3}));
  ASSERT_TRUE(s.stress);
  EXPECT_EQ(*s.stress, (std::array<double, 9>{0.1, 0.2, 0.3, 0.2, 0.4, 0.5, 0.3, 0.5, 0.6}));
  // Other keys stay raw text, unquoted; a bare key is a flag.
  EXPECT_EQ(s.info, (std::map<std::string, std::string>{{"config_type", "bulk diamond"}, {"converged", "T"}}));
  EXPECT_EQ(s.source, "mem.xyz");
  EXPECT_EQ(s.line, 1u);
}

TEST(Extxyz, PlainXyzIsAMoleculeWithDefaultProperties) {
  const auto frames = parse_extxyz("3\nwater, from somewhere\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n", "w.xyz");
  ASSERT_EQ(frames.size(), 1u);
  const Structure& s = frames[0];
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.pbc, (std::array<bool, 3>{false, false, false}));
  EXPECT_EQ(s.volume(), 0.0);
  EXPECT_FALSE(s.energy);
  EXPECT_TRUE(s.forces.empty());
  EXPECT_FALSE(s.stress);
  EXPECT_EQ(s.info.count("water,"), 1u);
}

TEST(Extxyz, LatticeWithoutPbcIsPeriodicAndPbcCanSwitchItOff) {
  auto s = parse_extxyz(frame(kCubic), "m")[0];
  EXPECT_EQ(s.pbc, (std::array<bool, 3>{true, true, true}));
  s = parse_extxyz(frame(kCubic + " pbc=\"F F F\""), "m")[0];
  EXPECT_EQ(s.pbc, (std::array<bool, 3>{false, false, false}));
  EXPECT_EQ(s.cell[1][1], 5.43);
  s = parse_extxyz(frame(kCubic + " pbc=\"True False true\""), "m")[0];
  EXPECT_EQ(s.pbc, (std::array<bool, 3>{true, false, true}));
}

TEST(Extxyz, VoigtStressIsExpandedToTheFullTensor) {
  const auto s = parse_extxyz(frame(kCubic + " stress=\"1 2 3 4 5 6\""), "m")[0];
  // xx yy zz yz xz xy
  EXPECT_EQ(*s.stress, (std::array<double, 9>{1, 6, 5, 6, 2, 4, 5, 4, 3}));
}

TEST(Extxyz, VirialIsConvertedToStress) {
  const double v = 5.43 * 5.43 * 5.43;
  auto s = parse_extxyz(frame(kCubic + " virial=\"1 2 3 2 4 5 3 5 6\""), "m")[0];
  ASSERT_TRUE(s.stress);
  const std::array<double, 9> w9{1, 2, 3, 2, 4, 5, 3, 5, 6};
  for (size_t k = 0; k < 9; ++k) EXPECT_DOUBLE_EQ((*s.stress)[k], -w9[k] / v);
  EXPECT_EQ(s.info.count("virial"), 0u);
  s = parse_extxyz(frame(kCubic + " virial=\"1 4 6 5 3 2\""), "m")[0];
  for (size_t k = 0; k < 9; ++k) EXPECT_DOUBLE_EQ((*s.stress)[k], -w9[k] / v);
  // A stress wins; the virial then stays an ordinary key.
  s = parse_extxyz(frame(kCubic + " virial=\"1 2 3 2 4 5 3 5 6\" stress=\"0 0 0 0 0 0 0 0 7\""), "m")[0];
  EXPECT_EQ((*s.stress)[8], 7.0);
  EXPECT_EQ(s.info.at("virial"), "1 2 3 2 4 5 3 5 6");
}

TEST(Extxyz, LabelKeysAreConfigurable) {
  ExtxyzKeys keys;
  keys.energy = "REF_energy";
  keys.forces = "REF_forces";
  keys.stress = "REF_stress";
  const std::string text = frame(kCubic + " Properties=species:S:1:pos:R:3:REF_forces:R:3:forces:R:3 REF_energy=-3.5 "
                                          "energy=-1 REF_stress=\"1 1 1 0 0 0\"",
                                 "Si 0 0 0 1 2 3 9 9 9", "Si 1 1 1 -1 -2 -3 9 9 9");
  const auto s = parse_extxyz(text, "m", keys)[0];
  EXPECT_EQ(*s.energy, -3.5);
  EXPECT_EQ(s.forces[1], (std::array<double, 3>{-1, -2, -3}));
  EXPECT_EQ(*s.stress, (std::array<double, 9>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(s.info.at("energy"), "-1");  // not the energy key here: an ordinary key
  // The writer uses the same names, so the frame comes back under them.
  auto back = parse_extxyz(write(s, keys), "m", keys)[0];
  EXPECT_TRUE(back == s);
  // The reader with default keys sees the default columns instead.
  const auto plain = parse_extxyz(text, "m")[0];
  EXPECT_EQ(*plain.energy, -1.0);
  EXPECT_EQ(plain.forces[0][0], 9.0);
  EXPECT_FALSE(plain.stress);
}

TEST(Extxyz, CommentLineSyntax) {
  // Spaces around '=', single quotes, braces and backslash escapes, as ASE reads them.
  const auto s = parse_extxyz(frame("Lattice = {5 0 0 0 5 0 0 0 5} a='x y' b=\"say \\\"hi\\\"\" c=\"back\\\\slash\" d= e"), "m")[0];
  EXPECT_EQ(s.cell[2][2], 5.0);
  EXPECT_EQ(s.info.at("a"), "x y");
  EXPECT_EQ(s.info.at("b"), "say \"hi\"");
  EXPECT_EQ(s.info.at("c"), "back\\slash");
  EXPECT_EQ(s.info.at("d"), "e");
}

TEST(Extxyz, SeveralFramesWithLineNumbersBlankLinesAndCrlf) {
  const std::string text = "1\r\nenergy=1\r\nH 0 0 0\r\n\n\n2\r\nenergy=2\r\nH 0 0 0\r\nH 0 0 1\r\n\n";
  const auto frames = parse_extxyz(text, "m");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].line, 1u);
  EXPECT_EQ(frames[1].line, 6u);
  EXPECT_EQ(*frames[1].energy, 2.0);
  EXPECT_EQ(frames[1].positions[1][2], 1.0);
  EXPECT_TRUE(parse_extxyz("", "m").empty());
  EXPECT_TRUE(parse_extxyz("\n  \n", "m").empty());
}

TEST(Extxyz, RoundTripIsBitExact) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> exponent(-300, 300), coin(0, 1);
  const std::vector<std::string> symbols = {"H", "He", "Si", "O", "Og", "W"};
  // Values over many magnitudes, so that formatting must keep all 17 digits.
  auto value = [&](int i) { return i % 5 == 3 ? std::ldexp(normal(rng), exponent(rng)) : normal(rng); };
  std::string all;
  std::vector<Structure> written;
  for (int trial = 0; trial < 40; ++trial) {
    Structure s;
    const int n = 1 + trial % 7;
    for (int i = 0; i < n; ++i) {
      s.species.push_back(symbols[(i + trial) % symbols.size()]);
      s.positions.push_back({value(i), value(i + 1), value(i + 2)});
      if (trial % 3) s.forces.push_back({value(i), value(i), value(i)});
    }
    if (trial % 4 != 0) {
      for (auto& row : s.cell)
        for (double& x : row) x = 3 * normal(rng);
      s.pbc = {coin(rng) == 1, coin(rng) == 1, trial % 2 == 0};
    }
    if (trial % 2) s.energy = value(trial);
    if (trial % 5 != 1) {
      std::array<double, 9> st;
      for (int k = 0; k < 9; ++k) st[k] = value(k);
      s.stress = st;
    }
    s.info = {{"config_type", "bulk diamond"}, {"empty", ""}, {"quoted", "say \"hi\" = {x}"}, {"slash", "a\\b"},
              {"flag", "T"}, {"virial", "kept"}};
    if (!s.stress) s.info.erase("virial");  // without a stress the reader would take it for the label
    const std::string text = write(s);
    s.source = "m";
    s.line = 1;
    const auto back = parse_extxyz(text, "m");
    ASSERT_EQ(back.size(), 1u) << text;
    EXPECT_TRUE(back[0] == s) << text;
    EXPECT_EQ(write(back[0]), text);
    s.line = std::count(all.begin(), all.end(), '\n') + 1;
    all += text;
    written.push_back(s);
  }
  const auto frames = parse_extxyz(all, "m");
  ASSERT_EQ(frames.size(), written.size());
  for (size_t f = 0; f < frames.size(); ++f) EXPECT_TRUE(frames[f] == written[f]) << "frame " << f;
}

TEST(Extxyz, WritesTheAseLayout) {
  Structure s;
  s.species = {"Si"};
  s.positions = {{0.5, 0, -1}};
  s.cell = {{{2, 0, 0}, {0, 2, 0}, {0, 0, 2}}};
  s.pbc = {true, true, true};
  s.energy = -1.25;
  s.forces = {{0.1, 0, 0}};
  EXPECT_EQ(write(s),
            "1\nLattice=\"2 0 0 0 2 0 0 0 2\" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1.25 pbc=\"T T T\"\n"
            "Si 0.5 0 -1 0.10000000000000001 0 0\n");
}

TEST(Extxyz, ReadsAFileAndNamesAMissingOne) {
  const auto path = std::filesystem::temp_directory_path() / "facet-test-extxyz.xyz";
  {
    std::ofstream out(path);
    out << frame(kCubic + " energy=1") << frame(kCubic + " energy=2");
  }
  const auto frames = read_extxyz(path.string());
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].source, path.string());
  EXPECT_EQ(frames[1].line, 5u);
  std::filesystem::remove(path);

  try {
    read_extxyz("/nonexistent/dir/train.xyz");
    FAIL() << "no error for a missing file";
  } catch (const ExtxyzError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/nonexistent/dir/train.xyz: cannot open", 0), 0u) << e.what();
  }
}

TEST(ExtxyzErrors, AtomCountNotAPositiveInteger) {
  for (const char* count : {"abc", "0", "-2", "2.5", "2 3"}) {
    SCOPED_TRACE(count);
    expect_error(std::string(count) + "\nenergy=1\nH 0 0 0\nH 0 0 1\n", 1, {"atom count", "positive integer"});
  }
  // The second frame's count line is where the first frame's surplus atom sits.
  expect_error("1\n\nH 0 0 0\nH 0 0 1\n", 4, {"atom count", "'H 0 0 1'"});
}

TEST(ExtxyzErrors, TruncatedFrameNamesItsFirstLineAndTheAtomsFound) {
  expect_error("3\nenergy=1\nH 0 0 0\nH 0 0 1\n", 1, {"truncated", "announces 3 atoms", "only 2 follow"});
  expect_error("3\nenergy=1\nH 0 0 0\nH 0 0 1\n\n\n", 1, {"truncated", "only 2 follow"});
  expect_error("2\n", 1, {"truncated", "only 0 follow"});
  expect_error(frame("") + "4\n\nH 0 0 0\n", 5, {"truncated", "announces 4 atoms", "only 1 follow"});
}

TEST(ExtxyzErrors, WrongColumnCountNamesTheLineAndTheCountExpected) {
  expect_error(frame("Properties=species:S:1:pos:R:3:forces:R:3", "Si 0 0 0 1 1 1", "Si 0 0 0 1 1"), 4,
               {"expected 7 columns", "found 6"});
  expect_error(frame("", "Si 0 0 0 0"), 3, {"expected 4 columns", "found 5"});
  // An ignored column still counts.
  expect_error(frame("Properties=species:S:1:pos:R:3:tags:I:2", "Si 0 0 0 1 2", "Si 0 0 0 1"), 4, {"expected 6 columns"});
  // A frame with fewer atoms than announced meets the next frame's count line.
  expect_error("3\n\nH 0 0 0\nH 0 0 1\n1\n\nH 0 0 0\n", 5, {"expected 4 columns", "lone integer", "line 1", "3 atoms"});
}

TEST(ExtxyzErrors, BadNumberNamesTheLineAndTheColumn) {
  expect_error(frame("", "Si 0 x 0"), 3, {"column 'pos'", "'x'"});
  expect_error(frame("", "Si 0 0 0", "Si 0 0 1,5"), 4, {"column 'pos'", "'1,5'"});
  for (const char* bad : {"nan", "inf", "-inf", "1e999"}) {
    SCOPED_TRACE(bad);
    expect_error(frame("Properties=species:S:1:pos:R:3:forces:R:3", "Si 0 0 0 0 0 0",
                       std::string("Si 0 0 0 0 ") + bad + " 0"),
                 4, {"column 'forces'", "not a finite number"});
  }
  expect_error(frame("energy=abc"), 2, {"energy", "'abc'"});
  expect_error(frame("energy=\"1 2\""), 2, {"energy needs one number", "found 2"});
}

TEST(ExtxyzErrors, UnknownChemicalSymbol) {
  for (const char* bad : {"Xx", "si", "X", "SI", "1"}) {
    SCOPED_TRACE(bad);
    expect_error(frame("", "Si 0 0 0", std::string(bad) + " 0 0 0"), 4, {"unknown chemical symbol"});
  }
  EXPECT_EQ(error_of(frame("", "Og 0 0 0", "H 0 0 1")), "");
}

TEST(ExtxyzErrors, LatticeNeedsNineNumbers) {
  expect_error(frame("Lattice=\"1 0 0 0 1 0 0 0\""), 2, {"Lattice needs 9 numbers", "found 8"});
  expect_error(frame("Lattice=\"1 0 0 0 1 0 0 0 1 0\""), 2, {"found 10"});
  expect_error(frame("Lattice=\"1 0 0 0 1 0 0 0 z\""), 2, {"Lattice", "'z'"});
}

TEST(ExtxyzErrors, SingularCellOfAPeriodicFrame) {
  expect_error(frame("Lattice=\"1 0 0 2 0 0 0 0 1\""), 2, {"singular cell"});
  expect_error(frame("Lattice=\"5 0 0 0 5 0 0 0 0\" pbc=\"T T F\""), 2, {"singular cell"});
  expect_error(frame("pbc=\"T F F\""), 2, {"no Lattice"});
  // Not periodic: the cell is only carried along.
  EXPECT_EQ(error_of(frame("Lattice=\"0 0 0 0 0 0 0 0 0\" pbc=\"F F F\"")), "");
}

TEST(ExtxyzErrors, UnbalancedQuotes) {
  expect_error(frame("Lattice=\"5 0 0 0 5 0 0 0 5 pbc=T"), 2, {"unbalanced quotes", "Lattice"});
  expect_error(frame("a={1 2"), 2, {"unbalanced quotes"});
  expect_error(frame("a=b\"c"), 2, {"unbalanced quotes"});
  expect_error(frame("a=\"b\"c"), 2, {"continues after"});
}

TEST(ExtxyzErrors, PropertiesWithoutSpeciesOrPos) {
  expect_error(frame("Properties=pos:R:3", "0 0 0", "0 0 1"), 2, {"no 'species' column"});
  expect_error(frame("Properties=species:S:1:position:R:3"), 2, {"no 'pos' column"});
  expect_error(frame("Properties=species:S:1:pos:R:2"), 2, {"'pos' is R:2, expected R:3"});
  expect_error(frame("Properties=species:I:1:pos:R:3"), 2, {"'species' is I:1"});
  expect_error(frame("Properties=species:S:1:pos:R:3:forces:R:2"), 2, {"'forces' is R:2"});
  expect_error(frame("Properties=species:S:1:pos:R"), 2, {"triples"});
  expect_error(frame("Properties=species:S:1:pos:X:3"), 2, {"type 'X'"});
  expect_error(frame("Properties=species:S:1:pos:R:0"), 2, {"count '0'"});
  expect_error(frame("Properties=species:S:1:pos:R:3:pos:R:3"), 2, {"'pos' appears twice"});
}

TEST(ExtxyzErrors, StressOrVirialWithTheWrongCount) {
  expect_error(frame(kCubic + " stress=\"1 2 3 4 5\""), 2, {"stress needs 9 values", "found 5"});
  expect_error(frame(kCubic + " virial=\"1 2 3 4 5 6 7\""), 2, {"virial needs 9 values", "found 7"});
  expect_error(frame("virial=\"1 2 3 4 5 6\""), 2, {"virial needs a Lattice"});
}

TEST(ExtxyzErrors, OtherCommentLineDefects) {
  expect_error(frame(kCubic + " pbc=\"T T\""), 2, {"pbc needs 3"});
  expect_error(frame(kCubic + " pbc=\"T T yes\""), 2, {"'yes' is not a boolean"});
  expect_error(frame("energy=1 energy=2"), 2, {"'energy' appears twice"});
  expect_error(frame("lattice=\"5 0 0 0 5 0 0 0 5\""), 2, {"'Lattice'", "case-sensitive"});
  expect_error(frame("PBC=\"T T T\""), 2, {"'pbc'"});
  expect_error(frame("a=1 =2"), 2, {"without a key"});
}

TEST(ExtxyzWriter, RejectsWhatTheReaderWouldNotGiveBack) {
  Structure good;
  good.species = {"Si"};
  good.positions = {{0, 0, 0}};
  EXPECT_NO_THROW(write(good));
  auto rejects = [&](auto change, const char* fragment) {
    Structure s = good;
    change(s);
    try {
      write(s);
      ADD_FAILURE() << "no error: " << fragment;
    } catch (const ExtxyzError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  rejects([](Structure& s) { s.positions.push_back({1, 1, 1}); }, "positions");
  rejects([](Structure& s) { s.forces = {{0, 0, 0}, {0, 0, 0}}; }, "forces");
  rejects([](Structure& s) { s.species = {"Qq"}; }, "unknown chemical symbol");
  rejects([](Structure& s) { s.positions[0][1] = NAN; }, "non-finite");
  rejects([](Structure& s) { s.pbc = {true, false, false}; }, "singular");
  rejects([](Structure& s) { s.info["lattice"] = "1"; }, "reserved");
  rejects([](Structure& s) { s.info["energy"] = "1"; }, "reserved");
  rejects([](Structure& s) { s.info["virial"] = "1 2 3 4 5 6"; }, "reserved");
  rejects([](Structure& s) { s.info["two words"] = "1"; }, "single word");
  rejects([](Structure& s) { s.info["note"] = "a\nb"; }, "newline");
  rejects([](Structure& s) { s.species.clear(), s.positions.clear(); }, "at least one atom");
}

// Issue 6: more malformed input, each with an error naming the file and the line.

TEST(ExtxyzErrors, HugeOrGarbledAtomCounts) {
  expect_error("99999999999999999999\n\nH 0 0 0\n", 1, {"atom count", "positive integer"});
  expect_error(std::string("2\0\n\nH 0 0 0\nH 0 0 1\n", 20), 1, {"atom count"});
  // A count far beyond the input is a truncated frame, found without allocating for the count.
  expect_error("1000000000000000000\n\nH 0 0 0\n", 1, {"truncated", "announces 1000000000000000000 atoms", "only 1 follow"});
}

// Regression (tests/fuzz/regressions/extxyz/column-count-overflow.xyz): column counts whose sum wrapped around
// size_t made an atom line of 5 words pass the column check, and the reader indexed word 2^63 - 1.
TEST(ExtxyzErrors, ColumnCountsThatOverflowAreRefused) {
  expect_error(frame("Properties=a:R:9223372036854775807:species:S:1:b:R:9223372036854775807:pos:R:3:c:R:3"), 2,
               {"Properties: the columns add up to more than 1000000 per atom"});
  expect_error(frame("Properties=species:S:1:pos:R:3:tags:I:18446744073709551616"), 2, {"count '18446744073709551616'"});
  // Wide but sane rows still read.
  std::string wide = " 0";
  for (int k = 1; k < 100; ++k) wide += " 0";
  EXPECT_EQ(error_of(frame("Properties=species:S:1:pos:R:3:extra:R:100", "Si 0 0 0" + wide, "Si 1 1 1" + wide)), "");
}

TEST(ExtxyzErrors, VirialNeedsAFiniteVolume) {
  expect_error(frame("Lattice=\"1e200 0 0 0 1e200 0 0 0 1e200\" pbc=\"F F F\" virial=\"1 2 3 4 5 6\""), 2,
               {"virial needs a Lattice with a finite non-zero volume"});
  // Found by fuzz_extxyz: a finite virial over a tiny volume overflowed to an infinite stress the writer refuses.
  const std::string tiny = "0.0009765625";  // 2^-10 A: the volume 2^-30 A^3 prints exactly
  expect_error(frame("Lattice=\"" + tiny + " 0 0 0 " + tiny + " 0 0 0 " + tiny + "\" pbc=\"F F F\" virial=\"1e300 0 0 0 1 0 0 0 1\""),
               2, {"virial / volume (9.3132257461547852e-10 Å^3) is not a finite stress"});
}

TEST(ExtxyzErrors, DirectoryIsNotReadAsAnEmptyFile) {
  const auto dir = std::filesystem::temp_directory_path().string();
  try {
    read_extxyz(dir);
    FAIL() << "no error for a directory (it used to read as a file with no frames)";
  } catch (const ExtxyzError& e) {
    EXPECT_EQ(std::string(e.what()), dir + ": is a directory, not the extended-XYZ file");
  }
}

TEST(Extxyz, SubnormalAndSignedNumbersRead) {
  const auto s = parse_extxyz(frame("energy=+1.5", "Si 4.9406564584124654e-324 0 -0", "Si +1 2 3"), "m")[0];
  EXPECT_EQ(s.positions[0][0], 4.9406564584124654e-324);
  EXPECT_EQ(s.positions[1][0], 1.0);
  EXPECT_EQ(*s.energy, 1.5);
}
