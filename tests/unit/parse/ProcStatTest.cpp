// parseProcStat: /proc/PID/stat, with hostile process names.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "Samples.h"
#include "TestUtil.h"
#include "ork/parse/Parsers.h"

namespace ork::parse {
namespace {

using namespace std::string_view_literals;
using testing::HeapText;
using testing::isParseError;
using testing::show;

// Fields 3..24 of a synthetic line, each value distinct so that an off-by-one in the
// field numbering shows: state=S ppid=1 flags=4194560 utime=123 stime=45
// num_threads=7 starttime=98765 rss=2500, then rsslim (field 25).
#define TAIL                                                                  \
  "S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1000000 2500 " \
  "18446744073709551615\n"

struct StatOk {
  const char* name;
  std::string_view input;
  int pid;
  std::string_view comm;  // compared over the full 17-byte buffer up to its NUL
  char state;
  int ppid;
  std::uint32_t flags;
  std::uint64_t utime, stime;
  std::int64_t threads;
  std::uint64_t start;
  std::int64_t rss;
};

const StatOk kOkCases[] = {
    {"real cat", samples::kSelfStat, 5781, "cat", 'R', 5730, 4194304, 0, 0, 1, 29567, 366},
    {"real kthreadd", samples::kKthreaddStat, 2, "kthreadd", 'S', 0, 2129984, 0, 0, 1, 24, 0},
    // Workqueue workers print up to 63 bytes of comm; 16 are kept.
    {"real kworker, long comm", samples::kKworkerStat, 10, "kworker/0:0H-eve", 'I', 2, 69238880, 0,
     0, 1, 24, 0},
    {"real zombie", samples::kZombieStat, 5771, "python3", 'Z', 5730, 4227148, 0, 0, 1, 29537, 0},
    {"synthetic", "42 (foo) " TAIL, 42, "foo", 'S', 1, 4194560, 123, 45, 7, 98765, 2500},
    {"fake fields in name", "42 (foo) R 1 2 3) " TAIL, 42, "foo) R 1 2 3", 'S', 1, 4194560, 123, 45,
     7, 98765, 2500},
    {"fake fields and parens", "42 (x) Z 999 (y) " TAIL, 42, "x) Z 999 (y", 'S', 1, 4194560, 123,
     45, 7, 98765, 2500},
    {"spaces", "42 (a b  c) " TAIL, 42, "a b  c", 'S', 1, 4194560, 123, 45, 7, 98765, 2500},
    {"newline in name", "42 (a\nb) " TAIL, 42, "a\nb", 'S', 1, 4194560, 123, 45, 7, 98765, 2500},
    {"name ((", "42 ((() " TAIL, 42, "((", 'S', 1, 4194560, 123, 45, 7, 98765, 2500},
    {"name )", "42 ()) " TAIL, 42, ")", 'S', 1, 4194560, 123, 45, 7, 98765, 2500},
    {"name ))((", "42 ())(() " TAIL, 42, "))((", 'S', 1, 4194560, 123, 45, 7, 98765, 2500},
    {"empty name", "42 () " TAIL, 42, "", 'S', 1, 4194560, 123, 45, 7, 98765, 2500},
    {"16-char name", "42 (abcdefghijklmnop) " TAIL, 42, "abcdefghijklmnop", 'S', 1, 4194560, 123,
     45, 7, 98765, 2500},
    {"17-char name truncated", "42 (abcdefghijklmnopq) " TAIL, 42, "abcdefghijklmnop", 'S', 1,
     4194560, 123, 45, 7, 98765, 2500},
    {"long fake-field name truncated",
     "42 (0) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25) " TAIL, 42,
     "0) R 1 2 3 4 5 6", 'S', 1, 4194560, 123, 45, 7, 98765, 2500},
    {"exactly 24 fields, no newline",
     "1 (x) D 0 0 0 0 0 2097152 0 0 0 0 18446744073709551615 7 0 0 0 0 -5 0 "
     "18446744073709551615 0 1",
     1, "x", 'D', 0, kPfKthread, UINT64_MAX, 7, -5, UINT64_MAX, 1},
    // An rss no machine can have (more than 4 PiB) saturates: pages x page size, and
    // sums of them, must not overflow.
    {"max pid and flags, impossible rss saturates",
     "2147483647 (x) t 2147483647 0 0 0 0 4294967295 0 0 0 0 0 0 0 0 0 0 "
     "9223372036854775807 0 0 0 9223372036854775807\n",
     2147483647, "x", 't', 2147483647, 4294967295u, 0, 0, INT64_MAX, 0,
     static_cast<std::int64_t>(kMaxRssPages)},
    {"rss 2^63 saturates",
     "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1 "
     "9223372036854775808\n",
     42, "foo", 'S', 1, 4194560, 123, 45, 7, 98765, static_cast<std::int64_t>(kMaxRssPages)},
    {"rss at the bound",
     "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1 "
     "1099511627776\n",
     42, "foo", 'S', 1, 4194560, 123, 45, 7, 98765, std::int64_t{1} << 40},
};

TEST(ProcStat, OkCases) {
  for (const auto& c : kOkCases) {
    SCOPED_TRACE(c.name);
    const auto r = parseProcStat(c.input);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->pid, c.pid);
    EXPECT_EQ(r->comm[16], '\0');
    // Compare the bytes, not strlen: names may hold '\n'.
    EXPECT_EQ(std::string_view(r->comm, std::strlen(r->comm)), c.comm) << show(r->comm);
    EXPECT_EQ(r->state, c.state);
    EXPECT_EQ(r->ppid, c.ppid);
    EXPECT_EQ(r->flags, c.flags);
    EXPECT_EQ(r->utimeTicks, c.utime);
    EXPECT_EQ(r->stimeTicks, c.stime);
    EXPECT_EQ(r->numThreads, c.threads);
    EXPECT_EQ(r->startTimeTicks, c.start);
    EXPECT_EQ(r->rssPages, c.rss);
  }
}

TEST(ProcStat, KthreadFlag) {
  EXPECT_TRUE(parseProcStat(samples::kKthreaddStat)->flags & kPfKthread);
  EXPECT_TRUE(parseProcStat(samples::kKworkerStat)->flags & kPfKthread);
  EXPECT_FALSE(parseProcStat(samples::kSelfStat)->flags & kPfKthread);
}

// The layout key: known for a process whose layout the reader may see, 0 for kernel
// threads, zombies, hidden layouts (1 1 0 and zeros) and lines that stop at rsslim;
// any change in code, stack or argv addresses (an exec) changes it.
TEST(ProcStat, LayoutKey) {
  const auto self = parseProcStat(samples::kSelfStat);
  ASSERT_TRUE(self.ok());
  EXPECT_NE(self->layoutKey, 0u);
  EXPECT_EQ(parseProcStat(samples::kKthreaddStat)->layoutKey, 0u);
  EXPECT_EQ(parseProcStat(samples::kKworkerStat)->layoutKey, 0u);
  EXPECT_EQ(parseProcStat(samples::kZombieStat)->layoutKey, 0u);
  EXPECT_EQ(parseProcStat("42 (foo) " TAIL ""sv)->layoutKey, 0u);  // stops at field 25
  const auto hidden = parseProcStat(
      "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1000000 2500 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"sv);
  ASSERT_TRUE(hidden.ok());
  EXPECT_EQ(hidden->layoutKey, 0u);

  // The same process after an exec: another stack (ASLR), same everything else.
  std::string after(samples::kSelfStat);
  const auto at = after.find("140728882908224");
  ASSERT_NE(at, std::string::npos);
  after.replace(at, 15, "140728882912320");
  const auto execed = parseProcStat(after);
  ASSERT_TRUE(execed.ok());
  EXPECT_NE(execed->layoutKey, 0u);
  EXPECT_NE(execed->layoutKey, self->layoutKey);
  EXPECT_EQ(execed->startTimeTicks, self->startTimeTicks);
  // Only code and stack (a kernel without fields 45-51): still known.
  const auto old = parseProcStat(
      "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1000000 2500 "
      "18446744073709551615 4194304 4200000 140728882908224\n"sv);
  ASSERT_TRUE(old.ok());
  EXPECT_NE(old->layoutKey, 0u);
  // Garbage in the optional fields: unknown, never an error.
  const auto garbage = parseProcStat(
      "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1000000 2500 "
      "18446744073709551615 x y z\n"sv);
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->layoutKey, 0u);
}

TEST(ProcStat, EmbeddedNulInName) {
  const auto r = parseProcStat("42 (a\0b) " TAIL ""sv);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(std::memcmp(r->comm, "a\0b\0", 4), 0);
  EXPECT_EQ(r->rssPages, 2500);
}

struct StatErr {
  const char* name;
  std::string_view input;
  std::string_view message;
};

const StatErr kErrCases[] = {
    {"empty", "", "no (comm)"},
    {"garbage", "\xff\xfe\x00\x01garbage"sv, "no (comm)"},
    {"no (", "42 foo) " TAIL, "no (comm)"},
    {"no )", "42 (foo S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1 2 3 4\n",
     "no (comm)"},
    {") before (", "42 )foo( " TAIL, "no (comm)"},
    {"no pid", "(foo) " TAIL, "bad pid"},
    {"pid without space", "42(foo) " TAIL, "bad pid"},
    {"two spaces", "42  (foo) " TAIL, "bad pid"},
    {"pid letters", "4a (foo) " TAIL, "bad pid"},
    {"pid zero", "0 (foo) " TAIL, "bad pid"},
    {"pid negative", "-1 (foo) " TAIL, "bad pid"},
    {"pid overflow", "2147483648 (foo) " TAIL, "bad pid"},
    {"pid 2^70", "1180591620717411303424 (foo) " TAIL, "bad pid"},
    {"ends at )", "42 (foo)", "truncated after comm"},
    {"ends at )\\n", "42 (foo)\n", "truncated after comm"},
    {"no space after )", "42 (foo)S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765\n",
     "truncated after comm"},
    {"only state", "42 (foo) S\n", "truncated, 3 of 24"},
    {"23 fields", "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1000000\n",
     "truncated, 23 of 24"},
    {"fields after a newline do not count",
     "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1000000\n2500\n",
     "truncated, 23 of 24"},
    {"state two chars",
     "42 (foo) SS 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1 2\n", "bad state"},
    {"state digit", "42 (foo) 5 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1 2\n",
     "bad state"},
    {"ppid negative", "42 (foo) S -1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1 2\n",
     "bad ppid"},
    {"ppid letters", "42 (foo) S x 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1 2\n",
     "bad ppid"},
    {"flags 2^32", "42 (foo) S 1 100 100 0 -1 4294967296 50 0 0 0 123 45 0 0 20 0 7 0 98765 1 2\n",
     "bad flags"},
    {"utime negative",
     "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 -123 45 0 0 20 0 7 0 98765 1 2\n", "bad utime"},
    {"utime 2^64",
     "42 (foo) S 1 100 100 0 -1 0 50 0 0 0 18446744073709551616 45 0 0 20 0 7 0 9 1 2\n",
     "bad utime"},
    {"stime float", "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 4.5 0 0 20 0 7 0 98765 1 2\n",
     "bad stime"},
    {"threads junk", "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7x 0 98765 1 2\n",
     "bad num_threads"},
    {"starttime NUL",
     "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98\0"
     "765 1 2\n"sv,
     "bad starttime"},
    // The kernel prints rss unsigned: a negative one is garbage.
    {"rss negative",
     "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1 -1\n", "bad rss"},
    {"rss most negative",
     "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1 "
     "-9223372036854775808\n",
     "bad rss"},
    {"rss 2^70",
     "42 (foo) S 1 100 100 0 -1 4194560 50 0 0 0 123 45 0 0 20 0 7 0 98765 1 "
     "1180591620717411303424\n",
     "bad rss"},
};

TEST(ProcStat, ErrorCases) {
  for (const auto& c : kErrCases) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(isParseError(parseProcStat(c.input), c.message));
  }
}

// Every prefix of each real sample parses or fails cleanly. A prefix ending before
// field 24 (rss) starts must fail: it lacks fields.
TEST(ProcStat, EveryPrefixOfRealSamples) {
  for (const std::string_view full :
       {samples::kSelfStat, samples::kKworkerStat, samples::kKthreaddStat, samples::kZombieStat}) {
    // Start of field 24: skip 22 spaces after the ") ".
    std::size_t rssStart = full.rfind(')') + 2;
    for (int i = 3; i < 24; ++i) rssStart = full.find(' ', rssStart) + 1;
    for (std::size_t n = 0; n <= full.size(); ++n) {
      const HeapText text(full.substr(0, n));
      const auto r = parseProcStat(text.view());
      if (n <= rssStart) {
        EXPECT_FALSE(r.ok()) << "prefix " << n << " of " << show(full);
      } else {
        ASSERT_TRUE(r.ok()) << "prefix " << n << ": " << r.error().message();
      }
    }
  }
}

// The closing paren may be anywhere in a long stat line; a name made only of parens,
// of any length up to the kernel's 64-byte buffer, never shifts the fields.
TEST(ProcStat, ParenOnlyNames) {
  for (std::size_t len = 0; len <= 64; ++len) {
    for (const char paren : {'(', ')'}) {
      std::string line = "7 (" + std::string(len, paren) + ") " TAIL;
      const auto r = parseProcStat(line);
      ASSERT_TRUE(r.ok()) << line;
      EXPECT_EQ(std::string(r->comm), std::string(len < 16 ? len : 16, paren));
      EXPECT_EQ(r->rssPages, 2500);
      EXPECT_EQ(r->numThreads, 7);
    }
  }
}

}  // namespace
}  // namespace ork::parse
