// The guest NICs: read from a domain's live XML (parseDomainInterfaces), carried in the
// domain message's nics field (formatNics / parseNics), round trip through the codec.
#include <gtest/gtest.h>

#include "ork/parse/VirtProtocol.h"

namespace ork::parse {
namespace {

constexpr std::string_view kLiveXml = R"(<domain type='qemu' id='3'>
  <name>instance-0000002a</name>
  <devices>
    <!-- <interface><mac address='00:00:00:00:00:09'/></interface> -->
    <interface type='bridge'>
      <mac address='52:54:00:12:34:56'/>
      <source bridge='br0'/>
      <target dev='vnet3'/>
      <model type='virtio'/>
      <alias name='net0'/>
    </interface>
    <interface type='network'>
      <mac address="FA:16:3E:AB:CD:EF"/>
      <target dev="tap&#x31;"/>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:00:00:02'/>
    </interface>
    <interface type='bridge'><mac address='not a mac'/><target dev='vnet9'/></interface>
    <disk type='file'><target dev='vda'/></disk>
  </devices>
  <seclabel><mac address='02:00:00:00:00:07'/></seclabel>
</domain>)";

TEST(DomainNics, ReadsEveryInterfaceWithItsTap) {
  auto nics = parseDomainInterfaces(kLiveXml);
  ASSERT_EQ(nics.size(), 3u);
  EXPECT_EQ(nics[0].mac, "52:54:00:12:34:56");
  EXPECT_EQ(nics[0].target, "vnet3");
  EXPECT_EQ(nics[1].mac, "fa:16:3e:ab:cd:ef");
  EXPECT_EQ(nics[1].target, "tap1");
  EXPECT_EQ(nics[2].mac, "52:54:00:00:00:02");
  EXPECT_EQ(nics[2].target, "");
}

TEST(DomainNics, PrefixedAndBrokenXml) {
  auto nics = parseDomainInterfaces(
      "<x:domain><x:devices><x:interface type='bridge'><x:mac address='52:54:00:00:00:01'/><x:target dev='vnet0'/></x:interface>"
      "<x:interface><x:mac address='52:54:00:00:00:02'/><x:target dev='vn");
  ASSERT_EQ(nics.size(), 1u);
  EXPECT_EQ(nics[0].target, "vnet0");
  EXPECT_TRUE(parseDomainInterfaces("").empty());
  EXPECT_TRUE(parseDomainInterfaces("<interface><mac address='52:54:00:00:00:01'/></interface>").empty());
}

TEST(DomainNics, FieldRoundTrip) {
  std::vector<DomainNic> nics = {{"52:54:00:12:34:56", "vnet3"}, {"FA:16:3E:AB:CD:EF", ""}, {"bad", "x"},
                                 {"52:54:00:00:00:03", "a b@c"}};
  const std::string f = formatNics(nics);
  EXPECT_EQ(f, "52:54:00:12:34:56@vnet3 fa:16:3e:ab:cd:ef@ 52:54:00:00:00:03@a");
  auto back = parseNics(f);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].target, "vnet3");
  EXPECT_EQ(back[1].mac, "fa:16:3e:ab:cd:ef");
  EXPECT_EQ(back[1].target, "");
  EXPECT_TRUE(parseNics("").empty());
  EXPECT_EQ(parseNics("  junk 52:54:00:00:00:01 x@y").size(), 1u);

  VirtDomain d;
  d.uuid = "6f1e3c2a-5b7d-4e8f-9a0b-1c2d3e4f5a6b";
  d.name = "vm";
  d.state = "running";
  d.nics = f;
  auto m = decodeVirtHelperMessage(encodeVirtDomain(4, d));
  ASSERT_TRUE(m.ok()) << m.error().what;
  EXPECT_EQ(m->domain.nics, f);
  // From a helper that predates the field: empty.
  d.nics.clear();
  auto old = decodeVirtHelperMessage(encodeVirtDomain(4, d));
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->domain.nics.empty());
}

}  // namespace
}  // namespace ork::parse
