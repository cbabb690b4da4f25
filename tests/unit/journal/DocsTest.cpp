// docs/journal.md against the code: every event, warning (`what`) and fallback that
// the daemon's source writes is documented there, so that the closed sets an operator
// reads cannot fall behind what ORK says.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
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

std::vector<std::string> literals(const std::string& text) {
  std::vector<std::string> out;
  static const std::regex lit(R"re("([a-z][a-z0-9_]*)")re");
  for (std::sregex_iterator it(text.begin(), text.end(), lit), end; it != end; ++it)
    out.push_back((*it)[1]);
  return out;
}

struct Said {
  std::set<std::string> events, whats, fallbacks;
};

Said scanSources() {
  Said s;
  static const std::regex line(R"(\bLine(\s+[a-z]\w*)?\()");
  static const std::regex keyed(R"re(word\("(what|fallback)",\s*)re");
  for (const auto& e : fs::recursive_directory_iterator(kRoot / "src" / "ork")) {
    if (e.path().extension() != ".cpp") continue;
    const std::string src = readText(e.path());
    for (std::sregex_iterator it(src.begin(), src.end(), line), end; it != end; ++it)
      for (const auto& l :
           literals(callArgs(src, static_cast<std::size_t>(it->position() + it->length()))))
        s.events.insert(l);
    for (std::sregex_iterator it(src.begin(), src.end(), keyed), end; it != end; ++it) {
      // The arguments of word(...): the key, then the value's literals.
      const auto values = literals(callArgs(src, static_cast<std::size_t>(it->position()) + 5));
      if (values.size() < 2) continue;
      if ((*it)[1] == "what")
        s.whats.insert(values[1]);
      else
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
  static const std::regex named(R"(([A-Za-z0-9_./-]+)\.md\b)");
  std::vector<fs::path> docs = {kRoot / "README.md"};
  for (const auto& e : fs::directory_iterator(kRoot / "docs"))
    if (e.path().extension() == ".md") docs.push_back(e.path());
  for (const auto& d : docs) {
    const std::string text = readText(d);
    for (std::sregex_iterator it(text.begin(), text.end(), named), end; it != end; ++it) {
      const std::string name = (*it)[1].str() + ".md";
      if (name == ".md" || name.find("://") != std::string::npos) continue;
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
