// What `ork events` makes of the records: entries, the VM found by identity or by
// libvirt's scope name, before/after, the sparkline, the plot, --since.
#include <gtest/gtest.h>

#include "ork/cli/Events.h"
#include "ork/recorder/History.h"

namespace ork::recorder {
namespace {

constexpr std::int64_t kS = 1'000'000'000;
constexpr std::int64_t kT = 1'764'000'000 * kS;  // an event's time

Record rec(std::int64_t t, std::string_view text) { return {t, 0, parseFields(text)}; }

History memoryAround() {
  History h;
  for (int i = -400; i <= 400; ++i) {
    Sample s;
    s.timeNs = kT + i * kS;
    s.totalKib = 16 << 20;
    s.availKib = i < 0 ? static_cast<std::uint64_t>(8 << 20) + static_cast<std::uint64_t>(i) * 20000 : 12u << 20;
    s.psiMemSome = i < 0 && i > -30 ? 4000 : 0;
    h.samples.push_back(s);
  }
  return h;
}

TEST(Fields, QuotedEscapedAndMalformed) {
  Fields f = parseFields("event=kill pid=12 name=\"a \\x22b\\x5c\" cmd=\"\" x=1");
  EXPECT_EQ(f.get("event"), "kill");
  EXPECT_EQ(f.num("pid"), 12);
  EXPECT_EQ(f.get("name"), "a \"b\\");
  EXPECT_TRUE(f.has("cmd"));
  EXPECT_EQ(f.num("x"), 1);
  EXPECT_EQ(f.num("name"), -1);
  Fields g = parseFields("event=kill name=\"unterminated pid=3");
  EXPECT_EQ(g.get("event"), "kill");
  EXPECT_FALSE(g.has("pid"));
}

TEST(History, ScopeNameOfLibvirt) {
  ScopeName sn;
  ASSERT_TRUE(vmNameFromCgroup("/machine.slice/machine-qemu\\x2d3\\x2dweb01.scope/libvirt/emulator", sn));
  EXPECT_EQ(sn.id, 3);
  EXPECT_EQ(sn.name, "web01");
  ASSERT_TRUE(vmNameFromCgroup("/machine.slice/machine-qemu\\x2d12\\x2dinstance\\x2d0000002a.scope", sn));
  EXPECT_EQ(sn.name, "instance-0000002a");
  ASSERT_TRUE(vmNameFromCgroup("/machine/qemu-5-db-1.libvirt-qemu/emulator", sn));
  EXPECT_EQ(sn.id, 5);
  EXPECT_EQ(sn.name, "db-1");
  EXPECT_FALSE(vmNameFromCgroup("/system.slice/ssh.service", sn));
  EXPECT_FALSE(vmNameFromCgroup("/machine.slice/machine-qemu\\x2dx\\x2dweb.scope", sn));
  // libvirt keeps hostname characters, drops leading dots, cuts the machine name at 64.
  EXPECT_EQ(scopeFormOfName("web_01.example", 3), "web01example");
  EXPECT_EQ(scopeFormOfName("..a", 1), "a");
  const std::string longName(100, 'v');
  EXPECT_EQ(scopeFormOfName(longName, 7), std::string(64 - 7, 'v'));  // "qemu-7-" is 7 characters
}

TEST(History, KernelKillNamedByTheEventByIdentityAndByCgroup) {
  History h = memoryAround();
  // The daemon knew the VM at the kill.
  h.events.push_back(rec(kT, "event=oom_kill by=kernel pid=100 name=\"qemu-system-x86\" uid=0 kind=memcg "
                             "cgroup=\"/x\" freed_kib=65536 vm=\"web01\" uuid=6f1c0000-0000-4000-8000-000000000001"));
  // Only an identity record knew it.
  h.identities.push_back(rec(kT - 100 * kS, "event=identity kind=vm pid=200 start_ticks=55 vm=\"db\" "
                                            "uuid=aaaaaaaa-0000-4000-8000-000000000002 instance=aaaaaaaa-0000-4000-8000-000000000002 "
                                            "instance_name=\"db-prod\" project=\"p1\" flavor=\"m1.large\" name=\"qemu-system-x86\""));
  h.events.push_back(rec(kT + 1, "event=oom_kill by=kernel pid=200 name=\"qemu-system-x86\" kind=global start_ticks=55"));
  // Only the cgroup said it, confirmed by an earlier identity of that name.
  h.identities.push_back(rec(kT - 50 * kS, "event=identity kind=vm pid=300 start_ticks=9 vm=\"cache.example\" "
                                           "uuid=bbbbbbbb-0000-4000-8000-000000000003"));
  h.events.push_back(rec(kT + 2, "event=oom_kill by=kernel pid=301 name=\"qemu-kvm\" kind=memcg "
                                 "cgroup=\"/machine.slice/machine-qemu\\x5cx2d4\\x5cx2dcacheexample.scope/libvirt/emulator\""));
  // ORK's own kill, and a line that is no action.
  h.events.push_back(rec(kT + 3, "event=kill pid=400 name=\"memhog\" user=\"bob\" freed_kib=2048 reason=memory_below_hard "
                                 "dry_run=0 result=ok"));
  h.events.push_back(rec(kT + 4, "event=exited pid=400"));
  h.events.push_back(rec(kT + 5, "event=hibernate vm=\"x\" result=started"));
  h.sort();
  auto es = buildEntries(h, 0);
  ASSERT_EQ(es.size(), 4u);
  EXPECT_EQ(es[0].who, "kernel");
  EXPECT_EQ(es[0].vm, "web01");
  EXPECT_EQ(es[0].vmSource, "event");
  EXPECT_EQ(es[0].reason, "memory_cgroup_limit");
  EXPECT_EQ(es[0].freedKib, 65536);
  EXPECT_EQ(es[0].availBeforeKib, (8 << 20) - 20000);  // the second before
  EXPECT_EQ(es[0].availAfterKib, 12 << 20);
  EXPECT_EQ(es[1].vm, "db");
  EXPECT_EQ(es[1].instanceName, "db-prod");
  EXPECT_EQ(es[1].flavor, "m1.large");
  EXPECT_EQ(es[1].vmSource, "identity");
  EXPECT_EQ(es[1].reason, "host_out_of_memory");
  EXPECT_EQ(es[2].vm, "cache.example");
  EXPECT_EQ(es[2].uuid, "bbbbbbbb-0000-4000-8000-000000000003");
  EXPECT_EQ(es[2].vmSource, "cgroup+identity");
  EXPECT_EQ(es[3].who, "ork");
  EXPECT_EQ(es[3].user, "bob");
  EXPECT_EQ(es[3].reason, "memory_below_hard");
  // --since
  EXPECT_EQ(buildEntries(h, kT + 2).size(), 2u);

  long long lo = 0, hi = 0;
  const std::string spark = sparkline(h, kT - 300 * kS, kT + 300 * kS, 20, lo, hi);
  EXPECT_EQ(lo, (8 << 20) - 300 * 20000);
  EXPECT_EQ(hi, 12 << 20);
  EXPECT_EQ(spark.substr(0, 3), "▁");      // the low point, 5 minutes before
  EXPECT_EQ(spark.substr(spark.size() - 3), "█");  // recovered after the kill

  const std::string json = entryJson(es[1], spark);
  EXPECT_NE(json.find("\"who\":\"kernel\""), std::string::npos);
  EXPECT_NE(json.find("\"instance_name\":\"db-prod\""), std::string::npos);

  const std::string svg = renderSvg(h, es, kT - 400 * kS, kT + 400 * kS);
  EXPECT_TRUE(svg.starts_with("<svg"));
  EXPECT_NE(svg.find("id=\"mem_available\""), std::string::npos);
  EXPECT_NE(svg.find("id=\"psi_memory\""), std::string::npos);
  EXPECT_EQ(svg.find("id=\"cpu_busy\""), std::string::npos);  // nothing known: no line
  EXPECT_NE(svg.find("kernel kill: VM web01 pid 100"), std::string::npos);
  EXPECT_NE(svg.find("ork kill: memhog pid 400"), std::string::npos);
  int marks = 0;
  for (std::size_t p = 0; (p = svg.find("class=\"event\"", p)) != std::string::npos; ++p) ++marks;
  EXPECT_EQ(marks, 4);
}

TEST(History, SinceAcceptsDurationsAndLocalTimes) {
  std::int64_t since = 0;
  ASSERT_TRUE(cli::parseSince("90s", kT, since));
  EXPECT_EQ(since, kT - 90 * kS);
  ASSERT_TRUE(cli::parseSince("2h", kT, since));
  EXPECT_EQ(since, kT - 7200 * kS);
  ASSERT_TRUE(cli::parseSince("7d", kT, since));
  ASSERT_TRUE(cli::parseSince("2026-11-30 21:36", kT, since));
  std::int64_t t2 = 0;
  ASSERT_TRUE(cli::parseSince("2026-11-30T21:36:00", kT, t2));
  EXPECT_EQ(since, t2);
  for (const char* bad : {"", "yesterday", "5", "5x", "-3h", "2026-13-45 99:99"}) EXPECT_FALSE(cli::parseSince(bad, kT, since)) << bad;
}

}  // namespace
}  // namespace ork::recorder
