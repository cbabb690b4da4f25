// policy::writerGroup: what step 2 kills with the chosen writer (docs/scoring.md,
// "Disks"): a pool of one program, a burst of writing siblings, or the writer alone
// across every boundary.
#include <gtest/gtest.h>

#include <memory>

#include "ork/policy/DiskRule.h"

namespace ork {
namespace {

using policy::Group;

ProcessInfo proc(int pid, int ppid, int session, std::uint64_t exeKey, std::uint64_t start = 1000,
                 std::string cgroup = "/user.slice/a") {
  ProcessInfo p;
  p.pid = pid;
  p.ppid = ppid;
  p.session = session;
  p.startTimeTicks = start;
  p.state = 'S';
  p.rss = Bytes::mib(10);
  auto id = std::make_shared<ProcessIdentity>();
  id->exeKey = exeKey;
  id->cgroup = std::move(cgroup);
  p.identity = id;
  return p;
}

struct Result {
  Group group;
  std::vector<int> pids;
};
Result groupOf(const std::vector<ProcessInfo>& e, int writerPid,
               std::vector<int> writingPids = {}) {
  auto at = [&](int pid) {
    for (std::size_t i = 0; i < e.size(); ++i)
      if (e[i].pid == pid) return static_cast<int>(i);
    return -1;
  };
  std::vector<int> writing;
  for (int p : writingPids) writing.push_back(at(p));
  int out[64];
  Group g = Group::Tree;
  int n = policy::writerGroup(e, at(writerPid), writing, 100, out, 64, &g);
  Result r{g, {}};
  for (int i = 0; i < n; ++i) r.pids.push_back(e[static_cast<std::size_t>(out[i])].pid);
  return r;
}

TEST(WriterGroup, APoolOfOneProgramGoesTogetherRootFirst) {
  std::vector<ProcessInfo> e = {proc(10, 1, 10, 7), proc(11, 10, 10, 7), proc(12, 10, 10, 7),
                                proc(13, 12, 10, 7), proc(14, 10, 10, 9)};
  auto r = groupOf(e, 13);
  EXPECT_EQ(r.group, Group::Pool);
  EXPECT_EQ(r.pids, (std::vector<int>{10, 11, 12, 13})) << "14 runs another program";
}

TEST(WriterGroup, BoundariesLeaveTheWriterAlone) {
  // The writer leads its own session (a daemon): alone.
  EXPECT_EQ(groupOf({proc(10, 1, 10, 7), proc(11, 10, 11, 7)}, 11).pids, std::vector<int>{11});
  // Its own cgroup (a service started by its parent's manager): alone.
  EXPECT_EQ(groupOf({proc(10, 1, 10, 7), proc(11, 10, 10, 7, 1000, "/system.slice/x")}, 11).pids,
            std::vector<int>{11});
  // The parent is protected (oom_score_adj -1000): alone.
  auto prot = proc(10, 2, 10, 7);
  prot.oomScoreAdj = -1000;
  EXPECT_EQ(groupOf({prot, proc(11, 10, 10, 7)}, 11).pids, std::vector<int>{11});
  // The parent is an interactive shell running the same program: not with it.
  auto shell = proc(10, 2, 10, 7);
  shell.hasTty = true;  // pts/0
  auto r = groupOf({shell, proc(11, 10, 10, 7)}, 11);
  EXPECT_EQ(r.group, Group::Process);
  EXPECT_EQ(r.pids, std::vector<int>{11});
}

TEST(WriterGroup, ABurstIsTheWritingSiblingsBornTogether) {
  std::vector<ProcessInfo> e = {proc(20, 2, 20, 1),        proc(21, 20, 20, 5, 5000),
                                proc(22, 20, 20, 5, 5050), proc(23, 20, 20, 5, 5120),
                                proc(24, 20, 20, 5, 9000), proc(25, 20, 20, 5, 5010)};
  // 25 does not write there; 24 was started 39 s later.
  auto r = groupOf(e, 22, {21, 22, 23, 24});
  EXPECT_EQ(r.group, Group::Burst);
  EXPECT_EQ(r.pids, (std::vector<int>{22, 21, 23}));
  // Alone when no sibling writes.
  EXPECT_EQ(groupOf(e, 22, {22}).group, Group::Process);
  // Never a burst under PID 1 (services started at boot together).
  std::vector<ProcessInfo> boot = {proc(30, 1, 20, 5, 5000), proc(31, 1, 20, 5, 5001)};
  EXPECT_EQ(groupOf(boot, 30, {30, 31}).pids, std::vector<int>{30});
}

}  // namespace
}  // namespace ork
