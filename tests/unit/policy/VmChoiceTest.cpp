// policy/VmChoice: hibernation order, the room a save needs, which VMs to freeze.
#include "ork/policy/VmChoice.h"

#include <gtest/gtest.h>

namespace ork::policy {
namespace {

SaveCandidate saveable(int id, std::int64_t mib) {
  SaveCandidate c;
  c.id = id;
  c.memory = Bytes::mib(mib);
  c.guest = Bytes::mib(mib);
  c.reachable = c.runningOrPaused = true;
  return c;
}

TEST(HibernationOrder, LargestFirstAndOnlyThoseThatCanBeSaved) {
  std::vector<SaveCandidate> vms = {saveable(0, 512), saveable(1, 4096), saveable(2, 2048), saveable(3, 8192),
                                    saveable(4, 16384), saveable(5, 1024), saveable(6, 3000), saveable(7, 900)};
  vms[3].saved = true;
  vms[4].cgroupFrozen = true;  // cannot answer libvirt
  vms[5].reachable = false;    // no domain, or its UUID claimed twice
  vms[6].retryHeld = true;
  vms[7].runningOrPaused = false;
  std::vector<int> out;
  hibernationOrder(vms, out);
  EXPECT_EQ(out, (std::vector<int>{1, 2, 0}));
}

TEST(HibernationOrder, TiesAreStable) {
  std::vector<SaveCandidate> vms = {saveable(2, 100), saveable(1, 100), saveable(0, 100)};
  vms[0].guest = Bytes::mib(200);
  std::vector<int> out;
  hibernationOrder(vms, out);
  EXPECT_EQ(out, (std::vector<int>{2, 0, 1}));
}

TEST(SaveRoom, GuestPlusMargins) {
  config::Config cfg;  // 10 % + 256 MiB
  EXPECT_EQ(saveRoomNeeded(Bytes::mib(1000), cfg), Bytes::mib(1356));
  EXPECT_TRUE(saveFits(Bytes::mib(1000), Bytes::mib(1356), cfg));
  EXPECT_FALSE(saveFits(Bytes::mib(1000), Bytes::mib(1355), cfg));
  cfg.set(config::Key::VmSaveMarginPercent, 0);
  cfg.set(config::Key::VmSaveMarginMib, 0);
  EXPECT_TRUE(saveFits(Bytes::mib(1000), Bytes::mib(1000), cfg));
}

TEST(VmsToFreeze, AsManyAsNeededLargestFirst) {
  std::vector<FreezeCandidate> vms = {{0, 0.5}, {1, 1.8}, {2, 0.05}, {3, 1.0}, {4, 3.0, true}, {5, 2.5, false, true}};
  FreezePlan plan;
  vmsToFreeze(vms, 2.5, 0.1, plan);
  EXPECT_EQ(plan.ids, (std::vector<int>{1, 3}));
  EXPECT_DOUBLE_EQ(plan.cpus, 2.8);
  vmsToFreeze(vms, 0.0, 0.1, plan);  // at least half a CPU of excess
  EXPECT_EQ(plan.ids, (std::vector<int>{1}));
  vmsToFreeze(vms, 10, 0.1, plan);  // all that qualify, not more
  EXPECT_EQ(plan.ids, (std::vector<int>{1, 3, 0}));
  vmsToFreeze(vms, 10, 2.0, plan);
  EXPECT_TRUE(plan.ids.empty());
}

}  // namespace
}  // namespace ork::policy
