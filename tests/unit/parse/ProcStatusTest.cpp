// parseProcStatus: /proc/PID/status, including hostile Name: lines.
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

constexpr std::int64_t kKiB = 1024;

struct StatusOk {
  const char* name;
  std::string_view input;
  bool hasUid;
  std::uint32_t uid;
  std::int64_t vmRss, rssAnon, rssFile, rssShmem, vmSwap;  // bytes
  bool kernelThread;
};

const StatusOk kOkCases[] = {
    {"real cat", samples::kSelfStatus, true, 0, 1672 * kKiB, 112 * kKiB, 1560 * kKiB, 0, 0, false},
    {"real kthreadd (Kthread: 1)", samples::kKthreaddStatus, true, 0, 0, 0, 0, 0, 0, true},
    // 6.x prints "Kthread:\t0" for a zombie, which has no Vm lines: not a kernel thread.
    {"real zombie (Kthread: 0)", samples::kZombieStatus, true, 0, 0, 0, 0, 0, 0, false},
    {"5.10 user process", samples::kOldKernelUserStatus, true, 1000, 498116 * kKiB, 351660 * kKiB,
     131784 * kKiB, 14672 * kKiB, 20480 * kKiB, false},
    {"5.10 kernel thread (no VmSize)", samples::kOldKernelKthreadStatus, true, 0, 0, 0, 0, 0, 0,
     true},
    {"minimal", "Name:\tx\n", false, 0, 0, 0, 0, 0, 0, true},
    {"uid is the real (first) uid", "Name:\tsu\nUid:\t1000\t0\t0\t0\nVmSize:\t1 kB\n", true, 1000,
     0, 0, 0, 0, 0, false},
    {"uid 2^32-1", "Name:\tx\nUid:\t4294967295\t0\t0\t0\nVmSize:\t1 kB\n", true, 4294967295u, 0, 0,
     0, 0, 0, false},
    // A process may call itself anything, including "VmSwap: 1 kB": only keys at the
    // start of a line count.
    {"name looks like VmSwap", "Name:\tVmSwap: 1 kB\nUid:\t5\t5\t5\t5\nVmSize:\t10 kB\n", true, 5,
     0, 0, 0, 0, 0, false},
    {"name looks like VmSize", "Name:\tVmSize:\t1 kB\nUid:\t5\t5\t5\t5\n", true, 5, 0, 0, 0, 0, 0,
     true},
    {"name looks like Kthread", "Name:\tKthread:\t1\nKthread:\t0\n", false, 0, 0, 0, 0, 0, 0,
     false},
    {"name looks like Uid", "Name:\tUid:\t0\nUid:\t1000\t1000\t1000\t1000\nVmSize:\t1 kB\n", true,
     1000, 0, 0, 0, 0, 0, false},
    // If a raw newline ever reached the name, the real lines after it still win.
    {"newline in name",
     "Name:\tevil\nVmRSS:\t99999999 kB\nUid:\t0\nUmask:\t0022\n"
     "Uid:\t1000\t1000\t1000\t1000\nVmSize:\t5 kB\nVmRSS:\t100 kB\n",
     true, 1000, 100 * kKiB, 0, 0, 0, 0, false},
    {"Kthread wins over VmSize", "Name:\tx\nKthread:\t1\nVmSize:\t5 kB\n", false, 0, 0, 0, 0, 0, 0,
     true},
    {"garbage in unneeded keys",
     "Name:\t\xff\xfe\nState:\t???\nGroups:\t \nVmSize:\t1 kB\n"
     "Cpus_allowed:\tzz\n",
     false, 0, 0, 0, 0, 0, 0, false},
    {"NUL in name", "Name:\ta\0b\nVmSize:\t1 kB\nVmSwap:\t3 kB\n"sv, false, 0, 0, 0, 0, 0, 3 * kKiB,
     false},
    // More than any machine has (4 PiB) saturates there, so that rss + swap and the
    // sums over a pool cannot overflow.
    {"saturated VmRSS", "Name:\tx\nVmSize:\t1 kB\nVmRSS:\t18446744073709551615 kB\n", false, 0,
     kMaxProcessMemory, 0, 0, 0, 0, false},
    {"impossible VmSwap", "Name:\tx\nVmSize:\t1 kB\nVmSwap:\t9007199254740992 kB\n", false, 0, 0, 0, 0,
     0, kMaxProcessMemory, false},
    {"VmSwap at the bound", "Name:\tx\nVmSize:\t1 kB\nVmSwap:\t4398046511104 kB\n", false, 0, 0, 0, 0, 0,
     kMaxProcessMemory, false},
    {"no trailing newline", "Name:\tx\nVmSize:\t1 kB\nVmSwap:\t7 kB", false, 0, 0, 0, 0, 0,
     7 * kKiB, false},
};

TEST(ProcStatus, OkCases) {
  for (const auto& c : kOkCases) {
    SCOPED_TRACE(c.name);
    const auto r = parseProcStatus(c.input);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->hasUid, c.hasUid);
    EXPECT_EQ(r->uid, c.uid);
    EXPECT_EQ(r->vmRss.value, c.vmRss);
    EXPECT_EQ(r->rssAnon.value, c.rssAnon);
    EXPECT_EQ(r->rssFile.value, c.rssFile);
    EXPECT_EQ(r->rssShmem.value, c.rssShmem);
    EXPECT_EQ(r->vmSwap.value, c.vmSwap);
    EXPECT_EQ(r->kernelThread, c.kernelThread);
  }
}

struct StatusErr {
  const char* name;
  std::string_view input;
  std::string_view message;
};

const StatusErr kErrCases[] = {
    {"empty", "", "missing Name"},
    {"garbage", "\x01\x02\x03 no colon", "missing Name"},
    {"Name not at line start", " Name:\tx\n", "missing Name"},
    {"uid negative", "Name:\tx\nUid:\t-1\t0\t0\t0\n", "bad Uid"},
    {"uid 2^32", "Name:\tx\nUid:\t4294967296\t0\t0\t0\n", "bad Uid"},
    {"uid empty", "Name:\tx\nUid:\n", "bad Uid"},
    {"uid letters", "Name:\tx\nUid:\troot\n", "bad Uid"},
    {"Kthread 2", "Name:\tx\nKthread:\t2\n", "bad Kthread"},
    {"Kthread empty", "Name:\tx\nKthread:\n", "bad Kthread"},
    {"VmRSS letters", "Name:\tx\nVmRSS:\tlots kB\n", "bad value for VmRSS"},
    {"VmRSS 2^70", "Name:\tx\nVmRSS:\t1180591620717411303424 kB\n", "bad value for VmRSS"},
    {"VmSwap other unit", "Name:\tx\nVmSwap:\t1 MB\n", "bad value for VmSwap"},
    {"RssAnon negative", "Name:\tx\nRssAnon:\t-1 kB\n", "bad value for RssAnon"},
    {"RssFile junk", "Name:\tx\nRssFile:\t1 kB kB\n", "bad value for RssFile"},
    {"RssShmem NUL", "Name:\tx\nRssShmem:\t1\0 kB\n"sv, "bad value for RssShmem"},
    {"VmSize junk", "Name:\tx\nVmSize:\t?\n", "bad value for VmSize"},
    // Found by fuzz_proc_status: a negative Tgid was taken, and the process then read as
    // a thread of another.
    {"Tgid negative", "Name:\tx\nTgid:\t-97\nPPid:\t0\n", "bad Tgid"},
};

TEST(ProcStatus, ErrorCases) {
  for (const auto& c : kErrCases) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(isParseError(parseProcStatus(c.input), c.message));
  }
}

// Every prefix parses or fails cleanly; once the VmSwap line is complete, all the
// fields we read are final.
TEST(ProcStatus, EveryPrefixOfRealSamples) {
  for (const std::string_view full :
       {samples::kSelfStatus, samples::kKthreaddStatus, samples::kZombieStatus,
        samples::kOldKernelUserStatus, samples::kOldKernelKthreadStatus}) {
    const auto expected = parseProcStatus(full);
    ASSERT_TRUE(expected.ok());
    std::size_t last = full.find("VmSwap:");
    last = last == std::string_view::npos ? full.find("Uid:") : last;
    last = full.find('\n', last);
    for (std::size_t n = 0; n <= full.size(); ++n) {
      const HeapText text(full.substr(0, n));
      const auto r = parseProcStatus(text.view());
      if (n < 5) {  // "Name:" incomplete
        EXPECT_FALSE(r.ok()) << n;
      }
      if (n >= last && full != samples::kKthreaddStatus && full != samples::kZombieStatus) {
        ASSERT_TRUE(r.ok()) << n << ": " << r.error().message();
        EXPECT_EQ(r->uid, expected->uid);
        EXPECT_EQ(r->vmRss, expected->vmRss);
        EXPECT_EQ(r->vmSwap, expected->vmSwap);
        EXPECT_EQ(r->kernelThread, expected->kernelThread);
      }
    }
  }
}

}  // namespace
}  // namespace ork::parse
