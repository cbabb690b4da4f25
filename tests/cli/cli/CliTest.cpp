// The `ork` binary as a user runs it: exit codes, help, check-config errors, `top`,
// and the daemon's own budget while it runs (RSS, open fds), as earlyoom's CLI tests do.
#include <dirent.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "support/Harness.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;

int ork(const std::vector<std::string>& args, std::string* out = nullptr) {
  std::vector<std::string> argv = {ORK_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, out);
}

TEST(Cli, NoCommandIsAUsageError) {
  std::string out;
  EXPECT_EQ(ork({}, &out), 2);
  EXPECT_NE(out.find("Usage: ork <command>"), std::string::npos);
}

TEST(Cli, HelpEverywhere) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"help"}, {"-h"}, {"daemon", "--help"}, {"top", "--help"}, {"check-config", "--help"},
           {"log", "--help"}}) {
    std::string out;
    EXPECT_EQ(ork(args, &out), 0) << args[0];
    EXPECT_NE(out.find("Usage:"), std::string::npos) << args[0];
  }
}

TEST(Cli, Version) {
  std::string out;
  EXPECT_EQ(ork({"version"}, &out), 0);
  EXPECT_EQ(out.rfind("ork ", 0), 0u);
}

TEST(Cli, UnknownCommandAndOptionAreUsageErrors) {
  std::string out;
  EXPECT_EQ(ork({"frobnicate"}, &out), 2);
  EXPECT_NE(out.find("unknown command: frobnicate"), std::string::npos);
  EXPECT_EQ(ork({"daemon", "--frob"}, &out), 2);
  EXPECT_NE(out.find("unknown option for daemon: --frob"), std::string::npos);
  EXPECT_EQ(ork({"daemon", "--config"}, &out), 2);
  EXPECT_EQ(ork({"top", "-n", "zero"}, &out), 2);
  EXPECT_EQ(ork({"log", "--frob"}, &out), 2);
  EXPECT_NE(out.find("unknown option for log: --frob"), std::string::npos);
  EXPECT_EQ(ork({"log", "--kmsg"}, &out), 2);
  EXPECT_EQ(ork({"log", "--kmsg", "relative.log"}, &out), 2);
}

class CliFiles : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tempDir(); }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }
  std::string file(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    writeFile(p, text);
    return p;
  }
  std::string dir_;
};

// "--cgroup $UNSET" must not turn a scoped daemon into a host-wide one: an empty or
// relative path option is a usage error, for every path option.
TEST_F(CliFiles, EmptyOrRelativePathsAreRefused) {
  std::string out;
  for (const char* opt : {"--cgroup", "--config", "--proc", "--passwd", "--kmsg", "--state-dir"}) {
    for (const char* value : {"", "relative/dir"}) {
      EXPECT_EQ(ork({"daemon", "--dry-run", opt, value}, &out), 2) << opt << " '" << value << "'";
      EXPECT_NE(out.find("needs an absolute path"), std::string::npos) << out;
    }
  }
  EXPECT_EQ(ork({"top", "--cgroup", ""}, &out), 2);
}

TEST_F(CliFiles, CheckConfigAcceptsAValidFile) {
  std::string path = file("good.toml",
                          "[memory]\nhard_percent = 4\nsoft_percent = 8.5\n"
                          "[kill]\nprefer = [\"cmdline:*leaky*\"]\navoid = [\"user:postgres\"]\n");
  std::string out;
  EXPECT_EQ(ork({"check-config", path}, &out), 0) << out;
  EXPECT_NE(out.find(path + ": ok"), std::string::npos);
}

TEST_F(CliFiles, CheckConfigReportsEveryErrorWithItsLine) {
  std::string path = file("bad.toml",
                          "[memory]\n"
                          "hard_percent = \"five\"\n"     // line 2: wrong type
                          "soft_procent = 10\n"           // line 3: unknown key
                          "[sampling]\n"
                          "max_interval_ms = 999999\n"    // line 5: out of range
                          "[kill]\n"
                          "prefer = [\"nofield\"]\n"      // line 7: bad pattern
                          "[bogus]\n");                   // line 8: unknown section
  std::string out;
  EXPECT_EQ(ork({"check-config", path}, &out), 2);
  for (const char* expected : {":2: memory.hard_percent must be", ":3: unknown key \"soft_procent\"",
                               ":5: sampling.max_interval_ms = 999999 is out of range", ":7: kill.prefer",
                               ":8: unknown section [bogus]"}) {
    EXPECT_NE(out.find(path + expected), std::string::npos) << expected << "\nin:\n" << out;
  }
}

TEST_F(CliFiles, CheckConfigReportsSyntaxErrorsAndMissingFiles) {
  std::string path = file("syntax.toml", "[memory]\nhard_percent = = 3\n");
  std::string out;
  EXPECT_EQ(ork({"check-config", path}, &out), 2);
  EXPECT_NE(out.find(path + ":2:"), std::string::npos) << out;
  EXPECT_EQ(ork({"check-config", dir_ + "/missing.toml"}, &out), 2);
  EXPECT_NE(out.find("No such file"), std::string::npos) << out;
}

TEST_F(CliFiles, DefaultsRoundTrip) {
  std::string out;
  ASSERT_EQ(ork({"check-config", "--defaults"}, &out), 0);
  EXPECT_NE(out.find("hard_percent = 5"), std::string::npos);
  // VMs are hibernated at the soft threshold now, not "later".
  EXPECT_NE(out.find("(VMs are hibernated here)"), std::string::npos) << out;
  EXPECT_EQ(out.find("later"), std::string::npos) << out;
  std::string path = file("defaults.toml", out);
  EXPECT_EQ(ork({"check-config", path}, &out), 0) << out;
}

TEST_F(CliFiles, DaemonRefusesABrokenConfig) {
  std::string path = file("bad.toml", "[memory]\nhard_percent = 500\n");
  std::string out;
  EXPECT_EQ(ork({"daemon", "--dry-run", "--config", path, "--kmsg", dir_ + "/j.log"}, &out), 2);
  EXPECT_NE(out.find(":2: memory.hard_percent = 500 is out of range"), std::string::npos) << out;
}

TEST_F(CliFiles, DaemonSaysWhatIsWrongWithABadScope) {
  std::string out;
  EXPECT_EQ(ork({"daemon", "--dry-run", "--cgroup", dir_, "--kmsg", dir_ + "/j.log"}, &out), 1);
  EXPECT_NE(out.find("not a cgroup with the memory controller"), std::string::npos) << out;
  EXPECT_EQ(ork({"daemon", "--dry-run", "--proc", dir_ + "/nothing", "--kmsg", dir_ + "/j.log"}, &out), 1);
  EXPECT_NE(out.find("cannot start"), std::string::npos) << out;
}

// A fixture /proc holds PIDs and start times that may match real processes: armed, the
// daemon would kill them. Only a dry run may read another /proc.
TEST_F(CliFiles, DaemonRefusesAnotherProcWithoutDryRun) {
  // A missing tree: should the refusal ever break, the daemon fails to start on it
  // (exit 1) rather than run armed. Never point this test at the real /proc.
  const std::string proc = dir_ + "/nothing";
  std::string out;
  EXPECT_EQ(ork({"daemon", "--proc", proc, "--kmsg", dir_ + "/j.log", "--no-protect"}, &out), 2);
  EXPECT_NE(out.find("--proc needs --dry-run"), std::string::npos) << out;
  // The order of the options does not matter.
  EXPECT_EQ(ork({"daemon", "--kmsg", dir_ + "/j.log", "--proc", proc}, &out), 2);
  EXPECT_NE(out.find("--proc needs --dry-run"), std::string::npos) << out;
  // With --dry-run the option is accepted (and the daemon then fails on the missing tree).
  EXPECT_EQ(ork({"daemon", "--proc", proc, "--kmsg", dir_ + "/j.log", "--dry-run"}, &out), 1);
  EXPECT_EQ(out.find("--proc needs --dry-run"), std::string::npos) << out;
}

// ---- ork log ---------------------------------------------------------------------------

// A journal file as `ork log` shows it: ORK's lines only, oldest first, the writer's
// local time to the millisecond, the tag, the event, sizes and durations for people.
TEST_F(CliFiles, LogRendersAJournalFile) {
  const std::string path = file("journal.log",
                                "2026-12-01T09:24:33.123456+01:00 ork[812]: event=start version=0.1.0 dry_run=0 "
                                "total_kib=24641536 avail_kib=23992320\n"
                                "not ours\n"
                                "2026-12-01T09:25:01.500000+01:00 ork[812]: event=kill pid=4242 name=\"filler\" "
                                "freed_kib=1843200 latency_us=412 cmd=\"./filler --fast\"\n"
                                "ork: event=stop signal=15 longest_sample_gap_us=804000\n");
  std::string out;
  ASSERT_EQ(ork({"log", "--kmsg", path}, &out), 0) << out;
  EXPECT_EQ(out,
            "2026-12-01 09:24:33.123 ork[812] start             version=0.1.0 dry_run=0 total=23.5GiB avail=22.9GiB\n"
            "2026-12-01 09:25:01.500 ork[812] kill              pid=4242 name=\"filler\" freed=1.76GiB latency=412us "
            "cmd=\"./filler --fast\"\n"
            "- ork stop              signal=15 longest_sample_gap=804ms\n");
  EXPECT_EQ(ork({"log", "--kmsg", dir_ + "/missing.log"}, &out), 1);
  EXPECT_NE(out.find("No such file"), std::string::npos) << out;
}

// `ork log` on the real kernel log: a line written to /dev/kmsg is there, rendered.
TEST(CliLog, ShowsOrksLinesOfTheKernelLog) {
  ORK_REQUIRE(::geteuid() == 0 && ::access("/dev/kmsg", W_OK) == 0, "needs root to read and write /dev/kmsg");
  const std::string marker =
      "cli" + std::to_string(::getpid()) + "_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  {
    std::ofstream kmsg("/dev/kmsg");
    kmsg << "<6>ork[4242]: event=test marker=" << marker << " freed_kib=2048 took_ms=1500\n";
  }
  std::string out;
  ASSERT_EQ(ork({"log"}, &out), 0) << out;
  const auto at = out.find("marker=" + marker);
  ASSERT_NE(at, std::string::npos) << out.substr(out.size() > 2000 ? out.size() - 2000 : 0);
  const std::string line = out.substr(out.rfind('\n', at) + 1, out.find('\n', at) - out.rfind('\n', at) - 1);
  EXPECT_NE(line.find(" ork[4242] test "), std::string::npos) << line;
  EXPECT_NE(line.find("marker=" + marker + " freed=2.00MiB took=1.50s"), std::string::npos) << line;
  EXPECT_EQ(line.find("event="), std::string::npos) << line;
}

// --follow prints a line appended after it started, then keeps going until stopped.
TEST_F(CliFiles, LogFollowsAJournalFile) {
  const std::string path = file("journal.log", "2026-12-01T09:24:33.000000+01:00 ork[812]: event=start dry_run=1\n");
  Child c = spawn({ORK_BINARY, "log", "--follow", "--kmsg", path});
  ASSERT_TRUE(c.waitFor("start", 5s));
  {
    std::ofstream out(path, std::ios::app);
    out << "2026-12-01T09:24:34.000000+01:00 ork[812]: event=recovered kills=1 duration_ms=61000\n";
  }
  EXPECT_TRUE(c.waitFor("recovered         kills=1 duration=1m01s", 5s));
  EXPECT_TRUE(c.alive()) << "ork log --follow stopped by itself";
  c.stop(SIGTERM);
}

// The daemon's journal file: every line after its local time and the tag ork[PID] of
// that daemon; `ork log --kmsg` reads it back.
TEST_F(CliFiles, TheDaemonsJournalFileIsStampedAndTagged) {
  const std::string journal = dir_ + "/journal.log";
  Child d = spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--no-protect", "--kmsg", journal});
  JournalFile j{journal};
  ASSERT_NE(j.waitFor({"event=start"}, 5s), "") << readFile(journal);
  ::kill(d.pid, SIGTERM);
  ASSERT_TRUE(d.waitExit(5s));
  ASSERT_NE(j.waitFor({"event=stop"}, 1s), "") << readFile(journal);
  const std::string tag = "ork[" + std::to_string(d.pid) + "]: event=";
  // "2026-12-01T09:24:33.123456+01:00 ork[PID]: event=..."
  auto stamped = [](const std::string& l) {
    constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddddd?dd:dd ";
    if (l.size() < kShape.size()) return false;
    for (std::size_t i = 0; i < kShape.size(); ++i) {
      const char c = l[i];
      if (kShape[i] == 'd' ? !(c >= '0' && c <= '9') : kShape[i] == '?' ? c != '+' && c != '-' : c != kShape[i])
        return false;
    }
    return true;
  };
  for (const auto& l : j.lines()) {
    EXPECT_TRUE(stamped(l)) << l;
    EXPECT_NE(l.find(tag), std::string::npos) << l;
  }
  std::string out;
  ASSERT_EQ(ork({"log", "--kmsg", journal}, &out), 0) << out;
  EXPECT_NE(out.find(" ork[" + std::to_string(d.pid) + "] start "), std::string::npos) << out;
  EXPECT_NE(out.find(" ork[" + std::to_string(d.pid) + "] stop "), std::string::npos) << out;
}

// The start line says what is true: the VMs the first pass found (its vm_found lines
// come after it), libvirt as it is (a state, never the configuration's flag), and why
// ORK is not exempt from the OOM killer or locked in memory when it is not.
TEST_F(CliFiles, TheStartLineSaysWhatIsTrue) {
  for (bool protect : {true, false}) {
    const std::string journal = dir_ + (protect ? "/protect.log" : "/noprotect.log");
    std::vector<std::string> argv = {ORK_BINARY, "daemon", "--dry-run", "--quiet", "--kmsg", journal};
    if (!protect) argv.push_back("--no-protect");
    Child d = spawn(argv);
    JournalFile j{journal};
    const std::string start = j.waitFor({"event=start"}, 5s);
    ASSERT_NE(start, "") << readFile(journal);
    ::kill(d.pid, SIGTERM);
    ASSERT_TRUE(d.waitExit(5s));
    const auto lines = j.lines();
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front(), start) << "a line came before the start line";
    const std::string vms = field(start, "vms");
    EXPECT_TRUE(!vms.empty() && vms.find_first_not_of("0123456789") == std::string::npos) << start;
    const std::string libvirt = field(start, "libvirt");
    EXPECT_TRUE(libvirt == "not_needed" || libvirt == "connecting" || libvirt == "not_installed") << start;
    EXPECT_EQ(field(start, "self_protect"), protect ? "1" : "0") << start;
    auto errnoName = [](const std::string& v) {
      return v.size() > 1 && v[0] == 'E' && v.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == std::string::npos;
    };
    for (const auto& [flag, why] : {std::pair{"oom_exempt", "oom_adj_errno"}, std::pair{"mlocked", "mlock_errno"}}) {
      if (protect && field(start, flag) == "0") {
        EXPECT_TRUE(errnoName(field(start, why))) << why << " missing or not an errno: " << start;
      } else {
        EXPECT_EQ(field(start, why), "") << start;
      }
    }
    if (!protect) {
      EXPECT_EQ(field(start, "oom_exempt"), "0") << start;
      EXPECT_EQ(field(start, "mlocked"), "0") << start;
    }
  }
}

// journal.report_interval_s: a state line every interval (what ORK sees: memory, CPU,
// VMs, libvirt); a reload to 0 stops them.
TEST_F(CliFiles, APeriodicStateLineSaysOrkIsAlive) {
  const std::string journal = dir_ + "/journal.log";
  const std::string config = file("ork.toml", "[journal]\nreport_interval_s = 1\n");
  Child d = spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--no-protect", "--kmsg", journal, "--config", config});
  JournalFile j{journal};
  ASSERT_NE(j.waitFor({"event=start"}, 5s), "") << readFile(journal);
  const std::string state = j.waitFor({"event=state"}, 3s);
  ASSERT_NE(state, "") << readFile(journal);
  for (const char* key : {"memory", "avail_kib", "total_kib", "longest_sample_gap_us", "busy_pct", "vms", "libvirt"})
    EXPECT_NE(field(state, key), "") << key << " missing: " << state;
  std::this_thread::sleep_for(2500ms);
  const int states = j.count("event=state");
  EXPECT_GE(states, 3) << readFile(journal);
  EXPECT_LE(states, 5) << readFile(journal);
  writeFile(config, "[journal]\nreport_interval_s = 0\n");
  ::kill(d.pid, SIGHUP);
  ASSERT_NE(j.waitFor({"event=reload", "result=ok"}, 5s), "") << readFile(journal);
  const int atReload = j.count("event=state");
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(j.count("event=state"), atReload) << "state lines go on after report_interval_s = 0";
  ::kill(d.pid, SIGTERM);
  ASSERT_TRUE(d.waitExit(5s));
}

// The systemd unit: no restart loop on a bad configuration (its exit code is the one
// RestartPreventExitStatus= names), and Documentation= names files the README's install
// puts there, from docs/.
TEST_F(CliFiles, TheUnitDoesNotRestartOnABadConfigAndNamesItsDocumentation) {
  const std::string root = std::string(ORK_FIXTURES) + "/../..";
  const std::string unit = readFile(root + "/packaging/ork.service");
  ASSERT_NE(unit, "");
  auto value = [&](const std::string& key) {
    const auto at = unit.find("\n" + key + "=");
    if (at == std::string::npos) return std::string();
    const auto start = at + key.size() + 2;
    return unit.substr(start, unit.find('\n', start) - start);
  };
  std::string out;
  const int code = ork({"daemon", "--dry-run", "--config", file("bad.toml", "[memory]\nhard_percent = 500\n"),
                        "--kmsg", dir_ + "/j.log"},
                       &out);
  EXPECT_EQ(code, 2) << out;
  EXPECT_EQ(value("RestartPreventExitStatus"), std::to_string(code));
  EXPECT_EQ(ork({"daemon", "--frob"}, &out), 2) << "a usage error is not restarted either";
  const std::string docs = value("Documentation");
  ASSERT_NE(docs, "");
  std::istringstream uris(docs);
  int n = 0;
  for (std::string uri; uris >> uri; ++n) {
    const std::string prefix = "file:/usr/local/share/doc/ork/";
    ASSERT_EQ(uri.rfind(prefix, 0), 0u) << uri;
    const std::string name = uri.substr(prefix.size());
    const std::string source = name == "README.md" ? root + "/README.md" : root + "/docs/" + name;
    EXPECT_EQ(::access(source.c_str(), R_OK), 0) << uri << ": no " << source;
  }
  EXPECT_GE(n, 2);
  EXPECT_NE(readFile(root + "/README.md").find("install -D -m 0644 -t /usr/local/share/doc/ork README.md docs/*.md"),
            std::string::npos)
      << "the README's install does not put the documentation where the unit says";
}

TEST(CliTop, ShowsRankedCandidatesOfTheHost) {
  std::string out;
  ASSERT_EQ(ork({"top", "-n", "5", "--all"}, &out), 0) << out;
  EXPECT_NE(out.find("domain host"), std::string::npos) << out;
  EXPECT_NE(out.find("->"), std::string::npos) << "no process marked as the one ORK would kill";
  EXPECT_NE(out.find("never candidates:"), std::string::npos);
  EXPECT_NE(out.find("PID 1"), std::string::npos) << "PID 1 is not listed as never a candidate";
}

// The daemon's own footprint while it runs, host-wide in dry-run (it kills nothing).
TEST_F(CliFiles, DaemonStaysWithinItsBudget) {
  std::string journal = dir_ + "/journal.log";
  Child d = spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--kmsg", journal});
  JournalFile j{journal};
  ASSERT_NE(j.waitFor({"event=start", "dry_run=1"}, 5s), "");
  std::this_thread::sleep_for(3s);
  ASSERT_TRUE(d.alive());
  std::string status = readFile("/proc/" + std::to_string(d.pid) + "/status");
  auto pos = status.find("VmRSS:");
  ASSERT_NE(pos, std::string::npos);
  long rssKib = std::atol(status.c_str() + pos + 6);
  // Target: 2 MiB idle with 1,000 processes (docs/benchmarks.md). The candidate table
  // grows with the host, so the budget here is 3 MiB plus 1 KiB per process.
  int processes = 0;
  if (DIR* proc = ::opendir("/proc")) {
    while (dirent* e = ::readdir(proc)) processes += (e->d_name[0] >= '1' && e->d_name[0] <= '9') ? 1 : 0;
    ::closedir(proc);
  }
  EXPECT_LT(rssKib, 3 * 1024 + processes) << "RSS " << rssKib << " KiB with " << processes << " processes";
  // A VM on the host (another test's guest still being torn down), now or when ORK
  // started, adds a /proc dirfd for qemu command lines, and the ork-virt helper's socket
  // and pidfd.
  bool vms = j.count("event=vm_found") > 0;
  if (DIR* proc = ::opendir("/proc")) {
    while (dirent* e = ::readdir(proc))
      if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
        vms = vms || readFile(std::string("/proc/") + e->d_name + "/comm").rfind("qemu", 0) == 0;
    ::closedir(proc);
  }
  auto countFds = [](pid_t pid) {
    int n = 0;
    std::string dirPath = "/proc/" + std::to_string(pid) + "/fd";
    if (DIR* dir = ::opendir(dirPath.c_str())) {
      while (dirent* e = ::readdir(dir)) n += e->d_name[0] != '.' ? 1 : 0;
      ::closedir(dir);
    }
    return n;
  };
  // What any child of this test starts with (stdin/out/err, and whatever the test
  // runner passes down), measured on a sleep spawned the same way: ORK's own fds are
  // the rest.
  Child probe = spawn({"/bin/sleep", "5"});
  int inherited = countFds(probe.pid);
  probe.stop();
  int own = countFds(d.pid) - inherited;
  // journal, meminfo, epoll, signalfd, PSI trigger, the candidate table's /proc dirfd,
  // the CPU sensor's /proc/stat and /proc/pressure/cpu, the VM table's /proc dirfd.
  EXPECT_LE(own, vms ? 13 : 10) << "ORK's own open fds: " << own << " (" << inherited << " inherited)";
  // Without a VM on the host, libvirt stays out of memory: no ork-virt helper started.
  std::string self = std::to_string(d.pid);
  if (!vms) {
    EXPECT_EQ(readFile("/proc/" + self + "/task/" + self + "/children"), "") << "ORK started a child without VMs";
  }
  ::kill(d.pid, SIGTERM);
  ASSERT_TRUE(d.waitExit(5s));
  EXPECT_TRUE(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0);
  EXPECT_NE(j.waitFor({"event=stop"}, 1s), "");
  EXPECT_EQ(j.count("event=kill"), 0) << "a dry run wrote event=kill";
  EXPECT_EQ(j.count("event=would_kill"), 0) << "a dry run on a healthy host decided a kill";
  EXPECT_EQ(j.count("event=state"), 0) << "the periodic state line is on by default";
}

// The reader of ORK's stderr (the journal mirror) goes away, as with `ork daemon ...
// 2>&1 | head -1`: ORK must not die of SIGPIPE. The mirror is dropped, said once in the
// journal, and the journal file keeps every line up to `stop`.
TEST_F(CliFiles, DaemonSurvivesItsStderrReaderGoingAway) {
  ORK_REQUIRE(::geteuid() == 0, "needs root to make a memory cgroup");
  MemoryCgroup cg;
  ORK_REQUIRE(cg.create(256), "no memory cgroup controller to make a cgroup in");
  const std::string journal = dir_ + "/journal.log";
  int err[2];
  ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(err[1], 2);
    ::execl(ORK_BINARY, ORK_BINARY, "daemon", "--dry-run", "--no-protect", "--kmsg", journal.c_str(),
            "--cgroup", cg.path().c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  // Nobody will ever read ORK's stderr: its first write there fails with EPIPE.
  ::close(err[0]);
  ::close(err[1]);
  Child d;
  d.pid = pid;
  JournalFile j{journal};
  ASSERT_NE(j.waitFor({"event=start", "dry_run=1"}, 5s), "") << readFile(journal);
  EXPECT_NE(j.waitFor({"event=warning", "what=mirror_dropped"}, 2s), "") << readFile(journal);
  std::this_thread::sleep_for(300ms);  // the loop turns, writing nowhere but the file
  ASSERT_TRUE(d.alive()) << "ORK died: " << (WIFSIGNALED(d.status) ? WTERMSIG(d.status) : -1);
  ::kill(d.pid, SIGTERM);
  ASSERT_TRUE(d.waitExit(5s));
  EXPECT_TRUE(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0)
      << "status " << d.status << (WIFSIGNALED(d.status) ? " signal " + std::to_string(WTERMSIG(d.status)) : "");
  EXPECT_NE(j.waitFor({"event=stop", "signal=15"}, 1s), "") << readFile(journal);
  EXPECT_EQ(j.count("what=mirror_dropped"), 1) << readFile(journal);
}

// A scope that vanishes under the daemon (its cgroup removed): the failing scan is said
// once and retried with back-off, not turned into a busy loop that floods the journal.
TEST_F(CliFiles, DaemonBacksOffWhenItsScopeVanishes) {
  ORK_REQUIRE(::geteuid() == 0, "needs root to make a memory cgroup");
  MemoryCgroup cg;
  ORK_REQUIRE(cg.create(256), "no memory cgroup controller to make a cgroup in");
  const std::string journal = dir_ + "/journal.log";
  // The table is due for a refresh every second: each one fails once the scope is gone.
  const std::string config = file("ork.toml", "[scan]\nidle_interval_s = 1\n");
  Child d = spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--no-protect", "--kmsg", journal, "--cgroup", cg.path(),
                   "--config", config});
  JournalFile j{journal};
  ASSERT_NE(j.waitFor({"event=start", "dry_run=1"}, 5s), "") << readFile(journal);
  ASSERT_EQ(::rmdir(cg.path().c_str()), 0) << "rmdir " << cg.path();
  std::this_thread::sleep_for(1s);
  auto ticks = [&] {
    std::string st = readFile("/proc/" + std::to_string(d.pid) + "/stat");
    auto close = st.rfind(')');
    std::istringstream in(st.substr(close + 2));
    std::string f;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> f; ++i) {
      if (i == 14) utime = std::atol(f.c_str());
      if (i == 15) stime = std::atol(f.c_str());
    }
    return utime + stime;
  };
  long before = ticks();
  std::this_thread::sleep_for(3s);
  long used = ticks() - before;
  ASSERT_TRUE(d.alive());
  EXPECT_LT(used, ::sysconf(_SC_CLK_TCK) / 2) << "the daemon spins: " << used << " ticks in 3 s";
  EXPECT_GE(j.count("what=scan_failed") + j.count("what=sample_failed"), 1) << readFile(journal);
  EXPECT_LE(j.count("what=scan_failed"), 2) << readFile(journal);
  EXPECT_LE(j.count("what=sample_failed"), 1) << readFile(journal);
  EXPECT_LT(readFile(journal).size(), 8000u) << "the journal is flooded";
  ::kill(d.pid, SIGTERM);
  ASSERT_TRUE(d.waitExit(5s));
  EXPECT_TRUE(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0);
}

// SIGHUP re-reads the configuration file: a good one is applied (the reload line says
// what is now in force), a broken one is reported and the running one kept.
TEST_F(CliFiles, SighupReloadsTheConfiguration) {
  const std::string journal = dir_ + "/journal.log";
  const std::string config = dir_ + "/ork.toml";
  writeFile(config, "[memory]\nsoft_percent = 10\nhard_percent = 5\n");
  Child d = spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--no-protect", "--kmsg", journal, "--config", config});
  JournalFile j{journal};
  std::string start = j.waitFor({"event=start", "dry_run=1"}, 5s);
  ASSERT_NE(start, "") << readFile(journal);
  writeFile(config, "[memory]\nsoft_percent = 20\nhard_percent = 7\n");
  ::kill(d.pid, SIGHUP);
  std::string ok = j.waitFor({"event=reload", "result=ok"}, 5s);
  ASSERT_NE(ok, "") << readFile(journal);
  auto field = [](const std::string& line, const std::string& key) {
    auto p = line.find(" " + key + "=");
    return p == std::string::npos ? std::string() : line.substr(p + key.size() + 2, line.find(' ', p + 1) - p - key.size() - 2);
  };
  long total = std::atol(field(start, "total_kib").c_str());
  long soft = std::atol(field(ok, "soft_kib").c_str());
  EXPECT_NEAR(static_cast<double>(soft), std::min(total * 0.20, 4096.0 * 1024), 2.0) << ok;
  writeFile(config, "[memory]\nsoft_percent = 20\nhard_percent = 7\nnot_a_key = 1\n");
  ::kill(d.pid, SIGHUP);
  std::string bad = j.waitFor({"event=reload", "result=failed"}, 5s);
  ASSERT_NE(bad, "") << readFile(journal);
  EXPECT_NE(bad.find("line 4"), std::string::npos) << bad;
  EXPECT_NE(bad.find("kept=previous"), std::string::npos) << bad;
  ASSERT_TRUE(d.alive());
  ::kill(d.pid, SIGTERM);
  ASSERT_TRUE(d.waitExit(5s));
  EXPECT_TRUE(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0);
}

}  // namespace
}  // namespace ork::test
