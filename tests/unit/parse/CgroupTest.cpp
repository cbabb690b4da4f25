// cgroupPathFromProc and parseCgroupMemStat.
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
using testing::show;

// ---- /proc/PID/cgroup -------------------------------------------------------------

struct PathCase {
  const char* name;
  std::string_view input;
  std::string_view expected;
};

const PathCase kPathCases[] = {
    {"v2", "0::/user.slice/x\n", "/user.slice/x"},
    {"v2 root", "0::/\n", "/"},
    {"v2 no newline", "0::/system.slice/ork.service", "/system.slice/ork.service"},
    {"v1 memory", "4:memory:/foo\n3:cpu,cpuacct:/bar", "/foo"},
    {"v1 memory last", "3:cpu,cpuacct:/bar\n4:memory:/foo", "/foo"},
    {"v1 shared hierarchy", "5:cpu,memory:/baz\n", "/baz"},
    {"v1 shared hierarchy, memory first", "5:memory,cpu:/baz\n", "/baz"},
    {"v1 three controllers", "5:cpu,memory,blkio:/baz\n", "/baz"},
    {"v1 first memory line wins", "4:memory:/a\n5:memory:/b\n", "/a"},
    // On hybrid hosts the memory controller's v1 line wins over the controller-less v2.
    {"hybrid: memory v1 wins", samples::kHybridCgroup, "/process_api/e8bae5173f425b1a0d965cab5b8cc9a6"},
    {"v2 after v1", "4:memory:/foo\n0::/bar\n", "/foo"},
    {"v2 before v1", "0::/bar\n4:memory:/foo\n", "/foo"},
    {"named hierarchy is not the controller", "1:name=memory:/n\n", ""},
    {"controller prefix", "1:memoryx:/n\n2:xmemory:/m\n", ""},
    {"controller empty items", "1:,,:/n\n", ""},
    {"no memory", "1:cpu:/a\n2:pids:/b\n", ""},
    {"empty", "", ""},
    {"garbage", "no colons here\n::\n:\n\xff\n", ""},
    {"0 with controllers is not v2", "0:cpu:/x\n", ""},
    {"v2 needs hierarchy 0", "1::/x\n00::/y\n", ""},
    {"colon in path", "0::/a:b:c\n", "/a:b:c"},
    {"space in path", "4:memory:/a b\n", "/a b"},
    {"empty v2 path", "0::\n", ""},
    {"NUL in path", "0::/a\0b\n"sv, "/a\0b"sv},
    {"CRLF kept", "0::/a\r\n", "/a\r"},
};

TEST(CgroupPath, Cases) {
  for (const auto& c : kPathCases) {
    SCOPED_TRACE(c.name);
    const std::string_view got = cgroupPathFromProc(c.input);
    EXPECT_EQ(got, c.expected) << show(got);
    if (!got.empty()) {
      // The view points into the input.
      EXPECT_GE(got.data(), c.input.data());
      EXPECT_LE(got.data() + got.size(), c.input.data() + c.input.size());
    }
  }
}

TEST(CgroupPath, EveryPrefixOfRealSample) {
  const std::string_view full = samples::kHybridCgroup;
  const std::size_t memPath = full.find("4:memory:") + 9;
  const std::size_t v2Path = full.find("0::") + 3;
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const HeapText text(full.substr(0, n));
    const std::string_view got = cgroupPathFromProc(text.view());
    if (n < memPath) {
      EXPECT_EQ(got, "") << n;
    } else {
      // The memory line's path, possibly cut short.
      (void)v2Path;
      EXPECT_EQ(got, full.substr(memPath, got.size())) << n;
      EXPECT_FALSE(got.empty() && n > memPath) << n;
    }
  }
}

// ---- memory.stat -----------------------------------------------------------------------

struct MemStatOk {
  const char* name;
  std::string_view input;
  std::int64_t anon, file, activeFile, inactiveFile, slabReclaimable, shmem;
};

const MemStatOk kMemStatOk[] = {
    {"v2 sample", samples::kV2MemoryStat, 1206534144, 3035631616, 1271709696, 1573576704, 162103888,
     190345216},
    // Real v1 root: hierarchical total_* values, not the (much smaller) local ones.
    {"real v1 root", samples::kV1MemoryStat, 17031168, 149254144, 27922432, 112246784, 0, 9084928},
    {"v1 local only", "cache 10\nrss 20\nshmem 3\nactive_file 4\ninactive_file 6\n", 20, 10, 4, 6,
     0, 3},
    {"v1 total after local", "cache 10\ntotal_cache 100\nrss 1\ntotal_rss 2\n", 2, 100, 0, 0, 0, 0},
    {"v1 total before local", "total_cache 100\ncache 10\ntotal_rss 2\nrss 1\n", 2, 100, 0, 0, 0,
     0},
    {"v1 mixed: total for some keys only", "cache 10\nactive_file 4\ntotal_active_file 40\n", 0, 10,
     40, 0, 0, 0},
    {"v1 total_shmem", "shmem 1\ntotal_shmem 2\ntotal_inactive_file 3\ninactive_file 4\n", 0, 0, 0,
     3, 0, 2},
    {"similar keys ignored",
     "anon_thp 1\nfile_mapped 2\nfile_dirty 3\ntotal_rss_huge 4\nrss_huge 5\nshmem_thp 6\n"
     "slab 7\nslab_unreclaimable 8\nanon 9\n",
     9, 0, 0, 0, 0, 0},
    {"unknown keys with garbage ignored", "foo bar baz\n\xff\n\nanon 1\n", 1, 0, 0, 0, 0, 0},
    {"saturates", "anon 18446744073709551615\nfile 9223372036854775808\n", kInt64Max, kInt64Max, 0,
     0, 0, 0},
    {"tabs, no newline", "anon\t5", 5, 0, 0, 0, 0, 0},
};

TEST(CgroupMemStat, OkCases) {
  for (const auto& c : kMemStatOk) {
    SCOPED_TRACE(c.name);
    const auto r = parseCgroupMemStat(c.input);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->anon.value, c.anon);
    EXPECT_EQ(r->file.value, c.file);
    EXPECT_EQ(r->activeFile.value, c.activeFile);
    EXPECT_EQ(r->inactiveFile.value, c.inactiveFile);
    EXPECT_EQ(r->slabReclaimable.value, c.slabReclaimable);
    EXPECT_EQ(r->shmem.value, c.shmem);
  }
}

struct MemStatErr {
  const char* name;
  std::string_view input;
  std::string_view message;
};

const MemStatErr kMemStatErr[] = {
    {"empty", "", "no known key"},
    {"garbage", "\x01\x02\n\xff\xfe\n", "no known key"},
    {"only unknown keys", "pgfault 5\nsock 0\n", "no known key"},
    {"NUL in key", "an\0on 5\n"sv, "no known key"},
    {"no value", "anon\n", "bad value for anon"},
    {"negative", "file -1\n", "bad value for file"},
    {"2^64", "total_rss 18446744073709551616\n", "bad value for total_rss"},
    {"trailing junk", "shmem 5 5\n", "bad value for shmem"},
    {"units", "cache 5k\n", "bad value for cache"},
    {"NUL in value", "anon 5\0\n"sv, "bad value for anon"},
};

TEST(CgroupMemStat, ErrorCases) {
  for (const auto& c : kMemStatErr) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(isParseError(parseCgroupMemStat(c.input), c.message));
  }
}

TEST(CgroupMemStat, EveryPrefixOfRealSamples) {
  for (const std::string_view full : {samples::kV1MemoryStat, samples::kV2MemoryStat}) {
    const auto expected = parseCgroupMemStat(full);
    ASSERT_TRUE(expected.ok());
    const std::size_t okFrom = full.find(' ') + 2;  // first key with one value digit
    for (std::size_t n = 0; n <= full.size(); ++n) {
      const HeapText text(full.substr(0, n));
      const auto r = parseCgroupMemStat(text.view());
      // Before the first value digit nothing is known; later, a cut line of a known
      // key without its value is an error, any other cut is not.
      if (n < okFrom) {
        EXPECT_FALSE(r.ok()) << n;
      }
      if (n == full.size()) {
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->anon, expected->anon);
        EXPECT_EQ(r->file, expected->file);
      }
    }
  }
}

}  // namespace
}  // namespace ork::parse
