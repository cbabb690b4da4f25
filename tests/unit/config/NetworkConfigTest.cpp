// [network]: the issue's example exactly, and clear messages for bad names and MACs.
#include <gtest/gtest.h>

#include "ork/config/Config.h"

namespace ork::config {
namespace {

TEST(NetworkConfigTest, TheIssuesExample) {
  std::vector<ConfigError> errors;
  Config cfg = Config::parse(
      "[network]\nenabled = true\nprotect = [\"eth0\"]\nignore_macs = [\"02:00:00:00:00:01\"]\n", "t.toml", errors);
  ASSERT_TRUE(errors.empty()) << errors[0].message;
  EXPECT_TRUE(cfg.flag(Key::NetworkEnabled));
  EXPECT_EQ(cfg.network.protect, std::vector<std::string>{"eth0"});
  EXPECT_EQ(cfg.network.ignoreMacs, std::vector<std::string>{"02:00:00:00:00:01"});
  // Round trip through check-config's rendering.
  std::vector<ConfigError> again;
  Config back = Config::parse(cfg.toToml(), "back.toml", again);
  ASSERT_TRUE(again.empty()) << again[0].message;
  EXPECT_EQ(back.network.protect, cfg.network.protect);
  EXPECT_EQ(back.network.ignoreMacs, cfg.network.ignoreMacs);
  EXPECT_TRUE(back.flag(Key::NetworkEnabled));
}

TEST(NetworkConfigTest, OffByDefault) {
  Config cfg;
  EXPECT_FALSE(cfg.flag(Key::NetworkEnabled));
  EXPECT_NE(cfg.toToml().find("[network]\n"), std::string::npos);
}

TEST(NetworkConfigTest, MacsAreNormalised) {
  std::vector<ConfigError> errors;
  Config cfg = Config::parse("[network]\nignore_macs = [\"52-54-00-AB-CD-EF\"]\n", "t", errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(cfg.network.ignoreMacs, std::vector<std::string>{"52:54:00:ab:cd:ef"});
}

TEST(NetworkConfigTest, BadEntriesSayWhatIsWrong) {
  struct Case {
    const char* text;
    int line;
    const char* message;
  };
  const Case cases[] = {
      {"[network]\nignore_macs = [\"02:00:00:00:01\"]\n", 2, "network.ignore_macs: \"02:00:00:00:01\" is not a MAC address"},
      {"[network]\nignore_macs = [\"zz:00:00:00:00:01\"]\n", 2, "is not a MAC address"},
      {"[network]\n\nignore_macs = \"02:00:00:00:00:01\"\n", 3, "network.ignore_macs must be an array"},
      {"[network]\nprotect = [\"eth0\", 3]\n", 2, "network.protect: every entry must be a string"},
      {"[network]\nprotect = [\"a-very-long-name0\"]\n", 2, "\"a-very-long-name0\" is not an interface name"},
      {"[network]\nprotect = [\"eth 0\"]\n", 2, "is not an interface name"},
      {"[network]\nprotect = [\"a/b\"]\n", 2, "is not an interface name"},
      {"[network]\nprotect = [\"\"]\n", 2, "is not an interface name"},
      {"[network]\nprotect = \"eth0\"\n", 2, "network.protect must be an array of interface names"},
      {"[network]\nenabled = 1\n", 2, "network.enabled must be"},
      {"[network]\nprotected = []\n", 2, "unknown key \"protected\" in [network]"},
  };
  for (const auto& c : cases) {
    std::vector<ConfigError> errors;
    (void)Config::parse(c.text, "t.toml", errors);
    ASSERT_EQ(errors.size(), 1u) << c.text;
    EXPECT_EQ(errors[0].line, c.line) << c.text;
    EXPECT_NE(errors[0].message.find(c.message), std::string::npos) << errors[0].message;
  }
}

}  // namespace
}  // namespace ork::config
