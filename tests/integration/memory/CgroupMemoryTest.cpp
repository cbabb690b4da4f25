// The test harness's memory cgroup helpers (support/Harness.h) on whichever hierarchy
// this host has: a cgroup v2 one with the memory controller (Debian 12's default, the
// lab's pure-v2 guest) or the v1 memory hierarchy (hybrid hosts). The VM end-to-end
// tests read and limit libvirt's cgroups through the same cgmem functions, so this is
// also their check on a host where libvirt cannot run (the pure-v2 guest).
#include <chrono>
#include <cstdio>
#include <string>

#include "support/Harness.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;

TEST(CgroupMemory, UsageLimitAndOomKillsAreReadOnEitherHierarchy) {
  ORK_REQUIRE(::geteuid() == 0, "needs root to create memory cgroups");
  CgroupMounts mounts = CgroupMounts::detect();
  MemoryCgroup cg;
  ORK_REQUIRE(cg.create(96), "no writable memory cgroup hierarchy (v1 memory or v2 +memory)");
  std::printf("[ cgroup   ] %s (%s host) %s\n", cg.v2() ? "v2" : "v1",
              mounts.pureV2() ? "pure v2" : (mounts.v2.empty() ? "v1" : "hybrid"), cg.path().c_str());
  // Where the memory controller is offered by cgroup2, it is the one taken.
  EXPECT_EQ(cg.v2(), mounts.v2Offers("memory"));
  EXPECT_EQ(cgmem::isV2(cg.path()), cg.v2());
  EXPECT_EQ(cgmem::limitBytes(cg.path()), 96ll << 20);
  EXPECT_EQ(cg.oomKills(), 0);

  Child hog = spawn({ORK_MEMHOG, "--cgroup", cg.path(), "hold", "32"});
  ASSERT_TRUE(hog.waitFor("ready", 30s)) << "memhog did not get ready";
  std::int64_t usage = cg.usageBytes();
  EXPECT_GE(usage, 32ll << 20) << "a 32 MiB hold is not charged to " << cg.path();
  EXPECT_LT(usage, 96ll << 20);

  // Raised, then removed: what the VM tests do to libvirt's cgroup.
  ASSERT_TRUE(cgmem::setLimit(cg.path(), usage + (64ll << 20)));
  EXPECT_EQ(cgmem::limitBytes(cg.path()), usage + (64ll << 20));
  ASSERT_TRUE(cgmem::setLimit(cg.path(), -1));
  EXPECT_EQ(cgmem::limitBytes(cg.path()), -1);
  EXPECT_FALSE(cgmem::setLimit(cg.path() + "/nonexistent", 1 << 20));
  hog.stop();
}

// The kernel's OOM killer in the test's cgroup shows in the counter the memory tests use
// as proof that it did not act: memory.events (v2) or memory.oom_control (v1) oom_kill.
TEST(CgroupMemory, KernelOomKillIsCounted) {
  ORK_REQUIRE(::geteuid() == 0, "needs root to create memory cgroups");
  MemoryCgroup cg;
  ORK_REQUIRE(cg.create(48), "no writable memory cgroup hierarchy (v1 memory or v2 +memory)");
  EXPECT_EQ(cg.oomKills(), 0);
  // No ORK here: a fill past the 48 MiB limit is the kernel's to kill.
  Child hog = spawn({ORK_MEMHOG, "--cgroup", cg.path(), "fill", "0", "200"});
  ASSERT_TRUE(hog.waitExit(60s)) << "the kernel did not kill a hog over its cgroup's limit";
  EXPECT_TRUE(hog.killedBySigkill());
  EXPECT_EQ(cg.oomKills(), 1);
  hog.stop();
}

}  // namespace
}  // namespace ork::test
