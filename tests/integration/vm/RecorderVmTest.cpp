// The flight recorder end to end: a real QEMU guest of a real libvirtd (tests/support/
// Libvirt.h) killed by the kernel's OOM killer when its memory cgroup's limit is hit;
// ORK, in dry-run and scoped to the test's cgroup, records the kill, and `ork events`
// names the domain and its UUID.
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/Harness.h"
#include "support/Libvirt.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;

TEST(RecorderVm, GuestKilledByItsCgroupLimitIsNamedByOrkEvents) {
  ORK_REQUIRE_LIBVIRTD(lv);
  std::string err;
  Guest g(*lv, GuestSpec::idle(256).touch(64));
  ASSERT_TRUE(g.start(&err)) << err;
  ASSERT_TRUE(g.waitReady(120s, &err)) << err;
  const pid_t qemu = g.pid();
  const std::string uuid = g.uuid();
  ASSERT_GT(qemu, 0);

  const std::string dir = tempDir();
  writeFile(dir + "/ork.toml", "[recorder]\ndir = \"" + dir + "/rec\"\n[scan]\nidle_interval_s = 1\n[cpu]\nenabled = false\n");
  JournalFile j{dir + "/journal.log"};
  Child ork = spawn({ORK_BINARY, "daemon", "--dry-run", "--cgroup", lv->memoryCgroup(), "--config", dir + "/ork.toml",
                     "--kmsg", j.path, "--quiet", "--state-dir", dir + "/state"});
  ASSERT_NE(j.waitFor({"event=recorder ", "kernel_log=1"}, 15s), "") << readFile(j.path);
  ASSERT_NE(j.waitFor({"event=vm_found", "uuid=" + uuid}, 15s), "") << readFile(j.path);

  // The guest's memory cgroup (QEMU's own) gets a limit of its usage plus 16 MiB, and a
  // hog in it takes more: the kernel kills the largest process there, QEMU.
  const std::string cg = g.cgroupDir("memory");
  ASSERT_NE(cg, "");
  const std::int64_t usage = cgmem::usageBytes(cg);
  ASSERT_GT(usage, 16 << 20) << cg;
  ASSERT_TRUE(cgmem::setLimit(cg, usage + (16 << 20))) << cg;
  Child hog = spawn({ORK_MEMHOG, "--cgroup", cg, "fill", "8", "64"});
  const std::string kill = j.waitFor({"event=oom_kill ", "pid=" + std::to_string(qemu) + " "}, 60s);
  hog.stop();
  ASSERT_NE(kill, "") << "no kernel kill of the guest recorded: " << readFile(j.path);
  EXPECT_EQ(field(kill, "kind"), "memcg");
  EXPECT_EQ(field(kill, "vm"), "\"" + g.name() + "\"") << kill;
  EXPECT_EQ(field(kill, "uuid"), uuid) << kill;
  ::kill(ork.pid, SIGTERM);
  ASSERT_TRUE(ork.waitExit(10s));

  std::string out;
  ASSERT_EQ(runCommand({ORK_BINARY, "events", "--config", dir + "/ork.toml", "--since", "30m"}, &out), 0) << out;
  EXPECT_NE(out.find("kernel kill"), std::string::npos) << out;
  EXPECT_NE(out.find("pid " + std::to_string(qemu) + " "), std::string::npos) << out;
  EXPECT_NE(out.find("VM " + g.name() + " uuid " + uuid), std::string::npos) << out;
  EXPECT_NE(out.find("reason memory_cgroup_limit"), std::string::npos) << out;
  runCommand({"/bin/rm", "-rf", dir});
}

}  // namespace
}  // namespace ork::test
