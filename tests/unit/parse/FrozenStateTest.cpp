// parse::parseFrozenRecord / formatFrozenRecord: ORK's record of the VMs it froze.
#include "ork/parse/FrozenState.h"

#include <gtest/gtest.h>

namespace ork::parse {
namespace {

using M = FrozenRecord::Method;

TEST(FrozenState, RoundTrips) {
  for (auto [m, uuid, dir] : {std::tuple{M::Libvirt, "5f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f", ""},
                              std::tuple{M::CgroupV2, "", "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1.scope"},
                              std::tuple{M::CgroupV1, "abc", "/sys/fs/cgroup/freezer/machine/qemu-1"}}) {
    std::string line = formatFrozenRecord(m, 4242, 123456789, uuid, dir);
    ASSERT_EQ(line.back(), '\n');
    line.pop_back();
    auto r = parseFrozenRecord(line);
    ASSERT_TRUE(r.ok()) << line << ": " << r.error().what;
    EXPECT_EQ(r->method, m);
    EXPECT_EQ(r->pid, 4242);
    EXPECT_EQ(r->startTimeTicks, 123456789u);
    EXPECT_EQ(r->uuid, uuid);
    EXPECT_EQ(r->dir, dir);
  }
}

TEST(FrozenState, RefusesWhatItDidNotWrite) {
  for (const char* bad : {"", "cgroup_v2", "cgroup_v2 1 2 -", "cgroup_v3 1 2 - /x", "cgroup_v2 0 2 - /x",
                          "cgroup_v2 -5 2 - /x", "cgroup_v2 1 -2 - /x", "cgroup_v2 1 2 - relative/dir",
                          "cgroup_v2 1 2 - -", "libvirt 1 2 - -", "libvirt 1 2 uuid - extra",
                          "cgroup_v1 99999999999 2 - /x", "cgroup_v2 1 18446744073709551616 - /x"}) {
    EXPECT_FALSE(parseFrozenRecord(bad).ok()) << '"' << bad << '"';
  }
}

TEST(FrozenState, HostileTextIsNotWritten) {
  std::string line = formatFrozenRecord(M::CgroupV2, 1, 2, "a b\nc", "/x\ny");
  EXPECT_EQ(line, "cgroup_v2 1 2 - -\n");
}

}  // namespace
}  // namespace ork::parse
