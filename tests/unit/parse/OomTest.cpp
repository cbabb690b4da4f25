// The kernel OOM killer's lines (parse/Oom.h), in the formats of 4.19 to 6.x (FACTS.md).
#include <gtest/gtest.h>

#include "ork/parse/Oom.h"

namespace ork::parse {
namespace {

TEST(Oom, SummaryOfAGlobalOom) {
  auto l = parseOomLine(
      "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,"
      "task=whiptail,pid=472,uid=0");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->kind, OomLineKind::Summary);
  EXPECT_EQ(l->pid, 472);
  EXPECT_EQ(l->name, "whiptail");
  EXPECT_EQ(l->uid, 0);
  EXPECT_EQ(l->taskMemcg, "/");
  EXPECT_EQ(l->constraint, "CONSTRAINT_NONE");
  EXPECT_TRUE(l->oomMemcg.empty());
  EXPECT_FALSE(l->memcg);
}

TEST(Oom, SummaryOfAMemcgOomWithLibvirtsScope) {
  auto l = parseOomLine(
      "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=/machine.slice/machine-qemu\\x2d1\\x2dweb.scope,"
      "task_memcg=/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/emulator,task=qemu-system-x86,pid=4242,uid=64055");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->pid, 4242);
  EXPECT_EQ(l->uid, 64055);
  EXPECT_EQ(l->name, "qemu-system-x86");
  EXPECT_EQ(l->oomMemcg, "/machine.slice/machine-qemu\\x2d1\\x2dweb.scope");
  EXPECT_EQ(l->taskMemcg, "/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/emulator");
  EXPECT_TRUE(l->memcg);
}

TEST(Oom, SummaryWithCommasInNameAndPath) {
  auto l = parseOomLine("oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/a,b,task_memcg=/a,b,task=x,pid=1,y,pid=7,uid=3");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->pid, 7);
  EXPECT_EQ(l->name, "x,pid=1,y");
  EXPECT_EQ(l->taskMemcg, "/a,b");
}

TEST(Oom, KilledLineOf5x) {
  auto l = parseOomLine(
      "Out of memory: Killed process 472 (whiptail) total-vm:10276kB, anon-rss:1028kB, file-rss:1276kB, "
      "shmem-rss:0kB, UID:0 pgtables:68kB oom_score_adj:0");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->kind, OomLineKind::Killed);
  EXPECT_EQ(l->pid, 472);
  EXPECT_EQ(l->name, "whiptail");
  EXPECT_EQ(l->totalVmKib, 10276u);
  EXPECT_EQ(l->anonRssKib, 1028u);
  EXPECT_EQ(l->fileRssKib, 1276u);
  EXPECT_EQ(l->shmemRssKib, 0u);
  EXPECT_EQ(l->uid, 0);
  EXPECT_FALSE(l->memcg);
}

TEST(Oom, MemcgKilledLineAndAHostileName) {
  auto l = parseOomLine("Memory cgroup out of memory: Killed process 9 (a) total-vm:x) total-vm:100kB, anon-rss:50kB, "
                        "file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:4kB oom_score_adj:0");
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->memcg);
  EXPECT_EQ(l->name, "a");  // the first ") total-vm:" ends the name: the kernel's comm is at most 15 bytes
  EXPECT_EQ(l->anonRssKib, 50u);
  auto m = parseOomLine("Memory cgroup out of memory: Killed process 9 (a) b) total-vm:100kB, anon-rss:50kB, "
                        "file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:4kB oom_score_adj:0");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "a) b");
  EXPECT_EQ(m->anonRssKib, 50u);
  EXPECT_EQ(m->uid, 1000);
}

TEST(Oom, LinesOf419) {
  auto s = parseOomLine("Memory cgroup out of memory: Kill process 123 (java) score 900 or sacrifice child");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, OomLineKind::Sacrifice);
  EXPECT_EQ(s->pid, 123);
  EXPECT_EQ(s->name, "java");
  EXPECT_EQ(s->score, 900);
  EXPECT_TRUE(s->memcg);
  auto k = parseOomLine("Killed process 124 (java) total-vm:2097152kB, anon-rss:1048576kB, file-rss:0kB, shmem-rss:0kB");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->kind, OomLineKind::Killed);
  EXPECT_EQ(k->pid, 124);
  EXPECT_EQ(k->anonRssKib, 1048576u);
  EXPECT_EQ(k->uid, -1);
  auto g = parseOomLine("Out of memory: Kill process 5 (x) score 1 or sacrifice child");
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->memcg);
}

TEST(Oom, OtherAndMalformedLinesAreNotKills) {
  for (const char* m : {"", "oom_reaper: reaped process 472 (whiptail), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
                        "whiptail invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
                        "Out of memory: Killed process x (a) total-vm:1kB", "Killed process 0 (a) total-vm:1kB",
                        "Killed process 12 a total-vm:1kB", "Out of memory: Killed process 472 (whipta-r(null),cpusdj:0",
                        "Kill process 3 (x)", "oom-kill:constraint=CONSTRAINT_MEMCG,task=q,pid=1,uid=-64055", "oom-kill:constraint=CONSTRAINT_NONE,task=a,pid=1",
                        "oom-kill:task=a,pid=-1,uid=0", "Out of memory", "Killed process -3 (a) total-vm:1kB",
                        "[ pid ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"})
    EXPECT_FALSE(parseOomLine(m).ok()) << m;
}

}  // namespace
}  // namespace ork::parse
