// parseArcstats (ZFS) and userNameFromPasswd.
#include <gtest/gtest.h>

#include "Samples.h"
#include "TestUtil.h"
#include "ork/parse/Parsers.h"

namespace ork::parse {
namespace {

using namespace std::string_view_literals;
using testing::HeapText;
using testing::isParseError;
using testing::kInt64Max;

// ---- arcstats -------------------------------------------------------------------------

constexpr std::string_view kArcHeader =
    "13 1 0x01 123 33232 4591734416 2374587342823\nname                            type data\n";

struct ArcOk {
  const char* name;
  std::string_view input;
  std::int64_t size, cMin;
};

const ArcOk kArcOk[] = {
    {"sample", samples::kArcstats, 8307195568, 1043224576},
    {"minimal, no headers", "size 4 10\nc_min 4 20", 10, 20},
    {"c_min first", "c_min 4 20\nsize 4 10\n", 10, 20},
    {"saturates", "size 4 18446744073709551615\nc_min 4 9223372036854775807\n", kInt64Max,
     kInt64Max},
    {"similar names ignored",
     "compressed_size 4 1\nsize_x 4 2\nc_min_x 4 3\nc_max 4 4\nsize 4 5\nc_min 4 6\n", 5, 6},
    {"tabs", "size\t4\t7\nc_min\t4\t8\n", 7, 8},
    {"garbage in other rows", "\xff\xfe\nhits x y z\nsize 4 1\nc_min 4 2\n", 1, 2},
};

TEST(Arcstats, OkCases) {
  for (const auto& c : kArcOk) {
    SCOPED_TRACE(c.name);
    const auto r = parseArcstats(c.input);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->size.value, c.size);
    EXPECT_EQ(r->cMin.value, c.cMin);
  }
}

struct ArcErr {
  const char* name;
  std::string_view input;
  std::string_view message;
};

const ArcErr kArcErr[] = {
    {"empty", "", "missing size"},
    {"headers only", kArcHeader, "missing size"},
    {"no c_min", "size 4 1\n", "missing c_min"},
    {"no size", "c_min 4 1\ncompressed_size 4 2\n", "missing size"},
    {"no data column", "size 4\nc_min 4 1\n", "bad size row"},
    {"name only", "size\nc_min 4 1\n", "bad size row"},
    {"letters", "size 4 1\nc_min 4 abc\n", "bad c_min row"},
    {"extra column", "size 4 1 2\nc_min 4 1\n", "bad size row"},
    {"negative", "size 4 -1\nc_min 4 1\n", "bad size row"},
    {"2^64", "size 4 18446744073709551616\nc_min 4 1\n", "bad size row"},
    {"NUL", "size 4 1\0\nc_min 4 1\n"sv, "bad size row"},
};

TEST(Arcstats, ErrorCases) {
  for (const auto& c : kArcErr) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(isParseError(parseArcstats(c.input), c.message));
  }
}

TEST(Arcstats, EveryPrefixOfSample) {
  const std::string_view full = samples::kArcstats;
  const std::size_t sizeDigit = full.find("8307195568");  // size comes after c_min
  const std::size_t sizeEnd = full.find('\n', sizeDigit);
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const HeapText text(full.substr(0, n));
    const auto r = parseArcstats(text.view());
    EXPECT_EQ(r.ok(), n > sizeDigit) << n;
    if (n >= sizeEnd) {
      ASSERT_TRUE(r.ok()) << n;
      EXPECT_EQ(r->size.value, 8307195568);
      EXPECT_EQ(r->cMin.value, 1043224576);
    }
  }
}

// ---- /etc/passwd --------------------------------------------------------------------

struct PasswdCase {
  const char* name;
  std::string_view passwd;
  std::uint32_t uid;
  std::string_view expected;
};

const PasswdCase kPasswdCases[] = {
    {"root", samples::kPasswd, 0, "root"},
    {"daemon", samples::kPasswd, 1, "daemon"},
    {"last line", samples::kPasswd, 5, "games"},
    // sync's gid is 65534: the gid column must not match.
    {"gid is not uid", samples::kPasswd, 65534, ""},
    {"absent", samples::kPasswd, 1000, ""},
    {"10 is not 100", "u100:x:100:100::/:/bin/sh\nu1:x:1:1::/:/bin/sh\n", 10, ""},
    {"100 is not 10", "u10:x:10:10::/:/bin/sh\n", 100, ""},
    {"100", "u10:x:10:10::/:/bin/sh\nu100:x:100:100::/:/bin/sh\n", 100, "u100"},
    {"first match wins", "a:x:7:7::/:/bin/sh\nb:x:7:7::/:/bin/sh\n", 7, "a"},
    {"max uid", "nobody4:x:4294967295:1::/:/bin/false\n", 4294967295u, "nobody4"},
    {"uid overflow", "big:x:4294967296:1::/:/bin/false\n", 0, ""},
    {"negative uid", "neg:x:-1:1::/:/bin/false\n", 4294967295u, ""},
    {"short line", "short:x:42", 42, "short"},
    {"too short", "short:x\n", 0, ""},
    {"empty uid", "e:x::1::/:/bin/sh\n", 0, ""},
    {"empty name", ":x:0:0::/:/bin/sh\n", 0, ""},
    {"comment skipped", "#root:x:0:0::/:/bin/sh\nreal:x:0:0::/:/bin/sh\n", 0, "real"},
    {"NIS entry skipped", "+:x:0:0:::\n+@admins::0:0:::\n-bad:x:0:0:::\n", 0, ""},
    {"blank in uid", "s:x: 5:5::/:/bin/sh\n", 5, ""},
    {"CRLF line", "dos:x:9:9::/:/bin/sh\r\n", 9, "dos"},
    {"empty", "", 0, ""},
    {"garbage", "\xff\xfe:\x01:\n::::\n", 0, ""},
    {"NUL in uid", "n:x:1\0:1::/:/bin/sh\n"sv, 1, ""},
};

TEST(Passwd, Cases) {
  for (const auto& c : kPasswdCases) {
    SCOPED_TRACE(c.name);
    const std::string_view got = userNameFromPasswd(c.passwd, c.uid);
    EXPECT_EQ(got, c.expected);
    if (!got.empty()) {
      EXPECT_GE(got.data(), c.passwd.data());
      EXPECT_LE(got.data() + got.size(), c.passwd.data() + c.passwd.size());
    }
  }
}

TEST(Passwd, EveryPrefixOfRealSample) {
  const std::string_view full = samples::kPasswd;
  const std::size_t gamesUid = full.find("games:x:") + 8;
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const HeapText text(full.substr(0, n));
    EXPECT_EQ(userNameFromPasswd(text.view(), 5), n > gamesUid ? "games" : "") << n;
    EXPECT_EQ(userNameFromPasswd(text.view(), 0), n > 7 ? "root" : "") << n;  // "root:x:0"
  }
}

}  // namespace
}  // namespace ork::parse
