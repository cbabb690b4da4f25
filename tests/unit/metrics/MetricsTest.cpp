// The metrics surface: the exposition text (grouping, HELP/TYPE, escaping, values,
// histograms), the journal tap's counts and ring, the HTTP and status answers, the
// [metrics] configuration, the host's NICs from a /sys/class/net tree, and the small
// server's bounds on real sockets (connections, request size, deadlines).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <string>

#include "ork/config/Config.h"
#include "ork/journal/Journal.h"
#include "ork/metrics/Activity.h"
#include "ork/metrics/Exporter.h"
#include "ork/metrics/Listen.h"
#include "ork/metrics/Nics.h"
#include "ork/metrics/Server.h"
#include "ork/metrics/Status.h"
#include "ork/metrics/Writer.h"

namespace ork::metrics {
namespace {

TEST(Writer, GroupsFamiliesWithOneHelpAndType) {
  Writer w;
  w.gauge("ork_ladder_step", "the step", 0, {{"resource", "memory"}});
  w.gauge("ork_other", "other", 1);
  w.gauge("ork_ladder_step", "", 2, {{"resource", "disk"}, {"mount", "/"}});
  EXPECT_EQ(w.text(),
            "# HELP ork_ladder_step the step\n"
            "# TYPE ork_ladder_step gauge\n"
            "ork_ladder_step{resource=\"memory\"} 0\n"
            "ork_ladder_step{resource=\"disk\",mount=\"/\"} 2\n"
            "# HELP ork_other other\n"
            "# TYPE ork_other gauge\n"
            "ork_other 1\n");
}

TEST(Writer, TextOnlyModeRendersTheSame) {
  auto fill = [](Writer& w) {
    w.gauge("ork_a", "a", 1, {{"k", "v\"1"}});
    Histogram h;
    h.observe(Millis{2});
    w.histogram("ork_h", "h", h, {{"resource", "memory"}});
    w.gauge("ork_a", "", 2, {{"k", "v2"}});
    w.counter("ork_c_total", "c", 3);
  };
  Writer structured, textOnly(false);
  fill(structured);
  fill(textOnly);
  EXPECT_EQ(structured.text(), textOnly.text());
  EXPECT_TRUE(textOnly.families().front().samples.empty());
}

TEST(Writer, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escapeLabel("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escapeHelp("x\\y\nz\""), "x\\\\y\\nz\"");
  Writer w;
  w.gauge("ork_nic_info", "one\nper NIC \\", 1, {{"interface", "we\"ird\\\n"}});
  EXPECT_NE(w.text().find("ork_nic_info{interface=\"we\\\"ird\\\\\\n\"} 1\n"), std::string::npos) << w.text();
  EXPECT_NE(w.text().find("# HELP ork_nic_info one\\nper NIC \\\\\n"), std::string::npos) << w.text();
}

TEST(Writer, FormatsValues) {
  EXPECT_EQ(formatValue(0), "0");
  EXPECT_EQ(formatValue(25276059648.0), "25276059648");
  EXPECT_EQ(formatValue(-3), "-3");
  EXPECT_EQ(formatValue(0.5), "0.5");
  EXPECT_EQ(formatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(Writer, HistogramIsCumulativeWithInfSumAndCount) {
  Histogram h;
  h.observe(Millis{3});    // <= 0.005
  h.observe(Millis{40});   // <= 0.05
  h.observe(Seconds{60});  // beyond 30: +Inf only
  Writer w;
  w.histogram("ork_kill_latency_seconds", "h", h, {{"resource", "memory"}});
  const std::string t = w.text();
  EXPECT_NE(t.find("# TYPE ork_kill_latency_seconds histogram\n"), std::string::npos);
  EXPECT_NE(t.find("ork_kill_latency_seconds_bucket{resource=\"memory\",le=\"0.0025\"} 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("ork_kill_latency_seconds_bucket{resource=\"memory\",le=\"0.005\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("ork_kill_latency_seconds_bucket{resource=\"memory\",le=\"0.05\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("ork_kill_latency_seconds_bucket{resource=\"memory\",le=\"30\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("ork_kill_latency_seconds_bucket{resource=\"memory\",le=\"+Inf\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("ork_kill_latency_seconds_count{resource=\"memory\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("ork_kill_latency_seconds_sum{resource=\"memory\"} 60.043"), std::string::npos) << t;
}

TEST(Writer, JsonEscapesAndKeepsNonFiniteAsStrings) {
  EXPECT_EQ(jsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\u000a\\u0001\"");
  EXPECT_EQ(jsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(jsonString("bad\xff"), "\"bad\\ufffd\"");
  Writer w;
  w.gauge("ork_x", "x", std::numeric_limits<double>::infinity(), {{"k", "v"}});
  EXPECT_EQ(w.json(), "[\n    {\"name\": \"ork_x\", \"labels\": {\"k\": \"v\"}, \"value\": \"+Inf\"}\n  ]");
}

journal::Line line(std::string_view event, std::string_view fields) {
  journal::Line l(event);
  // Fields as the ladders write them: key=word pairs.
  std::size_t pos = 0;
  while (pos < fields.size()) {
    std::size_t sp = fields.find(' ', pos);
    std::string_view kv = fields.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos);
    std::size_t eq = kv.find('=');
    if (kv.substr(eq + 1).starts_with("\"")) l.str(kv.substr(0, eq), kv.substr(eq + 2, kv.size() - eq - 3));
    else l.word(kv.substr(0, eq), kv.substr(eq + 1));
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  return l;
}

TEST(Activity, FieldReadsWordsOnlyAtKeyBoundaries) {
  const std::string_view t = "event=kill pid=4 xreason=no reason=memory_below_hard name=\"a reason=b\" result=ok";
  EXPECT_EQ(Activity::field(t, "reason"), "memory_below_hard");
  EXPECT_EQ(Activity::field(t, "result"), "ok");
  EXPECT_EQ(Activity::field(t, "name"), "");  // quoted: not a word
  EXPECT_EQ(Activity::field(t, "absent"), "");
}

TEST(Activity, ResourceFromReasonThenEvent) {
  EXPECT_EQ(Activity::resourceOf("kill", "memory_below_hard"), "memory");
  EXPECT_EQ(Activity::resourceOf("freeze", "cpu_overload"), "cpu");
  EXPECT_EQ(Activity::resourceOf("disk_stop", "disk_below_hard"), "disk");
  EXPECT_EQ(Activity::resourceOf("thaw", "cooled_down"), "cpu");
  EXPECT_EQ(Activity::resourceOf("disk_clean", ""), "disk");
  EXPECT_EQ(Activity::resourceOf("thaw", "ork_stopping"), "other");
  EXPECT_EQ(Activity::resourceOf("link_down", "net_duplicate_mac"), "net");
}

TEST(Activity, CountsActionsByResourceActionReasonResult) {
  auto a = std::make_unique<Activity>();
  a->onLine(line("start", "version=1"));
  {
    Writer w;
    a->metrics(w);
    EXPECT_NE(w.text().find("\nork_actions_total 0\n"), std::string::npos) << w.text();
  }
  a->onLine(line("kill", "pid=1 reason=memory_below_hard result=ok"));
  a->onLine(line("kill", "pid=2 reason=memory_below_hard result=ok"));
  a->onLine(line("would_kill", "pid=3 reason=memory_below_hard result=dry_run"));
  a->onLine(line("freeze", "vm=x reason=cpu_overload result=ok"));
  a->onLine(line("pressure", "level=hard reason=memory_below_hard"));  // a decision, not an action
  Writer w;
  a->metrics(w);
  const std::string t = w.text();
  EXPECT_EQ(t.find("\nork_actions_total 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("ork_actions_total{resource=\"memory\",action=\"kill\",reason=\"memory_below_hard\",result=\"ok\"} 2\n"),
            std::string::npos) << t;
  EXPECT_NE(t.find("ork_actions_total{resource=\"memory\",action=\"would_kill\",reason=\"memory_below_hard\",result=\"dry_run\"} 1\n"),
            std::string::npos) << t;
  EXPECT_NE(t.find("ork_actions_total{resource=\"cpu\",action=\"freeze\",reason=\"cpu_overload\",result=\"ok\"} 1\n"),
            std::string::npos) << t;
  EXPECT_EQ(t.find("action=\"pressure\""), std::string::npos) << t;
  EXPECT_NE(t.find("ork_journal_lines_total{event=\"kill\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("ork_journal_lines_total{event=\"pressure\"} 1\n"), std::string::npos) << t;
}

TEST(Activity, RingKeepsTheLastLinesButNotStateLines) {
  auto a = std::make_unique<Activity>();
  for (int i = 0; i < 40; ++i) {
    a->onLine(line("state", "memory=ok"));
    a->onLine(line("kill", "pid=" + std::to_string(i) + " reason=memory_below_hard result=ok"));
  }
  std::vector<std::string> seen;
  a->forEachRecent([&](std::time_t, std::string_view text) { seen.emplace_back(text); });
  ASSERT_EQ(seen.size(), Activity::kRing);
  EXPECT_EQ(seen.front(), "event=kill pid=24 reason=memory_below_hard result=ok");
  EXPECT_EQ(seen.back(), "event=kill pid=39 reason=memory_below_hard result=ok");
}

TEST(Activity, RingKeepsWholeLinesOfAnyLengthInItsText) {
  // Lines of every length up to the longest: each line shown is whole and the newest
  // ones are shown, in order, until their text no longer fits.
  auto a = std::make_unique<Activity>();
  std::vector<std::string> written;
  for (int i = 0; i < 300; ++i) {
    std::string pad((static_cast<std::size_t>(i) * 97) % 900, static_cast<char>('a' + i % 26));
    std::string text = "pid=" + std::to_string(i) + " pad=" + pad;
    a->onLine(line("kill", text));
    written.push_back("event=kill " + text);
    std::vector<std::string> seen;
    a->forEachRecent([&](std::time_t, std::string_view t) { seen.emplace_back(t); });
    ASSERT_FALSE(seen.empty());
    ASSERT_LE(seen.size(), Activity::kRing);
    std::size_t bytes = 0;
    for (std::size_t k = 0; k < seen.size(); ++k) {
      bytes += seen[k].size();
      ASSERT_EQ(seen[k], written[written.size() - seen.size() + k]) << "after line " << i;
    }
    ASSERT_LE(bytes, Activity::kRingBytes);
    // Short lines: all 16 kept.
    if (written.size() >= Activity::kRing && bytes + 64 < Activity::kRingBytes / 2) {
      EXPECT_EQ(seen.size(), Activity::kRing);
    }
  }
  // Sixteen lines of ~300 bytes are all there.
  for (int i = 0; i < 16; ++i) a->onLine(line("kill", "pid=" + std::to_string(i) + " pad=" + std::string(290, 'x')));
  int n = 0;
  a->forEachRecent([&](std::time_t, std::string_view) { ++n; });
  EXPECT_EQ(n, 16);
}

TEST(Activity, TablesAreBoundedWhateverComes) {
  auto a = std::make_unique<Activity>();
  for (int i = 0; i < 500; ++i) {
    a->onLine(line("kill", "reason=r" + std::to_string(i) + " result=ok"));
    a->onLine(line("e" + std::to_string(i), "x=1"));
  }
  Writer w;
  a->metrics(w);
  EXPECT_EQ(w.find("ork_actions_total")->samples.size(), Activity::kActions);
  EXPECT_EQ(w.find("ork_journal_lines_total")->samples.size(), Activity::kEvents);
}

TEST(Activity, SeesLinesThroughTheJournalTap) {
  char path[] = "/tmp/ork-metrics-journal-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto j = journal::Journal::open(path, false);
  ASSERT_TRUE(j.ok());
  auto a = std::make_unique<Activity>();
  j->setTap(&Activity::tap, a.get());
  j->write(line("kill", "pid=1 reason=memory_below_hard result=ok"), journal::Priority::Warning, TimePoint{});
  int n = 0;
  a->forEachRecent([&](std::time_t, std::string_view) { ++n; });
  EXPECT_EQ(n, 1);
  ::unlink(path);
}

std::string body() { return "ork_x 1\n"; }

TEST(Http, AnswersMetricsAndRefusesTheRest) {
  auto ok = Exporter::answer("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", false, body);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->starts_with("HTTP/1.1 200 OK\r\n")) << *ok;
  EXPECT_NE(ok->find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(ok->find("Content-Length: 8\r\n"), std::string::npos);
  EXPECT_TRUE(ok->ends_with("\r\n\r\nork_x 1\n"));
  auto q = Exporter::answer("GET /metrics?x=1 HTTP/1.0\n\n", false, body);
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->starts_with("HTTP/1.1 200"));
  auto head = Exporter::answer("HEAD /metrics HTTP/1.1\r\n\r\n", false, body);
  ASSERT_TRUE(head);
  EXPECT_TRUE(head->ends_with("\r\n\r\n")) << *head;
  EXPECT_TRUE(Exporter::answer("GET / HTTP/1.1\r\n\r\n", false, body)->starts_with("HTTP/1.1 404"));
  auto post = Exporter::answer("POST /metrics HTTP/1.1\r\n\r\n", false, body);
  EXPECT_TRUE(post->starts_with("HTTP/1.1 405"));
  EXPECT_NE(post->find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_TRUE(Exporter::answer("GARBAGE\r\n\r\n", false, body)->starts_with("HTTP/1.1 400"));
  EXPECT_FALSE(Exporter::answer("GET /metrics HTTP/1.1\r\nHost:", false, body));  // more to come
  EXPECT_TRUE(Exporter::answer("GET /metrics HTTP/1.1\r\nHost:", true, body)->starts_with("HTTP/1.1 431"));
}

TEST(Status, AnswersRootOnly) {
  auto render = [](bool json) { return std::string(json ? "{}\n" : "text\n"); };
  EXPECT_EQ(*StatusServer::answer("text\n", false, 0, render), "text\n");
  EXPECT_EQ(*StatusServer::answer("json\r\n", false, 0, render), "{}\n");
  EXPECT_FALSE(StatusServer::answer("te", false, 0, render));
  EXPECT_TRUE(StatusServer::answer("hello\n", false, 0, render)->starts_with("error: unknown request"));
  EXPECT_TRUE(StatusServer::answer("xxxx", true, 0, render)->starts_with("error: request too long"));
  EXPECT_EQ(*StatusServer::answer("text\n", false, 65534, render), "error: ork status is for root only (your uid is 65534)\n");
}

TEST(Listen, ParsesLiteralAddressesOnly) {
  ListenAddress a;
  std::string m;
  EXPECT_TRUE(parseListen("127.0.0.1:9464", a, m)) << m;
  EXPECT_EQ(a.addr.ss_family, AF_INET);
  EXPECT_TRUE(parseListen("[::1]:9464", a, m)) << m;
  EXPECT_EQ(a.addr.ss_family, AF_INET6);
  EXPECT_TRUE(parseListen("0.0.0.0:1", a, m)) << m;
  EXPECT_FALSE(parseListen("localhost:9464", a, m));
  EXPECT_NE(m.find("host names are not resolved"), std::string::npos) << m;
  EXPECT_FALSE(parseListen("127.0.0.1", a, m));
  EXPECT_NE(m.find("no port"), std::string::npos) << m;
  EXPECT_FALSE(parseListen("127.0.0.1:0", a, m));
  EXPECT_FALSE(parseListen("127.0.0.1:65536", a, m));
  EXPECT_FALSE(parseListen("127.0.0.1:9x", a, m));
  EXPECT_FALSE(parseListen("[nope]:9464", a, m));
  EXPECT_FALSE(parseListen(":9464", a, m));
}

std::string configErrors(std::string_view text) {
  std::vector<config::ConfigError> errors;
  (void)config::Config::parse(text, "t.toml", errors);
  std::string out;
  for (const auto& e : errors) out += std::to_string(e.line) + ": " + e.message + "\n";
  return out;
}

TEST(Config, MetricsSection) {
  std::vector<config::ConfigError> errors;
  auto cfg = config::Config::parse("[metrics]\nlisten = \"127.0.0.1:9464\"\ntextfile = \"/var/lib/node/ork.prom\"\n"
                                   "textfile_interval_s = 30\n",
                                   "t.toml", errors);
  EXPECT_TRUE(errors.empty()) << configErrors("");
  EXPECT_EQ(cfg.metricsListen, "127.0.0.1:9464");
  EXPECT_EQ(cfg.metricsTextfile, "/var/lib/node/ork.prom");
  EXPECT_EQ(cfg.get(config::Key::MetricsTextfileIntervalS), 30);
  // Off by default.
  EXPECT_EQ(config::Config().metricsListen, "");
  EXPECT_EQ(config::Config().metricsTextfile, "");
  EXPECT_EQ(configErrors("[metrics]\nlisten = \"localhost:9464\"\n"),
            "2: metrics.listen: \"localhost:9464\": the address must be a literal IPv4 address (\"127.0.0.1\", "
            "\"0.0.0.0\") or a bracketed IPv6 one (\"[::1]\"); host names are not resolved\n");
  EXPECT_EQ(configErrors("[metrics]\nlisten = 9464\n"), "2: metrics.listen must be a string\n");
  EXPECT_EQ(configErrors("[metrics]\ntextfile = \"ork.prom\"\n"), "2: metrics.textfile must be an absolute file path\n");
  EXPECT_EQ(configErrors("[metrics]\ntextfile = \"/tmp/ork.txt\"\n"),
            "2: metrics.textfile \"/tmp/ork.txt\" must end in .prom (node_exporter's textfile collector reads only "
            "*.prom files)\n");
  EXPECT_EQ(configErrors("[metrics]\nport = 1\n"), "2: unknown key \"port\" in [metrics]\n");
  // The defaults print back and read again.
  config::Config withBoth;
  withBoth.metricsListen = "[::1]:9464";
  withBoth.metricsTextfile = "/x/ork.prom";
  std::vector<config::ConfigError> e2;
  auto again = config::Config::parse(withBoth.toToml(), "d.toml", e2);
  EXPECT_TRUE(e2.empty());
  EXPECT_EQ(again.metricsListen, "[::1]:9464");
  EXPECT_EQ(again.metricsTextfile, "/x/ork.prom");
}

TEST(Nics, ReadsEthernetInterfacesFromSysClassNet) {
  char tmpl[] = "/tmp/ork-nics-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  auto iface = [&](const std::string& name, const std::string& type, const std::string& addr) {
    ::mkdir((root + "/" + name).c_str(), 0755);
    std::ofstream(root + "/" + name + "/type") << type << "\n";
    std::ofstream(root + "/" + name + "/address") << addr << "\n";
  };
  iface("lo", "772", "00:00:00:00:00:00");
  iface("eth0", "1", "52:54:00:AB:cd:01");
  iface("vnet3", "1", "fe:54:00:11:22:33");
  iface("tun0", "65534", "");
  iface("dummy0", "1", "00:00:00:00:00:00");
  iface("broken", "1", "zz:zz");
  auto nics = hostNics(root);
  ASSERT_EQ(nics.size(), 2u);
  EXPECT_EQ(nics[0].interface, "eth0");
  EXPECT_EQ(nics[0].mac, "52:54:00:ab:cd:01");
  EXPECT_EQ(nics[1].interface, "vnet3");
  // A part that knows vnet3 is a VM's NIC replaces the host's entry of that name.
  auto merged = mergeNics({{"52:54:00:11:22:33", "vnet3", "instance-0001", "0b4c-uuid"}}, nics);
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[1].mac, "52:54:00:11:22:33");
  EXPECT_EQ(merged[1].vm, "instance-0001");
  Writer w;
  nicMetrics(w, merged);
  EXPECT_NE(w.text().find("ork_nic_info{mac=\"52:54:00:11:22:33\",interface=\"vnet3\",vm=\"instance-0001\",uuid=\"0b4c-uuid\"} 1\n"),
            std::string::npos) << w.text();
  // The same NIC told by two parts (the VM fleet, the network ladder): one series, the
  // one naming the VM.
  auto twice = mergeNics({{"52:54:00:11:22:33", "vnet3", "", ""}, {"52:54:00:11:22:33", "vnet3", "instance-0001", "0b4c-uuid"}},
                         nics);
  ASSERT_EQ(twice.size(), 2u);
  EXPECT_EQ(twice[1].vm, "instance-0001");
  EXPECT_TRUE(hostNics(root + "/absent").empty());
  std::string cmd = "rm -rf " + root;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
}

// The server on real sockets, driven by a real epoll, with time given by the test.
struct ServerRig {
  sys::Epoll epoll = std::move(*sys::Epoll::create());
  std::unique_ptr<Server> server;
  int port = 0;
  int handled = 0;

  explicit ServerRig(std::size_t maxRequest = 64) {
    ListenAddress a;
    std::string m;
    EXPECT_TRUE(parseListen("127.0.0.1:1", a, m));
    reinterpret_cast<sockaddr_in*>(&a.addr)->sin_port = 0;  // any free port
    auto fd = listenTcp(a);
    EXPECT_TRUE(fd.ok());
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    ::getsockname(fd->get(), reinterpret_cast<sockaddr*>(&bound), &len);
    port = ntohs(bound.sin_port);
    server = std::make_unique<Server>(maxRequest, Seconds{5}, [this](std::string_view req, bool full, int) -> std::optional<std::string> {
      if (full) return std::string("full\n");
      if (req.find('\n') == std::string_view::npos) return std::nullopt;
      ++handled;
      return std::string(100000, 'x');  // larger than a socket buffer takes at once, maybe
    });
    EXPECT_TRUE(server->start(std::move(*fd), &epoll, 7).ok());
  }
  void turn(TimePoint now, int waitMs = 50) {
    std::array<epoll_event, 16> ev{};
    auto n = epoll.wait(ev.data(), 16, Millis{waitMs});
    for (int i = 0; i < n.valueOr(0); ++i) server->onReady(ev[static_cast<std::size_t>(i)].data.u64, now);
    server->onTimer(now);
  }
  int connect() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }
};

TEST(Server, BoundsConnectionsAndClosesSilentClientsAtTheirDeadline) {
  ServerRig rig;
  TimePoint t0{Seconds{100}};
  std::vector<int> fds;
  for (int i = 0; i < 10; ++i) fds.push_back(rig.connect());
  for (int i = 0; i < 5; ++i) rig.turn(t0);
  EXPECT_EQ(rig.server->open(), static_cast<int>(Server::kMaxConnections));
  EXPECT_EQ(rig.server->refused(), 10 - Server::kMaxConnections);
  EXPECT_EQ(rig.server->nextDue(), t0 + Seconds{5});
  // Nobody sent anything: at the deadline every slot is freed.
  rig.turn(t0 + Seconds{5});
  EXPECT_EQ(rig.server->open(), 0);
  EXPECT_EQ(rig.server->nextDue(), TimePoint{Nanos::max()});
  for (int fd : fds) ::close(fd);
}

TEST(Server, AnswersAWholeRequestAndRefusesAnOversizedOne) {
  ServerRig rig;
  TimePoint t0{Seconds{100}};
  int fd = rig.connect();
  ASSERT_EQ(::send(fd, "hello\n", 6, 0), 6);
  std::string got;
  char buf[65536];
  for (int i = 0; i < 200 && got.size() < 100000; ++i) {
    rig.turn(t0, 10);
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(got.size(), 100000u);
  EXPECT_EQ(rig.handled, 1);
  ::close(fd);
  // 64 bytes without a newline: the limit, answered "full" and closed.
  fd = rig.connect();
  std::string big(1000, 'a');
  (void)::send(fd, big.data(), big.size(), MSG_NOSIGNAL);
  got.clear();
  for (int i = 0; i < 50 && got.empty(); ++i) {
    rig.turn(t0, 10);
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(got, "full\n");
  ::close(fd);
  for (int i = 0; i < 5; ++i) rig.turn(t0, 10);
  EXPECT_EQ(rig.server->open(), 0);
}

}  // namespace
}  // namespace ork::metrics
