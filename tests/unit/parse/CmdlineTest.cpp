// formatCmdline: /proc/PID/cmdline -> one printable line.
#include <gtest/gtest.h>

#include <cstring>

#include "TestUtil.h"
#include "ork/parse/Parsers.h"

namespace ork::parse {
namespace {

using namespace std::string_view_literals;
using testing::HeapText;
using testing::show;

struct CmdlineCase {
  const char* name;
  std::string_view raw;
  std::size_t cap;
  std::string_view expected;  // what is written before the NUL; its size is the result
};

const CmdlineCase kCases[] = {
    {"argv", "ls\0-l\0/tmp\0"sv, 64, "ls -l /tmp"},
    {"real od", "od\0-c\0/proc/self/cmdline\0"sv, 64, "od -c /proc/self/cmdline"},
    {"trailing NULs dropped", "a\0\0\0"sv, 64, "a"},
    {"empty argument kept", "a\0\0b\0"sv, 64, "a  b"},
    {"leading empty argument", "\0a\0"sv, 64, " a"},
    {"no trailing NUL (setproctitle)", "nginx: worker process", 64, "nginx: worker process"},
    {"setproctitle with padding", "sshd: user@pts/0\0\0\0\0\0\0\0\0"sv, 64, "sshd: user@pts/0"},
    {"control bytes", "a\nb\tc\x7f\x1b[31m\r\0"sv, 64, "a?b?c??[31m?"},
    {"all low controls",
     "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11"
     "\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20"sv,
     64, "??????????????????????????????? "},
    {"bytes >= 0x80 kept", "caf\xc3\xa9\0\xff\0"sv, 64, "caf\xc3\xa9 \xff"},
    {"empty (kernel thread)", "", 64, ""},
    {"only NULs", "\0\0\0"sv, 64, ""},
    {"truncated", "abcdef\0"sv, 4, "abc"},
    {"truncated at a separator", "ab\0cd\0"sv, 3, "ab"},
    {"truncated after a separator", "ab\0cd\0"sv, 4, "ab "},
    {"exact fit", "abc\0"sv, 4, "abc"},
    {"one short", "abcd\0"sv, 4, "abc"},
    {"cap 1", "abc\0"sv, 1, ""},
    {"cap 2", "abc\0"sv, 2, "a"},
};

TEST(Cmdline, Cases) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    char out[80];
    std::memset(out, 'X', sizeof out);
    ASSERT_LE(c.cap, sizeof out);
    const std::size_t n = formatCmdline(c.raw, out, c.cap);
    EXPECT_EQ(n, c.expected.size());
    EXPECT_EQ(std::string_view(out, n), c.expected) << show(std::string_view(out, n));
    EXPECT_EQ(out[n], '\0');
    for (std::size_t i = c.cap; i < sizeof out; ++i) {
      ASSERT_EQ(out[i], 'X') << "wrote past cap at " << i;
    }
  }
}

TEST(Cmdline, CapZeroWritesNothing) {
  char out[4] = {'X', 'X', 'X', 'X'};
  EXPECT_EQ(formatCmdline("abc\0"sv, out, 0), 0u);
  EXPECT_EQ(std::memcmp(out, "XXXX", 4), 0);
  EXPECT_EQ(formatCmdline("abc\0"sv, nullptr, 0), 0u);
}

// Every prefix of a raw argv and every capacity: never past cap, always terminated,
// no control bytes in the output.
TEST(Cmdline, EveryPrefixAndCap) {
  const std::string_view full = "/usr/bin/python3\0-c\0print('a\nb')\0\x1b]0;x\x07\0\0"sv;
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const HeapText raw(full.substr(0, n));
    for (std::size_t cap = 1; cap <= full.size() + 2; ++cap) {
      std::unique_ptr<char[]> out(new char[cap]);  // exact size: ASan sees an overrun
      const std::size_t written = formatCmdline(raw.view(), out.get(), cap);
      ASSERT_LT(written, cap);
      ASSERT_EQ(out[written], '\0');
      ASSERT_EQ(std::strlen(out.get()), written);
      for (std::size_t i = 0; i < written; ++i) {
        const auto u = static_cast<unsigned char>(out[i]);
        ASSERT_TRUE(u >= 0x20 && u != 0x7f) << n << "/" << cap << " at " << i;
      }
    }
  }
}

}  // namespace
}  // namespace ork::parse
