// virt::LibvirtClient against libvirt's test driver, which runs inside the client
// library (no libvirtd). Every test:/// connection starts from the driver's initial
// state, so each test is one scenario on one client.
#include <gtest/gtest.h>
#include <libvirt/virterror.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "virt/LibvirtClient.h"

namespace ork::virt {
namespace {

using namespace std::chrono_literals;
using parse::VirtDomain;

constexpr const char* kTestUuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";  // test:///default
const std::string kNodeUri = std::string("test://") + ORK_FIXTURES + "/libvirt/node.xml";

SteadyTime in(std::chrono::milliseconds d) { return std::chrono::steady_clock::now() + d; }

std::vector<VirtDomain> listOf(LibvirtClient& c) {
  std::vector<VirtDomain> out;
  const CallResult r = c.list(out);
  EXPECT_TRUE(r.ok) << r.message;
  return out;
}

const VirtDomain* find(const std::vector<VirtDomain>& ds, const std::string& name) {
  auto it = std::find_if(ds.begin(), ds.end(), [&](const VirtDomain& d) { return d.name == name; });
  return it == ds.end() ? nullptr : &*it;
}

TEST(LibvirtClient, ConnectsLazilyAndListsTheDefaultDomain) {
  LibvirtClient c({"test:///default"});
  EXPECT_FALSE(c.connected());
  const auto ds = listOf(c);
  EXPECT_TRUE(c.connected());
  ASSERT_EQ(ds.size(), 1u);
  const VirtDomain& d = ds[0];
  EXPECT_EQ(d.name, "test");
  EXPECT_EQ(d.uuid, kTestUuid);
  EXPECT_EQ(d.state, "running");
  EXPECT_EQ(d.id, 1);
  EXPECT_EQ(d.memory, Bytes::mib(2048));
  EXPECT_EQ(d.maxMemory, Bytes::mib(8192));
  EXPECT_EQ(d.vcpus, 2);
  EXPECT_GT(d.cpuNs, 0u);
  EXPECT_FALSE(d.managedSave);
  EXPECT_EQ(d.novaName, "");
}

TEST(LibvirtClient, SuspendPausesAndResumeRuns) {
  LibvirtClient c({"test:///default"});
  CallResult r = c.suspend(kTestUuid);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(listOf(c).at(0).state, "paused");
  // Suspending a paused domain is libvirt's error, passed on with its code and text
  // (the test driver says VIR_ERR_INTERNAL_ERROR, qemu VIR_ERR_OPERATION_INVALID).
  r = c.suspend(kTestUuid);
  EXPECT_FALSE(r.ok);
  EXPECT_GT(r.code, 0);
  EXPECT_NE(r.message.find("not running"), std::string::npos) << r.message;
  r = c.resume(kTestUuid);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(listOf(c).at(0).state, "running");
}

TEST(LibvirtClient, ManagedSaveStopsTheDomainAndKeepsItListed) {
  LibvirtClient c({"test:///default"});
  const CallResult r = c.save(kTestUuid, in(10s));
  ASSERT_TRUE(r.ok) << r.message;
  const auto ds = listOf(c);
  ASSERT_EQ(ds.size(), 1u);  // inactive, but hibernated: still listed
  EXPECT_EQ(ds[0].state, "shutoff");
  EXPECT_EQ(ds[0].id, -1);
  EXPECT_TRUE(ds[0].managedSave);
}

TEST(LibvirtClient, ReadsNovaMetadataOfBothNamespaces) {
  LibvirtClient c({kNodeUri});
  const auto ds = listOf(c);
  // Running: the two nova instances and "plain"; of the shut-off ones only the one
  // with a managed save image.
  ASSERT_EQ(ds.size(), 4u);
  const VirtDomain* web = find(ds, "instance-0000002a");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->novaName, "web-1");
  EXPECT_EQ(web->novaProject, "demo");
  EXPECT_EQ(web->novaFlavor, "m1.small");
  EXPECT_EQ(web->memory, Bytes::mib(1024));
  EXPECT_EQ(web->maxMemory, Bytes::mib(2048));
  const VirtDomain* old = find(ds, "instance-0000002b");  // nova namespace 1.0
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(old->novaName, "db & cache");
  EXPECT_EQ(old->novaProject, "prod");
  EXPECT_EQ(old->novaFlavor, "m1.<large>");
  const VirtDomain* plain = find(ds, "plain");
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->novaName, "");
  EXPECT_EQ(plain->novaProject, "");
  EXPECT_EQ(find(ds, "stopped"), nullptr);
  const VirtDomain* hib = find(ds, "hibernated");
  ASSERT_NE(hib, nullptr);
  EXPECT_TRUE(hib->managedSave);
  EXPECT_EQ(hib->state, "shutoff");
}

TEST(LibvirtClient, ReadOnlyRefusesChangesWithoutAskingLibvirt) {
  LibvirtClient c({"test:///default", true});
  for (const CallResult& r :
       {c.save(kTestUuid, in(10s)), c.suspend(kTestUuid), c.resume(kTestUuid)}) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.code, parse::kVirtReadOnly) << r.message;
  }
  EXPECT_FALSE(c.connected());  // refused before connecting
  const auto ds = listOf(c);    // reading is allowed
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].state, "running");
}

TEST(LibvirtClient, VanishedDomainIsAnErrorNotACrash) {
  LibvirtClient c({"test:///default"});
  const char* gone = "00000000-1111-2222-3333-444444444444";
  for (const CallResult& r : {c.suspend(gone), c.resume(gone), c.save(gone, in(10s))}) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.code, VIR_ERR_NO_DOMAIN) << r.message;
    EXPECT_NE(r.message.find(gone), std::string::npos) << r.message;
  }
  const CallResult bad = c.suspend("not-a-uuid");
  EXPECT_FALSE(bad.ok);
  EXPECT_GT(bad.code, 0) << bad.message;  // libvirt's (invalid argument), whatever it is
  // The connection survived: the real domain still answers.
  EXPECT_TRUE(c.suspend(kTestUuid).ok);
}

TEST(LibvirtClient, UnreachableLibvirtIsNoConnectionAndIsRetried) {
  LibvirtClient c({"qemu+unix:///system?socket=/nonexistent/ork-test/libvirt-sock"});
  for (int i = 0; i < 2; ++i) {
    std::vector<VirtDomain> ds;
    const CallResult r = c.list(ds);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.code, parse::kVirtNoConnection);
    EXPECT_NE(r.message.find("/nonexistent/ork-test/libvirt-sock"), std::string::npos) << r.message;
    EXPECT_FALSE(c.connected());
  }
}

TEST(LibvirtClient, ExecuteDispatchesAndRefusesWhatIsPastItsDeadline) {
  LibvirtClient c({"test:///default"});
  std::vector<VirtDomain> ds;
  parse::VirtRequest req{1, parse::VirtOp::Suspend, kTestUuid, 0};
  CallResult r = c.execute(req, std::chrono::steady_clock::now() - 1ms, ds);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, parse::kVirtDeadline);
  EXPECT_FALSE(c.connected());  // not even connected

  req.op = parse::VirtOp::Ping;
  r = c.execute(req, in(5s), ds);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.message.rfind("libvirt ", 0), 0u) << r.message;

  req.op = parse::VirtOp::List;
  r = c.execute(req, in(5s), ds);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(ds.size(), 1u);

  req.op = parse::VirtOp::Suspend;
  r = c.execute(req, in(5s), ds);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(ds.empty());  // only a list fills domains
  req.op = parse::VirtOp::List;
  ASSERT_TRUE(c.execute(req, in(5s), ds).ok);
  EXPECT_EQ(ds.at(0).state, "paused");
}

}  // namespace
}  // namespace ork::virt
