// The `ork` binary as a user runs it: exit codes, help, check-config errors, `top`,
// and the daemon's own budget while it runs (RSS, open fds), as earlyoom's CLI tests do.
#include <dirent.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "support/Harness.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;

// The ork these tests start without --config reads $ORK_DEFAULT_CONFIG: a file that does
// not exist unless a test writes it, never the host's /etc/ork/ork.toml (ctest sets the
// same; this covers running the binary by hand).
class NoHostConfig : public ::testing::Environment {
 public:
  void SetUp() override { ::setenv("ORK_DEFAULT_CONFIG", "/nonexistent/ork-test/ork.toml", 0); }
};
[[maybe_unused]] ::testing::Environment* const kNoHostConfig = ::testing::AddGlobalTestEnvironment(new NoHostConfig);

// Points ORK_DEFAULT_CONFIG at path for the scope of one test.
class DefaultConfig {
 public:
  explicit DefaultConfig(const std::string& path) {
    const char* was = std::getenv("ORK_DEFAULT_CONFIG");
    saved_ = was != nullptr ? was : "";
    ::setenv("ORK_DEFAULT_CONFIG", path.c_str(), 1);
  }
  ~DefaultConfig() { ::setenv("ORK_DEFAULT_CONFIG", saved_.c_str(), 1); }
  DefaultConfig(const DefaultConfig&) = delete;
  DefaultConfig& operator=(const DefaultConfig&) = delete;

 private:
  std::string saved_;
};

int ork(const std::vector<std::string>& args, std::string* out = nullptr) {
  std::vector<std::string> argv = {ORK_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, out);
}

// Runs ork like ork() but gives up after `limit`: a command that hangs is killed (by
// its PID) and reported as exit code -1, so that a test of "must not hang" fails rather
// than hangs.
int orkBounded(const std::vector<std::string>& args, std::chrono::milliseconds limit, std::string* out) {
  std::vector<std::string> argv = {ORK_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  Child c = spawn(argv, true);
  ::fcntl(c.out, F_SETFL, O_NONBLOCK);
  std::string all;
  auto until = std::chrono::steady_clock::now() + limit;
  bool exited = false;
  while (std::chrono::steady_clock::now() < until) {
    char buf[4096];
    ssize_t n = ::read(c.out, buf, sizeof buf);
    if (n > 0) {
      all.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (!c.alive()) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  // What it wrote just before it exited.
  char buf[4096];
  for (ssize_t n; exited && (n = ::read(c.out, buf, sizeof buf)) > 0;) all.append(buf, static_cast<std::size_t>(n));
  c.stop();
  if (out) *out = all;
  if (!exited) return -1;
  return WIFEXITED(c.status) ? WEXITSTATUS(c.status) : 128 + WTERMSIG(c.status);
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
  // Every error, in the order of the file.
  std::size_t last = 0;
  for (const char* expected : {":2: memory.hard_percent must be", ":3: unknown key \"soft_procent\"",
                               ":5: sampling.max_interval_ms = 999999 is out of range", ":7: kill.prefer",
                               ":8: unknown section [bogus]"}) {
    std::size_t at = out.find(path + expected);
    EXPECT_NE(at, std::string::npos) << expected << "\nin:\n" << out;
    EXPECT_GE(at, last) << expected << " out of line order:\n" << out;
    last = at == std::string::npos ? last : at;
  }
}

// An error between two keys points at a line of one of them; nothing says line 0.
TEST_F(CliFiles, CheckConfigPutsCrossKeyErrorsOnALine) {
  std::string path = file("cross.toml", "[memory]\nsoft_percent = 4\n\nhard_percent = 6\n");
  std::string out;
  EXPECT_EQ(ork({"check-config", path}, &out), 2);
  EXPECT_EQ(out, path + ":4: memory.soft_percent (4) must not be below memory.hard_percent (6)\n");
}

// What the file holds is escaped in every message: a control character in a pattern is
// refused, and said without reaching the terminal raw.
TEST_F(CliFiles, CheckConfigEscapesWhatTheFileHolds) {
  std::string path = file("esc.toml", "[kill]\nprefer = [\"name:\\u001b]0;pwned\\u0007x\"]\n\"\\u001b[2J\" = 1\n");
  std::string out;
  EXPECT_EQ(ork({"check-config", path}, &out), 2);
  EXPECT_NE(out.find(":2: kill.prefer: pattern \"name:\\x1b]0;pwned\\x07x\": control character \\x1b"),
            std::string::npos) << out;
  EXPECT_NE(out.find(":3: unknown key \"\\x1b[2J\" in [kill]"), std::string::npos) << out;
  for (char c : out) EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << static_cast<int>(c) << " in " << out;
  // Bytes beyond ASCII never reach the TOML library: refused with line and column.
  path = file("utf8.toml", "[memory]\n\xcc\xaa = 1\n");
  EXPECT_EQ(ork({"check-config", path}, &out), 2);
  EXPECT_NE(out.find(path + ":2: column 1: byte 0xcc is not ASCII"), std::string::npos) << out;
}

TEST_F(CliFiles, TopRefusesACountThatDoesNotFit) {
  std::string out;
  for (const char* n : {"4294967296", "2147483648", "-1", "0", "5x", ""}) {
    EXPECT_EQ(ork({"top", "-n", n}, &out), 2) << n;
    EXPECT_NE(out.find("-n needs a whole number from 1 to 2147483647"), std::string::npos) << n << ": " << out;
  }
}

// A --passwd file that cannot be read would leave every user a number, silently.
TEST_F(CliFiles, AnUnreadablePasswdIsRefused) {
  std::string out;
  const std::string missing = dir_ + "/nonexistent";
  EXPECT_EQ(ork({"daemon", "--dry-run", "--passwd", missing, "--kmsg", dir_ + "/j.log"}, &out), 2) << out;
  EXPECT_NE(out.find("--passwd: " + missing + ": No such file or directory"), std::string::npos) << out;
  EXPECT_EQ(ork({"top", "--passwd", missing}, &out), 2) << out;
  EXPECT_NE(out.find("--passwd: " + missing), std::string::npos) << out;
  const std::string fifo = dir_ + "/passwd";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(orkBounded({"top", "--passwd", fifo}, 5s, &out), 2) << out;
  EXPECT_NE(out.find("a FIFO, not a regular file"), std::string::npos) << out;
}

TEST_F(CliFiles, CheckConfigReportsSyntaxErrorsAndMissingFiles) {
  std::string path = file("syntax.toml", "[memory]\nhard_percent = = 3\n");
  std::string out;
  EXPECT_EQ(ork({"check-config", path}, &out), 2);
  EXPECT_NE(out.find(path + ":2:"), std::string::npos) << out;
  // A file-level error: the path once, no line number, and a missing file said so.
  EXPECT_EQ(ork({"check-config", dir_ + "/missing.toml"}, &out), 2);
  EXPECT_EQ(out, dir_ + "/missing.toml: no such file\n");
}

// Without --config, the default file (/etc/ork/ork.toml; here $ORK_DEFAULT_CONFIG) is
// read when it exists: the start line names the file in use, or says config=none.
TEST_F(CliFiles, DaemonReadsTheDefaultConfigurationWhenPresent) {
  const std::string path = dir_ + "/etc-ork.toml";
  const std::string journal = dir_ + "/journal.log";
  DefaultConfig def(path);
  for (bool present : {false, true}) {
    if (present) writeFile(path, "[memory]\nsoft_percent = 20\nhard_percent = 7\n" + recorderIn(dir_));
    ::unlink(journal.c_str());
    // No file at all: the flight recorder's default directory, in a /var/lib of its own.
    Child d = spawn(withPrivateVarLib({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--no-protect", "--kmsg", journal}));
    JournalFile j{journal};
    std::string start = j.waitFor({"event=start", "dry_run=1"}, 5s);
    ASSERT_NE(start, "") << readFile(journal);
    if (present) {
      EXPECT_NE(start.find(" config=\"" + path + "\" "), std::string::npos) << start;
      long total = std::atol(field(start, "total_kib").c_str());
      EXPECT_NEAR(static_cast<double>(std::atol(field(start, "soft_kib").c_str())),
                  std::min(total * 0.20, 4096.0 * 1024), 2.0) << start;
    } else {
      EXPECT_NE(start.find(" config=\"none\" "), std::string::npos) << start;
    }
    ::kill(d.pid, SIGTERM);
    ASSERT_TRUE(d.waitExit(5s));
    EXPECT_TRUE(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0);
  }
  // --config overrides it; a broken default file stops the daemon as a --config one does.
  const std::string other = file("other.toml", "[memory]\nsoft_percent = 30\n" + recorderIn(dir_));
  std::string out;
  writeFile(path, "[memory]\nhard_percent = 500\n");
  EXPECT_EQ(ork({"daemon", "--dry-run", "--kmsg", journal}, &out), 2);
  EXPECT_NE(out.find(path + ":2: memory.hard_percent = 500 is out of range"), std::string::npos) << out;
  EXPECT_EQ(ork({"top", "-n", "1"}, &out), 2);
  EXPECT_EQ(ork({"check-config", other}, &out), 0) << out;
  ::unlink(journal.c_str());
  Child d = spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--no-protect", "--kmsg", journal, "--config", other});
  JournalFile j{journal};
  std::string start = j.waitFor({"event=start", "dry_run=1"}, 5s);
  EXPECT_NE(start.find(" config=\"" + other + "\" "), std::string::npos) << readFile(journal);
  ::kill(d.pid, SIGTERM);
  ASSERT_TRUE(d.waitExit(5s));
  // Not an absolute path: a usage error, never a file found relative to somewhere.
  DefaultConfig relative("etc/ork.toml");
  EXPECT_EQ(ork({"daemon", "--dry-run", "--kmsg", journal}, &out), 2);
  EXPECT_NE(out.find("ORK_DEFAULT_CONFIG must be an absolute path"), std::string::npos) << out;
}

// SIGHUP looks at the default file again: created since the start, it is applied;
// removed, the compiled-in defaults are back.
TEST_F(CliFiles, SighupFollowsTheDefaultConfiguration) {
  const std::string path = dir_ + "/etc-ork.toml";
  const std::string journal = dir_ + "/journal.log";
  DefaultConfig def(path);
  // Started without a file: the flight recorder's default directory, in a /var/lib of its own.
  Child d = spawn(withPrivateVarLib({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--no-protect", "--kmsg", journal}));
  JournalFile j{journal};
  std::string start = j.waitFor({"event=start", "dry_run=1", "config=\"none\""}, 5s);
  ASSERT_NE(start, "") << readFile(journal);
  ::kill(d.pid, SIGHUP);
  EXPECT_NE(j.waitFor({"event=reload", "result=unchanged", "no configuration file"}, 5s), "") << readFile(journal);
  writeFile(path, "[memory]\nsoft_percent = 20\nhard_percent = 7\n");
  ::kill(d.pid, SIGHUP);
  std::string ok = j.waitFor({"event=reload", "result=ok", "file=\"" + path + "\""}, 5s);
  ASSERT_NE(ok, "") << readFile(journal);
  long total = std::atol(field(start, "total_kib").c_str());
  EXPECT_NEAR(static_cast<double>(std::atol(field(ok, "soft_kib").c_str())), std::min(total * 0.20, 4096.0 * 1024), 2.0);
  ::unlink(path.c_str());
  ::kill(d.pid, SIGHUP);
  std::string back = j.waitFor({"event=reload", "result=ok", "file=\"none\""}, 5s);
  ASSERT_NE(back, "") << readFile(journal);
  EXPECT_EQ(field(back, "soft_kib"), field(start, "soft_kib")) << back;
  ::kill(d.pid, SIGTERM);
  ASSERT_TRUE(d.waitExit(5s));
  EXPECT_TRUE(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0);
}

// check-config without a file checks the default one, and says clearly when there is
// none (the daemon then runs on its defaults: not an error).
TEST_F(CliFiles, CheckConfigWithoutAFileChecksTheDefaultOne) {
  const std::string path = dir_ + "/etc-ork.toml";
  DefaultConfig def(path);
  std::string out;
  EXPECT_EQ(ork({"check-config"}, &out), 0) << out;
  EXPECT_EQ(out, path + ": no such file: there is no configuration file, and ORK runs on its compiled-in "
                        "defaults ('ork check-config --defaults' prints them)\n");
  writeFile(path, "[memory]\nsoft_percent = 12\n");
  EXPECT_EQ(ork({"check-config"}, &out), 0) << out;
  EXPECT_EQ(out, path + ": ok\n");
  writeFile(path, "[memory]\nsoft_percent = 120\n");
  EXPECT_EQ(ork({"check-config"}, &out), 2) << out;
  EXPECT_NE(out.find(path + ":2: memory.soft_percent = 120 is out of range"), std::string::npos) << out;
  // A default "file" that is a FIFO is not absent: it is refused, at once.
  ::unlink(path.c_str());
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_EQ(orkBounded({"check-config"}, 5s, &out), 2) << out;
  EXPECT_NE(out.find(path + ": a FIFO, not a regular file"), std::string::npos) << out;
}

// A FIFO as the configuration file: opening it for reading would wait for a writer for
// ever. Only regular files are read, and the error says what the file is.
TEST_F(CliFiles, AFifoAsTheConfigurationIsRefusedAtOnce) {
  const std::string fifo = dir_ + "/ork.toml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string out;
  EXPECT_EQ(orkBounded({"check-config", fifo}, 5s, &out), 2) << out;
  EXPECT_NE(out.find(fifo + ": a FIFO, not a regular file"), std::string::npos) << out;
  EXPECT_EQ(orkBounded({"daemon", "--dry-run", "--config", fifo, "--kmsg", dir_ + "/j.log"}, 5s, &out), 2) << out;
  EXPECT_NE(out.find("a FIFO, not a regular file"), std::string::npos) << out;
  EXPECT_EQ(orkBounded({"top", "--config", fifo}, 5s, &out), 2) << out;
  // A directory is said as such too.
  EXPECT_EQ(orkBounded({"check-config", dir_}, 5s, &out), 2) << out;
  EXPECT_NE(out.find(dir_ + ": a directory, not a regular file"), std::string::npos) << out;
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

// A fixture /proc for `ork top --proc` and `ork daemon --dry-run --proc`: memory, CPU,
// uptime, and processes written as the kernel would (stat, status, oom_score_adj,
// cmdline, cgroup, exe), with what each process chooses for itself (its name, its
// command line) as hostile as a test wants.
struct FixtureProc {
  std::string root;  // DIR/proc

  explicit FixtureProc(const std::string& dir) : root(dir + "/proc") {
    ::mkdir(root.c_str(), 0755);
    writeFile(root + "/meminfo", "MemTotal: 8000000 kB\nMemFree: 4000000 kB\nMemAvailable: 6000000 kB\n");
    writeFile(root + "/stat",
              "cpu  100 0 100 1000 0 0 0 0 0 0\ncpu0 100 0 100 1000 0 0 0 0 0 0\nprocs_running 1\nprocs_blocked 0\n");
    writeFile(root + "/uptime", "10000.00 20000.00\n");
    ::mkdir((root + "/sys").c_str(), 0755);
  }
  // comm as /proc/PID/stat shows it; argv with NULs; status as written (a valid one by
  // default).
  void add(int pid, const std::string& comm, const std::string& argv, long rssPages, unsigned uid = 1000,
           const std::string& status = "") {
    const std::string d = root + "/" + std::to_string(pid);
    ::mkdir(d.c_str(), 0755);
    char stat[512];
    std::snprintf(stat, sizeof stat,
                  "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 12 34 0 0 20 0 1 0 500000 123456789 %ld "
                  "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
                  pid, comm.c_str(), pid, pid, rssPages);
    writeFile(d + "/stat", stat);
    const std::string u = std::to_string(uid);
    writeFile(d + "/status", !status.empty() ? status
                                             : "Name:\tx\nTgid:\t" + std::to_string(pid) + "\nUid:\t" + u + "\t" + u +
                                                   "\t" + u + "\t" + u + "\nVmSize:\t 100000 kB\nVmSwap:\t 0 kB\n");
    writeFile(d + "/oom_score_adj", "0\n");
    writeFile(d + "/cmdline", argv);
    writeFile(d + "/cgroup", "0::/user.slice/test\n");
  }
};

// `ork top` writes what a process chose (a VM's name from its qemu command line, a
// command line, a comm, a user name) escaped, as the journal does: no ESC, BEL,
// newline or C1 control (UTF-8 0xc2 0x9b is CSI) reaches the terminal raw.
TEST_F(CliFiles, TopEscapesWhatProcessesChose) {
  FixtureProc proc(dir_);
  const std::string hostileName = "ev\x1b[31mil\nX\x07";
  proc.add(300, "qemu-system-x86",
           std::string("/usr/bin/qemu-system-x86_64\0-name\0", 34) + hostileName +
               std::string("\0-uuid\0005f1c0d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f\0-m\0512\0", 50),
           100000, 64055);
  proc.add(400, "a\x1b]0;t\x07", std::string("hog\0\xc2\x9b" "31m\0\x1b[2J\0", 15), 50000, 1001);
  proc.add(500, "a\x1b]0;t\x07", "", 20000);  // no command line: its comm is shown
  const std::string passwd = file("passwd", "root:x:0:0::/root:/bin/sh\nev\x1bil:x:1001:1001::/:/bin/sh\n");
  const std::string config = file("ork.toml", "[vm]\nlibvirt = false\n");
  std::string out;
  ASSERT_EQ(orkBounded({"top", "--proc", proc.root, "--passwd", passwd, "--config", config, "--all"}, 20s, &out), 0) << out;
  EXPECT_NE(out.find("VMs (1)"), std::string::npos) << out;
  EXPECT_NE(out.find(" ev\\x1b[31mil\\x0aX"), std::string::npos) << out;  // in a 20-column field
  // The command line has its control characters as '?' already; what is beyond ASCII is escaped.
  EXPECT_NE(out.find("hog \\xc2\\x9b31m ?[2J"), std::string::npos) << out;
  EXPECT_NE(out.find("ev\\x1bil"), std::string::npos) << out;
  EXPECT_NE(out.find("a\\x1b]0;t\\x07"), std::string::npos) << out;
  for (char c : out) {
    const auto b = static_cast<unsigned char>(c);
    ASSERT_TRUE(b == '\n' || (b >= 0x20 && b < 0x7f)) << "byte " << static_cast<int>(b) << " written raw in:\n" << out;
  }
}

// Every file under dir, with its content (symbolic links as their target).
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_symlink()) out[e.path()] = "-> " + std::filesystem::read_symlink(e.path()).string();
    else if (e.is_regular_file()) out[e.path()] = readFile(e.path());
  }
  return out;
}

// A fixture root is read-only to ORK: neither `ork daemon --dry-run --proc DIR` nor
// `ork top --proc DIR` writes into it (no PSI trigger into DIR/pressure/memory, no
// oom_score_adj into DIR/self), and the start line does not claim wakeup=psi.
TEST_F(CliFiles, AFixtureProcIsReadOnly) {
  FixtureProc proc(dir_);
  proc.add(300, "worker", std::string("worker\0", 7), 1000);
  ::mkdir((proc.root + "/pressure").c_str(), 0755);
  writeFile(proc.root + "/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                                            "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  ::mkdir((proc.root + "/self").c_str(), 0755);
  writeFile(proc.root + "/self/oom_score_adj", "0\n");
  const auto before = snapshot(proc.root);
  const std::string journal = dir_ + "/journal.log";
  Child d = spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--proc", proc.root, "--kmsg", journal, "--config",
                   file("daemon.toml", recorderIn(dir_))});
  JournalFile j{journal};
  std::string start = j.waitFor({"event=start", "dry_run=1"}, 5s);
  ASSERT_NE(start, "") << readFile(journal);
  EXPECT_NE(start.find(" wakeup=none"), std::string::npos) << start;
  EXPECT_NE(j.waitFor({"event=warning", "what=no_pressure_wakeup", "not a kernel file"}, 2s), "") << readFile(journal);
  ::kill(d.pid, SIGTERM);
  ASSERT_TRUE(d.waitExit(5s));
  std::string out;
  ASSERT_EQ(orkBounded({"top", "--proc", proc.root, "--config", file("ork.toml", "[vm]\nlibvirt = false\n")}, 20s, &out), 0)
      << out;
  EXPECT_EQ(snapshot(proc.root), before);
}

// The line of `ork top` for one PID.
std::string topRow(const std::string& out, int pid) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string rank, p;
    words >> rank;
    if (rank == "->") words >> rank;
    if (words >> p && p == std::to_string(pid)) return line;
  }
  return "";
}

// A status that cannot be parsed leaves the owner unknown: shown as "?", and scored
// without the root discount (owner 1.00), unlike a process really owned by root.
TEST_F(CliFiles, TopShowsAnUnknownOwnerAsUnknown) {
  FixtureProc proc(dir_);
  proc.add(600, "garbled", std::string("garbled\0", 8), 30000, 0, "Name:\tgarbled\nUid:\t-\nVmSize:\t1 kB\n");
  proc.add(700, "rootjob", std::string("rootjob\0", 8), 30000, 0);
  const std::string config = file("ork.toml", "[vm]\nenabled = false\n");
  std::string out;
  ASSERT_EQ(orkBounded({"top", "--proc", proc.root, "--config", config}, 20s, &out), 0) << out;
  std::istringstream unknown(topRow(out, 600)), root(topRow(out, 700));
  std::vector<std::string> u{std::istream_iterator<std::string>(unknown), {}};
  std::vector<std::string> r{std::istream_iterator<std::string>(root), {}};
  ASSERT_GE(u.size(), 9u) << out;
  ASSERT_GE(r.size(), 9u) << out;
  // rank pid user kills memb mem grow grew adj owner ...
  const std::size_t at = u[0] == "->" ? 1 : 0, rat = r[0] == "->" ? 1 : 0;
  EXPECT_EQ(u[at + 2], "?") << out;
  EXPECT_EQ(u[at + 9], "1.00") << out;
  EXPECT_EQ(r[rat + 2], "root") << out;
  EXPECT_EQ(r[rat + 9], "0.25") << out;
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
  Child d = spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--no-protect", "--kmsg", journal, "--config",
                   file("ork.toml", recorderIn(dir_))});
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
    std::vector<std::string> argv = {ORK_BINARY, "daemon", "--dry-run", "--quiet", "--kmsg", journal,
                                     "--config", file("ork.toml", recorderIn(dir_))};
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
  const std::string config = file("ork.toml", "[journal]\nreport_interval_s = 1\n" + recorderIn(dir_));
  const auto spawned = std::chrono::steady_clock::now();
  Child d = spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--no-protect", "--kmsg", journal, "--config", config});
  JournalFile j{journal};
  ASSERT_NE(j.waitFor({"event=start"}, 5s), "") << readFile(journal);
  const std::string state = j.waitFor({"event=state"}, 30s);
  ASSERT_NE(state, "") << readFile(journal);
  for (const char* key : {"memory", "avail_kib", "total_kib", "longest_sample_gap_us", "busy_pct", "vms", "libvirt"})
    EXPECT_NE(field(state, key), "") << key << " missing: " << state;
  // Periodic: a third line comes (the 30 s only ends the wait for a daemon that stopped
  // reporting); not a flood: no more lines than whole seconds since the spawn, plus one
  // (a loaded machine only makes that bound looser). How soon they came is a figure.
  while (j.count("event=state") < 3 && std::chrono::steady_clock::now() < spawned + 30s) std::this_thread::sleep_for(20ms);
  const int states = j.count("event=state");
  const auto elapsed = std::chrono::steady_clock::now() - spawned;
  EXPECT_GE(states, 3) << readFile(journal);
  EXPECT_LE(states, std::chrono::duration_cast<std::chrono::seconds>(elapsed).count() + 1) << readFile(journal);
  std::cout << "[ figure ] report_interval_s = 1: " << states << " state lines "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms after the spawn\n";
  writeFile(config, "[journal]\nreport_interval_s = 0\n" + recorderIn(dir_));
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
  // man:NAME(S): a page scripts/man.py renders (into the package); file:/usr/share/doc/
  // ork/NAME: a document of the repository that the package installs there.
  const std::string manPy = readFile(root + "/scripts/man.py");
  const std::string rules = readFile(root + "/debian/rules");
  for (std::string uri; uris >> uri; ++n) {
    if (uri.rfind("man:", 0) == 0) {
      const auto open = uri.find('(');
      ASSERT_NE(open, std::string::npos) << uri;
      const std::string page = uri.substr(4, open - 4) + "." + uri.substr(open + 1, uri.size() - open - 2);
      EXPECT_NE(manPy.find("(\"" + page + "\","), std::string::npos) << uri << ": scripts/man.py renders no " << page;
      continue;
    }
    const std::string prefix = "file:/usr/share/doc/ork/";
    ASSERT_EQ(uri.rfind(prefix, 0), 0u) << uri;
    const std::string name = uri.substr(prefix.size());
    const std::string source = name == "README.md" ? root + "/README.md" : root + "/docs/" + name;
    EXPECT_EQ(::access(source.c_str(), R_OK), 0) << uri << ": no " << source;
  }
  EXPECT_GE(n, 2);
  EXPECT_NE(rules.find("dh_installdocs README.md docs/*.md"), std::string::npos)
      << "the package does not put the documentation where the unit says";
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
  // The recorder on (its fds are in the budget), in the test's directory.
  Child d = spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--kmsg", journal, "--config",
                   file("ork.toml", recorderIn(dir_))});
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
  // The pidfds of the victim chosen in advance for the watchdog thread (its members, at
  // most act::VictimSlot::kMaxMembers = 16), counted apart: their number is the host's.
  int pidfds = 0;
  if (DIR* dir = ::opendir(("/proc/" + std::to_string(d.pid) + "/fd").c_str())) {
    while (dirent* e = ::readdir(dir)) {
      char target[64] = {};
      std::string link = "/proc/" + std::to_string(d.pid) + "/fd/" + e->d_name;
      if (::readlink(link.c_str(), target, sizeof target - 1) > 0 && std::string(target) == "anon_inode:[pidfd]")
        ++pidfds;
    }
    ::closedir(dir);
  }
  EXPECT_LE(pidfds, 16) << "pidfds of the victim chosen in advance";
  own -= pidfds;
  // journal, meminfo, epoll, signalfd, PSI trigger, the candidate table's /proc dirfd,
  // the CPU sensor's /proc/stat and /proc/pressure/cpu, the VM table's /proc dirfd, and
  // the disk ladder's two eventfds (its statvfs probe and its worker's answers) and its
  // watched /proc/self/mountinfo; the
  // watchdog thread's own journal fd and /proc/meminfo; the flight recorder's four (its
  // worker's eventfd, its file, /dev/kmsg read, /proc/pressure/memory kept open); the I/O
  // ladder's /proc/diskstats, /proc/pressure/io and its worker's eventfd; the `ork status`
  // socket. 22 in all (counted on a host without VMs, 2026-11-30); the VM lanes add 3.
  EXPECT_LE(own, vms ? 25 : 22) << "ORK's own open fds: " << own << " (" << inherited << " inherited)";
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
  const std::string config = file("ork.toml", recorderIn(dir_));
  int err[2];
  ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(err[1], 2);
    ::execl(ORK_BINARY, ORK_BINARY, "daemon", "--dry-run", "--no-protect", "--kmsg", journal.c_str(),
            "--cgroup", cg.path().c_str(), "--config", config.c_str(), static_cast<char*>(nullptr));
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
  const std::string config = file("ork.toml", "[scan]\nidle_interval_s = 1\n" + recorderIn(dir_));
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
  writeFile(config, "[memory]\nsoft_percent = 10\nhard_percent = 5\n" + recorderIn(dir_));
  Child d = spawn({ORK_BINARY, "daemon", "--dry-run", "--quiet", "--no-protect", "--kmsg", journal, "--config", config});
  JournalFile j{journal};
  std::string start = j.waitFor({"event=start", "dry_run=1"}, 5s);
  ASSERT_NE(start, "") << readFile(journal);
  writeFile(config, "[memory]\nsoft_percent = 20\nhard_percent = 7\n" + recorderIn(dir_));
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
