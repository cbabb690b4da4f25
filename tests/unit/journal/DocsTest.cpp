// docs/journal.md against the code: every event, warning (`what`) and fallback that
// the daemon's source writes is documented there, so that the closed sets an operator
// reads cannot fall behind what ORK says.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "ork/cli/Top.h"

namespace ork::journal {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = fs::path(ORK_FIXTURES) / ".." / "..";

std::string readText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The text from open (just after a '(') to its matching ')'.
std::string callArgs(const std::string& src, std::size_t open) {
  int depth = 1;
  std::size_t i = open;
  for (; i < src.size() && depth > 0; ++i) {
    if (src[i] == '"') {
      for (++i; i < src.size() && src[i] != '"'; ++i)
        if (src[i] == '\\') ++i;
    } else if (src[i] == '(') {
      ++depth;
    } else if (src[i] == ')') {
      --depth;
    }
  }
  return src.substr(open, i - open);
}

// The string literals in text that are words ("[a-z][a-z0-9_]*"). No <regex>: GCC 12
// warns inside it under ASan, and the sanitizer pass builds this test.
std::vector<std::string> literals(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t i = text.find('"'); i != std::string::npos; i = text.find('"', i + 1)) {
    const std::size_t close = text.find('"', i + 1);
    if (close == std::string::npos) break;
    const std::string lit = text.substr(i + 1, close - i - 1);
    if (!lit.empty() && lit[0] >= 'a' && lit[0] <= 'z' &&
        lit.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos)
      out.push_back(lit);
    i = close;
  }
  return out;
}

bool isIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct Said {
  std::set<std::string> events, whats, fallbacks;
};

Said scanSources() {
  Said s;
  for (const auto& e : fs::recursive_directory_iterator(kRoot / "src" / "ork")) {
    if (e.path().extension() != ".cpp") continue;
    const std::string src = readText(e.path());
    // A line made: `Line(` or `Line name(`, the word Line standing alone.
    for (std::size_t at = src.find("Line"); at != std::string::npos;
         at = src.find("Line", at + 4)) {
      if ((at > 0 && isIdentChar(src[at - 1])) || (at + 4 < src.size() && isIdentChar(src[at + 4])))
        continue;
      std::size_t i = at + 4;
      if (i < src.size() && src[i] == ' ') {
        ++i;
        if (i >= src.size() || src[i] < 'a' || src[i] > 'z') continue;
        while (i < src.size() && isIdentChar(src[i])) ++i;
      }
      if (i >= src.size() || src[i] != '(') continue;
      for (const auto& l : literals(callArgs(src, i + 1))) s.events.insert(l);
    }
    // word("what", ...) and word("fallback", ...): the key, then the value's literals.
    for (std::size_t at = src.find("word(\""); at != std::string::npos;
         at = src.find("word(\"", at + 5)) {
      const auto values = literals(callArgs(src, at + 5));
      if (values.size() < 2) continue;
      if (values[0] == "what")
        s.whats.insert(values[1]);
      else if (values[0] == "fallback")
        s.fallbacks.insert(values.begin() + 1, values.end());
    }
  }
  return s;
}

TEST(JournalDocsTest, EveryEventWarningAndFallbackIsDocumented) {
  const std::string doc = readText(kRoot / "docs" / "journal.md");
  ASSERT_FALSE(doc.empty());
  const Said said = scanSources();
  // The scan finds what it must (a broken scan would pass everything).
  for (const char* e : {"start", "kill", "would_kill", "state", "suppressed"})
    EXPECT_TRUE(said.events.count(e)) << e;
  EXPECT_TRUE(said.whats.count("mirror_dropped"));
  EXPECT_TRUE(said.fallbacks.count("psi_2s_window") && said.fallbacks.count("stderr"));
  for (const auto& e : said.events)
    EXPECT_NE(doc.find("| `" + e + "` |"), std::string::npos) << "event " << e;
  for (const auto& w : said.whats)
    EXPECT_NE(doc.find("`" + w + "`"), std::string::npos) << "warning what=" << w;
  // Each fallback in the closed set of fallbacks.
  const auto set = doc.find("- `fallback`");
  ASSERT_NE(set, std::string::npos) << "no closed set of fallbacks";
  const std::string fallbacks = doc.substr(set, doc.find("\n- ", set + 1) - set);
  for (const auto& f : said.fallbacks)
    EXPECT_NE(fallbacks.find("`" + f + "`"), std::string::npos) << "fallback " << f;
}

// The docs' statements of issue 16, each against what it describes.
TEST(JournalDocsTest, StatementsMatchBehaviour) {
  const std::string journal = readText(kRoot / "docs" / "journal.md");
  const std::string unit = readText(kRoot / "packaging" / "ork.service");
  const std::string scoring = readText(kRoot / "docs" / "scoring.md");
  const std::string architecture = readText(kRoot / "docs" / "architecture.md");
  // The unit passes --quiet: journal.md must not send the reader to stderr for it.
  const auto exec = unit.find("\nExecStart=");
  ASSERT_NE(exec, std::string::npos);
  const bool quiet =
      unit.substr(exec, unit.find('\n', exec + 1) - exec).find(" --quiet") != std::string::npos;
  EXPECT_EQ(journal.find("The systemd unit passes `--quiet`") != std::string::npos, quiet);
  EXPECT_EQ(journal.find("so the\nsystemd journal has them too"), std::string::npos);
  // `ork top` shows the best N candidates by default, not every one.
  EXPECT_NE(
      scoring.find("prints the best " + std::to_string(cli::TopOptions{}.limit) + " candidates"),
      std::string::npos);
  // The idle RSS is measured in benchmarks.md, not frozen in architecture.md.
  EXPECT_EQ(architecture.find("MiB RSS idle"), std::string::npos);
  EXPECT_NE(architecture.find("docs/benchmarks.md"), std::string::npos);
}

// Every .md file the README and docs/ name is in the repository (a clone has it).
TEST(JournalDocsTest, NamedDocumentsExistInTheRepository) {
  std::vector<fs::path> docs = {kRoot / "README.md"};
  for (const auto& e : fs::directory_iterator(kRoot / "docs"))
    if (e.path().extension() == ".md") docs.push_back(e.path());
  for (const auto& d : docs) {
    const std::string text = readText(d);
    // Each "<path>.md": the path's characters before the ".md".
    for (std::size_t at = text.find(".md"); at != std::string::npos;
         at = text.find(".md", at + 3)) {
      if (at + 3 < text.size() && isIdentChar(text[at + 3])) continue;
      std::size_t b = at;
      while (b > 0 && (isIdentChar(text[b - 1]) || text[b - 1] == '.' || text[b - 1] == '/' ||
                       text[b - 1] == '-'))
        --b;
      const std::string name = text.substr(b, at + 3 - b);
      if (name == ".md") continue;
      // In the repository: not beside it (../shared/... exists on the lab's machine only).
      const std::string root = fs::weakly_canonical(kRoot).string() + "/";
      auto inRepo = [&](const fs::path& p) {
        return fs::exists(p) && fs::weakly_canonical(p).string().rfind(root, 0) == 0;
      };
      const bool found =
          inRepo(kRoot / name) || inRepo(kRoot / "docs" / name) || inRepo(d.parent_path() / name);
      EXPECT_TRUE(found) << d.filename() << " names " << name << ", which a clone does not have";
    }
  }
}

}  // namespace
}  // namespace ork::journal
