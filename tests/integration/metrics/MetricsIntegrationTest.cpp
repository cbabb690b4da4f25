// [metrics] and `ork status` against a running daemon (dry-run, scoped with --cgroup to
// a memory cgroup the test creates), all inside a network namespace the test creates
// (a veth pair with known MACs, loopback up): a real Prometheus server scrapes
// ORK's /metrics and its HTTP API is asked for the series; the textfile is checked with
// promtool and read while ORK rewrites it; `ork status` answers root, refuses any other
// uid (SO_PEERCRED), and says when no daemon runs; a port that cannot be bound is a
// warning and ORK goes on. Root and the Debian package prometheus (promtool) needed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/un.h>

#include <iostream>
#include <set>

#include "ork/metrics/Writer.h"
#include "support/Harness.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMac = "02:00:00:0e:57:01";
constexpr const char* kPeerMac = "02:00:00:0e:57:02";
constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr const char* kPromtool = "/usr/bin/promtool";

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

// A network namespace of the test's own: lo up, a veth pair ork0 (kMac) / ork1 (kPeerMac)
// (veth: no module to load, unlike dummy).
class NetNs {
 public:
  bool create() {
    name_ = "ork-metrics-" + std::to_string(::getpid());
    cgKeep_ = tempDir();
    if (runCommand({"/usr/sbin/ip", "netns", "add", name_}) != 0) {
      name_.clear();
      return false;
    }
    return runCommand({"/usr/sbin/ip", "-n", name_, "link", "set", "lo", "up"}) == 0 &&
           runCommand({"/usr/sbin/ip", "-n", name_, "link", "add", "ork0", "address", kMac, "type", "veth", "peer",
                       "name", "ork1", "address", kPeerMac}) == 0 &&
           runCommand({"/usr/sbin/ip", "-n", name_, "link", "set", "ork0", "up"}) == 0;
  }
  ~NetNs() {
    if (!name_.empty()) (void)runCommand({"/usr/sbin/ip", "netns", "delete", name_});
    if (!cgKeep_.empty()) ::rmdir(cgKeep_.c_str());
  }
  const std::string& name() const { return name_; }
  // argv run inside the namespace, in a mount namespace of its own where /sys is the
  // network namespace's sysfs (so /sys/class/net lists its interfaces) with the cgroup
  // hierarchies bound back under it (ip netns exec would hide them, and --cgroup with
  // them).
  std::vector<std::string> exec(std::vector<std::string> argv) const {
    std::vector<std::string> all = {"/usr/bin/nsenter", "--net=/run/netns/" + name_, "/usr/bin/unshare", "-m",
                                    "--propagation", "private", "/bin/sh", "-c",
                                    "mount --rbind /sys/fs/cgroup " + cgKeep_ + " && mount -t sysfs sysfs /sys && "
                                    "mount --rbind " + cgKeep_ + " /sys/fs/cgroup && exec \"$0\" \"$@\""};
    all.insert(all.end(), argv.begin(), argv.end());
    return all;
  }
  // A socket in the namespace (this thread enters it for the socket call only).
  int socketIn(int family, int type) const {
    int mine = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int theirs = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    int fd = -1;
    if (mine >= 0 && theirs >= 0 && ::setns(theirs, CLONE_NEWNET) == 0) {
      fd = ::socket(family, type | SOCK_CLOEXEC, 0);
      (void)::setns(mine, CLONE_NEWNET);
    }
    if (mine >= 0) ::close(mine);
    if (theirs >= 0) ::close(theirs);
    return fd;
  }
  // A TCP port free in the namespace (bound then released).
  int freePort() const {
    int fd = socketIn(AF_INET, SOCK_STREAM);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    ::close(fd);
    return port;
  }
  int connectTcp(int port) const {
    int fd = socketIn(AF_INET, SOCK_STREAM);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  // GET path on 127.0.0.1:port in the namespace: the whole response ("" on failure).
  std::string get(int port, const std::string& path) const {
    int fd = connectTcp(port);
    if (fd < 0) return "";
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    std::string out;
    char buf[8192];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
  }

 private:
  std::string name_;
  std::string cgKeep_;  // where the child's mount namespace keeps /sys/fs/cgroup
};

std::string urlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", c);
      out += b;
    }
  }
  return out;
}

std::string body(const std::string& response) {
  auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

struct MetricsFixture : ::testing::Test {
  void SetUp() override {
    ORK_REQUIRE(::geteuid() == 0, "network namespaces, cgroups and the status socket need root");
    ORK_REQUIRE(exists(kPromtool) && exists(kPrometheus), "the Debian package prometheus (promtool, prometheus)");
    ORK_REQUIRE(exists("/usr/sbin/ip"), "iproute2 (ip netns)");
    ASSERT_TRUE(ns.create()) << "network namespace";
    ASSERT_TRUE(cg.create(256)) << "memory cgroup";
    dir = tempDir();
    socket = dir + "/run/status.sock";
    textfile = dir + "/textfile/ork.prom";
    ::mkdir((dir + "/textfile").c_str(), 0755);
    journal.path = dir + "/kmsg";
    port = ns.freePort();
    ASSERT_GT(port, 0);
  }
  void TearDown() override {
    ork.stop(SIGTERM);
    prom.stop(SIGTERM);
    if (!dir.empty()) (void)runCommand({"/bin/rm", "-rf", dir});
  }
  // armed: without --dry-run (only the test's cgroup is in scope).
  void startOrk(const std::string& listen, bool armed = false) {
    writeFile(dir + "/ork.toml", "[metrics]\nlisten = \"" + listen + "\"\ntextfile = \"" + textfile +
                                     "\"\ntextfile_interval_s = 1\n" + recorderIn(dir));
    std::vector<std::string> argv = {ORK_BINARY, "daemon", "--no-protect", "--quiet", "--cgroup", cg.path(), "--config",
                                     dir + "/ork.toml", "--kmsg", journal.path, "--status-socket", socket, "--state-dir",
                                     dir + "/state"};
    if (!armed) argv.push_back("--dry-run");
    ork = spawn(ns.exec(argv));
    const int before = journal.count("event=start ");
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (journal.count("event=start ") == before && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(20ms);
    ASSERT_GT(journal.count("event=start "), before) << readFile(journal.path);
  }
  std::string listenHere() const { return "127.0.0.1:" + std::to_string(port); }
  // An answer of `ork status` with the given arguments; rc in *rc.
  std::string status(std::vector<std::string> extra, int* rc) {
    std::vector<std::string> argv = {ORK_BINARY, "status", "--status-socket", socket};
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::string out;
    *rc = runCommand(argv, &out);
    return out;
  }

  NetNs ns;
  MemoryCgroup cg;
  std::string dir, socket, textfile;
  JournalFile journal;
  int port = 0;
  Child ork, prom;
};

TEST_F(MetricsFixture, ServesMetricsOverHttpWithStatusCodes) {
  startOrk(listenHere());
  std::string r;
  for (int i = 0; i < 100 && r.empty(); ++i, std::this_thread::sleep_for(50ms)) r = ns.get(port, "/metrics");
  ASSERT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
  const std::string m = body(r);
  EXPECT_NE(m.find("# TYPE ork_memory_available_bytes gauge\n"), std::string::npos) << m;
  EXPECT_NE(m.find(std::string("ork_nic_info{mac=\"") + kMac + "\",interface=\"ork0\",vm=\"\",uuid=\"\"} 1\n"),
            std::string::npos) << m;
  EXPECT_EQ(m.find("interface=\"lo\""), std::string::npos) << m;
  EXPECT_NE(m.find("ork_info{version="), std::string::npos);
  EXPECT_NE(m.find("ork_ladder_step{resource=\"memory\"} 0\n"), std::string::npos) << m;
  EXPECT_NE(m.find("# TYPE ork_kill_latency_seconds histogram\n"), std::string::npos);
  EXPECT_TRUE(ns.get(port, "/").starts_with("HTTP/1.1 404")) << ns.get(port, "/");
  // Ten clients that connect and say nothing: the loop does not wait for them (status
  // answers, the memory ladder samples), and once their deadline passes /metrics
  // answers again.
  std::vector<int> silent;
  for (int i = 0; i < 10; ++i) silent.push_back(ns.connectTcp(port));
  int rc = 0;
  EXPECT_NE(status({}, &rc).find("memory"), std::string::npos);
  EXPECT_EQ(rc, 0);
  std::string again;
  for (int i = 0; i < 200 && !again.starts_with("HTTP/1.1 200"); ++i, std::this_thread::sleep_for(50ms))
    again = ns.get(port, "/metrics");
  EXPECT_TRUE(again.starts_with("HTTP/1.1 200")) << again;
  for (int fd : silent)
    if (fd >= 0) ::close(fd);
  EXPECT_TRUE(ork.alive());
}

TEST_F(MetricsFixture, RealPrometheusScrapesOrk) {
  startOrk(listenHere());
  const int promPort = ns.freePort();
  ASSERT_GT(promPort, 0);
  writeFile(dir + "/prometheus.yml", "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                     "scrape_configs:\n  - job_name: ork\n    static_configs:\n      - targets: ['" +
                                         listenHere() + "']\n");
  prom = spawn(ns.exec({"/bin/sh", "-c",
                        std::string("exec ") + kPrometheus + " --config.file=" + dir + "/prometheus.yml" +
                            " --storage.tsdb.path=" + dir + "/data --web.listen-address=127.0.0.1:" +
                            std::to_string(promPort) + " >" + dir + "/prometheus.log 2>&1"}));
  auto query = [&](const std::string& q) { return body(ns.get(promPort, "/api/v1/query?query=" + urlEncode(q))); };
  // Prometheus up, then its first scrapes: up{job="ork"} == 1 and the series there.
  std::string nic;
  const auto until = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < until) {
    nic = query("ork_nic_info");
    if (nic.find(kMac) != std::string::npos) break;
    std::this_thread::sleep_for(500ms);
  }
  ASSERT_NE(nic.find(kMac), std::string::npos) << nic << "\n" << readFile(dir + "/prometheus.log");
  EXPECT_NE(nic.find("\"interface\":\"ork0\""), std::string::npos) << nic;
  EXPECT_NE(nic.find("\"job\":\"ork\""), std::string::npos) << nic;
  const std::string up = query("up{job=\"ork\"}");
  EXPECT_NE(up.find("\"1\"]"), std::string::npos) << up;
  for (const char* series : {"ork_memory_available_bytes", "ork_memory_threshold_bytes{level=\"hard\"}",
                             "ork_ladder_step{resource=\"memory\"}", "ork_actions_total",
                             "ork_kill_latency_seconds_count", "ork_journal_lines_total{event=\"start\"}",
                             "ork_info{dry_run=\"1\"}"}) {
    const std::string r = query(series);
    EXPECT_NE(r.find("\"status\":\"success\""), std::string::npos) << series << ": " << r;
    EXPECT_NE(r.find("\"value\":["), std::string::npos) << series << ": " << r;
  }
  // The shipped rule's query: one node, no MAC counted twice.
  const std::string dup = query("count by (mac) (count by (mac, instance) (ork_nic_info)) > 1");
  EXPECT_NE(dup.find("\"result\":[]"), std::string::npos) << dup;
  // Prometheus parsed every sample: no scrape error in its log.
  EXPECT_EQ(readFile(dir + "/prometheus.log").find("level=warn component=\"scrape manager\""), std::string::npos)
      << readFile(dir + "/prometheus.log");
}

TEST_F(MetricsFixture, TextfileIsValidAtomicAndRemovedAtStop) {
  startOrk("");  // textfile only
  ASSERT_TRUE(journal.count("what=metrics_listen_failed") == 0);
  // Reads until the file was seen rewritten (a new inode) at least twice and read whole
  // over 100 times: the 30 s only ends a wait for a file that is never rewritten (it is
  // every second), so that a loaded machine cannot fail the test.
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + 30s;
  std::set<ino_t> inodes;
  int reads = 0;
  while (std::chrono::steady_clock::now() < until && (inodes.size() < 3 || reads <= 100)) {
    struct stat st{};
    if (::stat(textfile.c_str(), &st) == 0) {
      inodes.insert(st.st_ino);
      const std::string t = readFile(textfile);
      if (!t.empty()) {
        ++reads;
        // Whole, every time: from the first family to the last sample's newline.
        ASSERT_TRUE(t.starts_with("# HELP ork_info ")) << t.substr(0, 80);
        ASSERT_TRUE(t.ends_with("\n"));
        ASSERT_NE(t.find("ork_nic_info{mac=\""), std::string::npos) << t;
      }
    }
    // Nothing else in the directory that node_exporter would read.
    std::string ls;
    (void)runCommand({"/bin/ls", dir + "/textfile"}, &ls);
    for (std::size_t at = ls.find(".prom"); at != std::string::npos; at = ls.find(".prom", at + 1))
      ASSERT_TRUE(ls.compare(at, 6, ".prom\n") == 0 || ls.compare(at, 9, ".prom.tmp") == 0) << ls;
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_GT(reads, 100);
  EXPECT_GE(inodes.size(), 3u) << "rewritten by rename every second";
  std::cout << "[ figure ] textfile: " << inodes.size() << " versions, " << reads << " whole reads in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count()
            << " ms\n";
  std::string out;
  const std::string copy = dir + "/copy.prom";
  writeFile(copy, readFile(textfile));
  EXPECT_EQ(runCommand({"/bin/sh", "-c", std::string(kPromtool) + " check metrics < " + copy}, &out), 0) << out;
  ork.stop(SIGTERM);
  EXPECT_FALSE(exists(textfile)) << "a stopped ORK leaves no stale metrics";
  EXPECT_FALSE(exists(socket)) << "nor its status socket";
}

TEST_F(MetricsFixture, HttpExpositionPassesPromtool) {
  startOrk(listenHere());
  std::string r;
  for (int i = 0; i < 100 && r.empty(); ++i, std::this_thread::sleep_for(50ms)) r = ns.get(port, "/metrics");
  writeFile(dir + "/scrape.prom", body(r));
  std::string out;
  EXPECT_EQ(runCommand({"/bin/sh", "-c", std::string(kPromtool) + " check metrics < " + dir + "/scrape.prom"}, &out), 0)
      << out << body(r);
}

TEST_F(MetricsFixture, BindFailureIsAWarningAndOrkGoesOn) {
  // The port taken by someone else in the namespace.
  int taken = ns.socketIn(AF_INET, SOCK_STREAM);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(taken, 1), 0);
  startOrk(listenHere());
  const std::string w = journal.waitFor({"event=warning", "what=metrics_listen_failed"}, 10s);
  EXPECT_NE(w.find("Address already in use"), std::string::npos) << w;
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(ork.alive());
  int rc = 0;
  status({}, &rc);
  EXPECT_EQ(rc, 0);
  ::close(taken);
}

TEST_F(MetricsFixture, StatusAnswersRoot) {
  startOrk("");
  struct stat st{};
  ASSERT_EQ(::stat(socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  int rc = 0;
  const std::string text = status({}, &rc);
  EXPECT_EQ(rc, 0) << text;
  for (const char* part : {"dry-run", "\nmemory\n", "\ncpu\n", "step: 0", "actions in flight: none", "\nVMs",
                           "\nlast events\n", "event=start"})
    EXPECT_NE(text.find(part), std::string::npos) << part << " in\n" << text;
  EXPECT_NE(text.find("scope " + cg.path()), std::string::npos) << text;
  const std::string json = status({"--json"}, &rc);
  EXPECT_EQ(rc, 0);
  writeFile(dir + "/status.json", json);
  std::string out;
  EXPECT_EQ(runCommand({"/usr/bin/python3", "-c",
                        "import json,sys; d=json.load(open(sys.argv[1])); "
                        "assert d['dry_run'] is True; assert any('event=start' in e['line'] for e in d['events']); "
                        "assert any(m['name']=='ork_memory_available_bytes' for m in d['metrics']); "
                        "assert [r['name'] for r in d['resources']][:1]==['memory']; assert d['vms_held']==[] and d['interfaces_down']==[]",
                        dir + "/status.json"},
                       &out),
            0)
      << out << json;
}

TEST_F(MetricsFixture, StatusRefusesAnyOtherUid) {
  startOrk("");
  // The socket's mode keeps others out already; opened up here so that the daemon's own
  // check (SO_PEERCRED) is what answers.
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);  // mkdtemp's 0700
  ASSERT_EQ(::chmod((dir + "/run").c_str(), 0755), 0);
  ASSERT_EQ(::chmod(socket.c_str(), 0666), 0);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipefd[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", socket.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ::_exit(4);
    (void)!::write(fd, "text\n", 5);
    char buf[512];
    ssize_t n, total = 0;
    while ((n = ::read(fd, buf + total, sizeof buf - 1 - static_cast<std::size_t>(total))) > 0) total += n;
    (void)!::write(pipefd[1], buf, static_cast<std::size_t>(total));
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string got;
  char buf[512];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int wst = 0;
  ::waitpid(pid, &wst, 0);
  ASSERT_TRUE(WIFEXITED(wst) && WEXITSTATUS(wst) == 0) << "child exit " << WEXITSTATUS(wst);
  EXPECT_EQ(got, "error: ork status is for root only (your uid is 65534)\n");
  // `ork status` run as nobody says so itself.
  pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(ORK_BINARY, ORK_BINARY, "status", "--status-socket", socket.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::waitpid(pid, &wst, 0);
  EXPECT_TRUE(WIFEXITED(wst) && WEXITSTATUS(wst) == 1) << WEXITSTATUS(wst);
  EXPECT_TRUE(ork.alive());
}

TEST_F(MetricsFixture, StatusSaysWhenNoDaemonRuns) {
  int rc = 0;
  const std::string out = status({}, &rc);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("the daemon is not running"), std::string::npos) << out;
  // A socket left by a daemon that died: replaced by the next one.
  startOrk("");
  ork.stop(SIGKILL);
  ASSERT_TRUE(exists(socket));
  const std::string stale = status({}, &rc);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(stale.find("a socket left by a daemon that stopped"), std::string::npos) << stale;
  startOrk("");
  EXPECT_EQ(journal.count("what=status_unavailable"), 0) << readFile(journal.path);
  status({}, &rc);
  EXPECT_EQ(rc, 0);
}

TEST_F(MetricsFixture, TextfileFailureIsSaidOnceAndClears) {
  textfile = dir + "/not-yet/ork.prom";  // its directory does not exist yet
  startOrk("");
  ASSERT_FALSE(journal.waitFor({"event=warning", "what=metrics_textfile_failed"}, 10s).empty()) << readFile(journal.path);
  std::this_thread::sleep_for(3s);  // three more attempts (every second): said once
  EXPECT_EQ(journal.count("what=metrics_textfile_failed"), 1) << readFile(journal.path);
  EXPECT_TRUE(ork.alive());
  ASSERT_EQ(::mkdir((dir + "/not-yet").c_str(), 0755), 0);
  EXPECT_FALSE(journal.waitFor({"event=warning_cleared", "what=metrics_textfile_failed"}, 10s).empty())
      << readFile(journal.path);
  EXPECT_TRUE(exists(textfile));
}

TEST_F(MetricsFixture, CheckConfigSaysWhyAValueIsRefused) {
  writeFile(dir + "/bad.toml", "[metrics]\nlisten = \"localhost:9464\"\ntextfile = \"/tmp/ork.txt\"\n");
  std::string out;
  EXPECT_EQ(runCommand({ORK_BINARY, "check-config", dir + "/bad.toml"}, &out), 2);
  EXPECT_NE(out.find(":2: metrics.listen: \"localhost:9464\": the address must be a literal IPv4 address"), std::string::npos)
      << out;
  EXPECT_NE(out.find(":3: metrics.textfile \"/tmp/ork.txt\" must end in .prom"), std::string::npos) << out;
  // The daemon refuses it at start too (exit 2), before opening anything.
  EXPECT_EQ(runCommand({ORK_BINARY, "daemon", "--dry-run", "--config", dir + "/bad.toml", "--kmsg", journal.path,
                        "--status-socket", socket},
                       &out),
            2)
      << out;
}

// promtool reads back what the Writer escapes: a backslash, a quote, a newline, UTF-8,
// in label values and HELP text (without promtool's check, the escaping could be wrong
// both ways and a unit test would still agree with itself).
TEST(MetricsText, EscapedLabelsPassPromtool) {
  ORK_REQUIRE(exists(kPromtool), "the Debian package prometheus (promtool)");
  metrics::Writer w;
  w.gauge("ork_nic_info", "help with a \\ backslash\nand a newline", 1,
          {{"mac", "02:00:00:00:00:01"}, {"interface", "we\"ird\\if\nname"}, {"vm", "caf\xc3\xa9"}, {"uuid", ""}});
  metrics::Histogram h;
  h.observe(Millis{7});
  w.histogram("ork_kill_latency_seconds", "h", h, {{"resource", "memory"}});
  w.counter("ork_actions_total", "c", 2, {{"resource", "memory"}, {"action", "kill"}, {"reason", "memory_below_hard"}, {"result", "ok"}});
  const std::string dir = tempDir();
  writeFile(dir + "/w.prom", w.text());
  std::string out;
  EXPECT_EQ(runCommand({"/bin/sh", "-c", std::string(kPromtool) + " check metrics < " + dir + "/w.prom"}, &out), 0)
      << out << w.text();
  (void)runCommand({"/bin/rm", "-rf", dir});
}

// A real kill in the test's cgroup (ORK armed, scoped to it): counted in
// ork_actions_total, its death timed in ork_kill_latency_seconds, said by ork status.
TEST_F(MetricsFixture, ArmedKillIsCountedAndTimed) {
  startOrk(listenHere(), true);
  std::this_thread::sleep_for(1500ms);  // the candidate table's first pass
  Child filler = spawn({ORK_MEMHOG, "--cgroup", cg.path(), "--name", "filler", "fill", "0"});
  ASSERT_TRUE(filler.waitExit(60s)) << "the hog was not killed";
  EXPECT_TRUE(filler.killedBySigkill());
  ASSERT_FALSE(journal.waitFor({"event=exited", "pid=" + std::to_string(filler.pid) + " "}, 10s).empty())
      << readFile(journal.path);
  const std::string m = body(ns.get(port, "/metrics"));
  EXPECT_NE(m.find("ork_actions_total{resource=\"memory\",action=\"kill\",reason=\"memory_below_hard\",result=\"ok\"} 1\n"),
            std::string::npos) << m;
  EXPECT_NE(m.find("ork_kill_latency_seconds_count{resource=\"memory\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("ork_kill_latency_seconds_bucket{resource=\"memory\",le=\"+Inf\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("ork_journal_lines_total{event=\"exited\"} 1\n"), std::string::npos) << m;
  int rc = 0;
  const std::string text = status({}, &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(text.find("event=kill "), std::string::npos) << text;
  EXPECT_NE(text.find("name=\"filler\""), std::string::npos) << text;
  filler.stop();
}

// A reload (SIGHUP) turns /metrics on, moves it, and turns it off.
TEST_F(MetricsFixture, ReloadAppliesListen) {
  startOrk("");
  EXPECT_EQ(ns.get(port, "/metrics"), "");
  writeFile(dir + "/ork.toml", "[metrics]\nlisten = \"" + listenHere() + "\"\n" + recorderIn(dir));
  ::kill(ork.pid, SIGHUP);
  ASSERT_FALSE(journal.waitFor({"event=reload", "result=ok"}, 10s).empty()) << readFile(journal.path);
  std::string r;
  for (int i = 0; i < 100 && r.empty(); ++i, std::this_thread::sleep_for(50ms)) r = ns.get(port, "/metrics");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200")) << r;
  const int other = ns.freePort();
  writeFile(dir + "/ork.toml", "[metrics]\nlisten = \"127.0.0.1:" + std::to_string(other) + "\"\n" + recorderIn(dir));
  ::kill(ork.pid, SIGHUP);
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (journal.count("result=ok") < 2 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
  r.clear();
  for (int i = 0; i < 100 && r.empty(); ++i, std::this_thread::sleep_for(50ms)) r = ns.get(other, "/metrics");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200")) << r;
  EXPECT_EQ(ns.get(port, "/metrics"), "") << "the old port still answers";
  writeFile(dir + "/ork.toml", "[metrics]\n" + recorderIn(dir));
  ::kill(ork.pid, SIGHUP);
  const auto until2 = std::chrono::steady_clock::now() + 10s;
  while (journal.count("result=ok") < 3 && std::chrono::steady_clock::now() < until2) std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(ns.get(other, "/metrics"), "");
  EXPECT_TRUE(ork.alive());
}

}  // namespace
}  // namespace ork::test
