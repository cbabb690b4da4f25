// labkit: the lab's test programs and scenario driver, in one static binary that runs
// inside the QEMU guest (see docs/lab.md).
//
//   labkit driver --scenario N --threshold-pct P [--defender-pid PID] [--cgroup DIR]
//   <name> fill   --slot S [--rate MIBPS] [--max MIB] [--until-avail-kib K]
//   <name> tree   --slot S --children N --each MIB --rate MIBPS
//   <name> tree   --slot S --spec PATH [--self MIB]
//   <name> cache  --slot S --dev PATH --seconds T
//   <name> churn  --slot S --chunk MIB --seconds T
//
// The roles are started by the driver with fd 3 being a 4 KiB memfd shared by all of
// them: one 64-byte slot per process, where each records its pid, phase and how many
// bytes it has allocated and touched. The driver reads the slots to know how much a
// filler had allocated when it died, also when it was killed with SIGKILL.
//
// A tree with --spec starts the children the driver's spec file gives it (any shape:
// deep trees, bursts, worker pools, children of different sizes; see run_spec_tree).
//
// Everything is plain C library and Linux system calls, so the binary is small and
// static. Output of the driver: lines prefixed "LAB: " on stdout (parsed by lab.py).
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kSlotFd = 3;
constexpr int kSlots = 64;
constexpr uint64_t kMiB = 1024 * 1024;
constexpr int kLabUid = 1000;  // the test programs run as an ordinary user

enum Phase : int32_t { kNone = 0, kFilling = 1, kHolding = 2, kFinished = 3 };

struct alignas(64) Slot {
  std::atomic<uint64_t> touched;  // bytes allocated and written
  std::atomic<int32_t> pid;
  std::atomic<int32_t> phase;
  std::atomic<int32_t> status;  // wait status, valid when reaped == 1 (tree children)
  std::atomic<int32_t> reaped;
  std::atomic<int64_t> t_phase_ns;
  std::atomic<int64_t> t_term_ns;  // when SIGTERM arrived (fillers)
};
static_assert(sizeof(Slot) == 64);
static_assert(sizeof(Slot) * kSlots == 4096);

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

void sleep_ns(int64_t ns) {
  if (ns <= 0) return;
  timespec ts{static_cast<time_t>(ns / 1000000000LL), static_cast<long>(ns % 1000000000LL)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

[[noreturn]] void die(const char* what) {
  fprintf(stderr, "labkit: %s: %s\n", what, strerror(errno));
  exit(111);
}

Slot* map_slots(int fd) {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap slots");
  return static_cast<Slot*>(p);
}

// Reads one "Key:   value kB" field of /proc/meminfo, in KiB; -1 if absent.
long long meminfo_kib(const char* key) {
  static int fd = -1;
  if (fd < 0) fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[8192];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return -1;
  buf[n] = 0;
  size_t kl = strlen(key);
  for (char* line = buf; line && *line;) {
    if (strncmp(line, key, kl) == 0 && line[kl] == ':') return strtoll(line + kl + 1, nullptr, 10);
    line = strchr(line, '\n');
    if (line) ++line;
  }
  return -1;
}

long long read_ll_file(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[64];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  if (strncmp(buf, "max", 3) == 0) return -2;
  return strtoll(buf, nullptr, 10);
}

long long vmstat_value(const char* key) {
  FILE* f = fopen("/proc/vmstat", "re");
  if (!f) return -1;
  char name[128];
  long long v = 0, found = -1;
  while (fscanf(f, "%127s %lld", name, &v) == 2) {
    if (strcmp(name, key) == 0) {
      found = v;
      break;
    }
  }
  fclose(f);
  return found;
}

bool write_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == static_cast<ssize_t>(strlen(text));
}

struct Args {
  std::vector<std::string> v;
  const char* get(const char* key, const char* def = nullptr) const {
    for (size_t i = 0; i + 1 < v.size(); ++i)
      if (v[i] == key) return v[i + 1].c_str();
    return def;
  }
  double num(const char* key, double def) const {
    const char* s = get(key);
    return s ? strtod(s, nullptr) : def;
  }
};

// ---------------------------------------------------------------- the test programs

// Allocates and touches memory in 1 MiB chunks at `rate` MiB/s (0: as fast as it can;
// paced every 64 KiB),
// until `max_mib` (0: no limit) or until MemAvailable <= until_avail_kib (0: unused),
// then holds it until killed. Records the bytes touched after every page.
Slot* g_term_slot = nullptr;

// SIGTERM: note the time (for the cross-to-kill figure), then die of it as if unhandled
void on_term(int) {
  if (g_term_slot) g_term_slot->t_term_ns.store(now_ns());
  signal(SIGTERM, SIG_DFL);
  raise(SIGTERM);
}

[[noreturn]] void run_fill(Slot* slot, double rate, double max_mib, long long until_avail_kib) {
  g_term_slot = slot;
  signal(SIGTERM, on_term);
  prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);  // one touch = one 4 KiB page, never 2 MiB
  const long page = sysconf(_SC_PAGESIZE);
  const uint64_t max_bytes = static_cast<uint64_t>(max_mib * kMiB);
  slot->phase.store(kFilling);
  slot->t_phase_ns.store(now_ns());
  const int64_t t0 = now_ns();
  uint64_t total = 0;
  for (;;) {
    if (max_bytes && total >= max_bytes) break;
    if (until_avail_kib > 0) {
      long long avail = meminfo_kib("MemAvailable");
      if (avail >= 0 && avail <= until_avail_kib) break;
    }
    uint64_t chunk = kMiB;
    if (max_bytes && max_bytes - total < chunk) chunk = max_bytes - total;
    void* p = mmap(nullptr, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      sleep_ns(10'000'000);  // overcommit refused: hold what we have, try again
      continue;
    }
    auto* c = static_cast<unsigned char*>(p);
    for (uint64_t off = 0; off < chunk; off += page) {
      c[off] = 0x5a;
      total += page;
      slot->touched.store(total, std::memory_order_relaxed);
      // paced in 64 KiB steps, so that a slow filler grows smoothly, not in bursts
      if (rate > 0 && total % (64 * 1024) == 0)
        sleep_ns(t0 + static_cast<int64_t>(total / (rate * kMiB) * 1e9) - now_ns());
    }
  }
  slot->phase.store(kHolding);
  slot->t_phase_ns.store(now_ns());
  for (;;) pause();
}

// A parent that starts `children` fillers of `each` MiB at `rate` MiB/s each, reaps
// them (recording their wait status in their slots) and stays.
[[noreturn]] void run_tree(Slot* slots, int first, int children, double each, double rate) {
  Slot* self = &slots[first];
  self->phase.store(kHolding);
  for (int i = 0; i < children; ++i) {
    Slot* s = &slots[first + 1 + i];
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      s->pid.store(getpid());
      prctl(PR_SET_NAME, "cc1", 0, 0, 0);
      run_fill(s, rate, each, 0);
    }
    s->pid.store(pid);
  }
  for (;;) {
    int st = 0;
    pid_t pid = wait(&st);
    if (pid < 0) {
      if (errno == EINTR) continue;
      for (;;) pause();
    }
    for (int i = 0; i < children; ++i) {
      Slot* s = &slots[first + 1 + i];
      if (s->pid.load() == pid) {
        s->status.store(st);
        s->reaped.store(1);
      }
    }
  }
}

// One child in the driver's spec file (kSpecPath): a line
//   SLOT PARENT_SLOT EXE NAME PROGRAM ARGS...
// EXE "-": the child is forked and runs PROGRAM in the parent's image, so it runs the
// parent's program (/proc/PID/exe is the parent's: a worker pool); otherwise it execs
// /bin/EXE (a hard link of labkit, so /proc/PID/exe names EXE: another program).
struct ChildSpec {
  int slot = -1;
  std::string exe, name, program;
  std::vector<std::string> args;
};

std::vector<ChildSpec> read_spec(const char* path, int parent_slot) {
  std::vector<ChildSpec> out;
  FILE* f = fopen(path, "re");
  if (!f) die(path);
  char line[1024];
  while (fgets(line, sizeof(line), f)) {
    std::vector<std::string> w;
    for (char* t = strtok(line, " \t\n"); t; t = strtok(nullptr, " \t\n")) w.emplace_back(t);
    if (w.size() < 5 || atoi(w[1].c_str()) != parent_slot) continue;
    ChildSpec c;
    c.slot = atoi(w[0].c_str());
    c.exe = w[2] == "-" ? "" : w[2];
    c.name = w[3];
    c.program = w[4];
    c.args.assign(w.begin() + 5, w.end());
    out.push_back(std::move(c));
  }
  fclose(f);
  return out;
}

[[noreturn]] void run_role(const std::string& cmd, const Args& a, Slot* slots, int slot);

// Allocates and touches `mib` MiB that the process then holds (a tree node's own memory).
void hold_mib(Slot* slot, double mib) {
  prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
  const long page = sysconf(_SC_PAGESIZE);
  const uint64_t bytes = static_cast<uint64_t>(mib * kMiB);
  if (bytes == 0) return;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap self");
  auto* c = static_cast<unsigned char*>(p);
  for (uint64_t off = 0; off < bytes; off += page) {
    c[off] = 0x5a;
    slot->touched.store(off + page, std::memory_order_relaxed);
  }
}

// A parent whose children are given by the spec file: it holds `self_mib` of its own,
// starts all its children at once (a fork each, and an exec unless the child runs the
// parent's program), reaps them (recording their wait status in their slots) and stays.
[[noreturn]] void run_spec_tree(Slot* slots, int first, const char* spec, double self_mib) {
  Slot* self = &slots[first];
  hold_mib(self, self_mib);
  self->phase.store(kHolding);
  self->t_phase_ns.store(now_ns());
  const std::vector<ChildSpec> kids = read_spec(spec, first);
  for (const ChildSpec& k : kids) {
    if (k.slot < 0 || k.slot >= kSlots) continue;
    Slot* s = &slots[k.slot];
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      s->pid.store(getpid());
      std::vector<std::string> argv{k.name, k.program, "--slot", std::to_string(k.slot)};
      argv.insert(argv.end(), k.args.begin(), k.args.end());
      if (k.exe.empty()) {
        prctl(PR_SET_NAME, k.name.c_str(), 0, 0, 0);
        Args a;
        a.v.assign(argv.begin() + 1, argv.end());
        run_role(k.program, a, slots, k.slot);
      }
      std::vector<char*> cargv;
      for (auto& w : argv) cargv.push_back(w.data());
      cargv.push_back(nullptr);
      execv(("/bin/" + k.exe).c_str(), cargv.data());
      die("exec child");
    }
    s->pid.store(pid);
  }
  for (;;) {
    int st = 0;
    pid_t pid = wait(&st);
    if (pid < 0) {
      if (errno == EINTR) continue;
      for (;;) pause();
    }
    for (const ChildSpec& k : kids) {
      Slot* s = &slots[k.slot];
      if (s->pid.load() == pid) {
        s->status.store(st);
        s->reaped.store(1);
      }
    }
  }
}

// Reads a block device (or file) over and over for `seconds`, keeping it open so its
// page cache stays (the last close of a block device drops its cache), then holds.
[[noreturn]] void run_cache(Slot* slot, const char* dev, double seconds) {
  int fd = open(dev, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(dev);
  static char buf[1 << 20];
  slot->phase.store(kFilling);
  const int64_t end = now_ns() + static_cast<int64_t>(seconds * 1e9);
  uint64_t total = 0;
  while (now_ns() < end) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
      lseek(fd, 0, SEEK_SET);
      continue;
    }
    total += static_cast<uint64_t>(n);
  }
  fprintf(stderr, "labkit cache: read %" PRIu64 " MiB\n", total / kMiB);
  slot->phase.store(kFinished);
  slot->t_phase_ns.store(now_ns());
  for (;;) pause();
}

// Busy work near the threshold: for `seconds`, allocate `chunk` MiB, touch it, compute
// over it, free it, sleep a little; then holds.
[[noreturn]] void run_churn(Slot* slot, double chunk_mib, double seconds) {
  prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
  slot->phase.store(kFilling);
  const size_t bytes = static_cast<size_t>(chunk_mib * kMiB);
  const int64_t end = now_ns() + static_cast<int64_t>(seconds * 1e9);
  volatile uint64_t sink = 0;
  while (now_ns() < end) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      sleep_ns(10'000'000);
      continue;
    }
    auto* c = static_cast<unsigned char*>(p);
    memset(c, 0x33, bytes);
    slot->touched.store(bytes);
    uint64_t h = 0;
    for (size_t i = 0; i < bytes; i += 64) h = h * 31 + c[i];
    sink = sink + h;
    munmap(p, bytes);
    slot->touched.store(0);
    sleep_ns(20'000'000);
  }
  slot->phase.store(kFinished);
  slot->t_phase_ns.store(now_ns());
  for (;;) pause();
}

// ---------------------------------------------------------------- the driver

// Victim: expected to die (at least one victim must); Innocent: must live; Either: may
// die or live (a parent that a good killer may take with the children it started, or
// leave: neither required nor an error).
enum class Role { Victim, Innocent, Either };

const char* role_name(Role r) {
  return r == Role::Victim ? "victim" : r == Role::Innocent ? "innocent" : "either";
}

// The spec file of the tree parents' children (written by the driver, read by the trees)
constexpr const char* kSpecPath = "/tmp/lab-spec";

struct Proc {
  std::string name;       // comm / argv[0]
  std::string program;    // fill, tree, cache, churn
  std::vector<std::string> args;
  Role role = Role::Innocent;
  int slot = -1;
  int oom_adj = 0;
  bool in_cgroup = false;
  bool tree_child = false;  // started by a tree parent, not by the driver
  int parent = -1;          // a spec child: the index of its tree parent in the procs
  std::string exe;          // a spec child: the program it execs (/bin/EXE); "": forked
  int group = 0;            // start group: a group starts when the previous one holds
  pid_t pid = -1;
  int pidfd = -1;
  bool dead = false;
  bool status_known = false;
  int status = 0;
  int64_t t_death_ns = 0;
  uint64_t touched_at_death = 0;
  bool before_end = true;  // died during the scenario, not in the final clean-up
};

struct Scenario {
  int id = 0;
  const char* title = "";
  std::vector<Proc> procs;
  bool expect_kill = true;  // false: nothing may be killed
  double duration_s = 0;    // for expect_kill == false: how long the work lasts
  double timeout_s = 90;
  double settle_s = 0;      // a pause after each group holds, before the next starts
};

std::string fmt(const char* f, double v) {
  char b[64];
  snprintf(b, sizeof(b), f, v);
  return b;
}

Proc mk(const char* name, const char* program, Role role, std::vector<std::string> args,
        int group = 0) {
  Proc p;
  p.name = name;
  p.program = program;
  p.role = role;
  p.args = std::move(args);
  p.group = group;
  return p;
}

// A tree parent: a `tree` whose children come from the spec file (add them with kid()).
Proc tree_parent(const char* name, Role role, int group, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--spec", kSpecPath};
  args.insert(args.end(), extra.begin(), extra.end());
  return mk(name, "tree", role, std::move(args), group);
}

// A child of s.procs[parent], started by it: exec'd through /bin/EXE, or forked when
// exe is "" (it then runs the parent's program: a worker pool). Returns its index.
int kid(Scenario& s, int parent, const char* exe, const char* name, const char* program, Role role,
        std::vector<std::string> args) {
  Proc c = mk(name, program, role, std::move(args), s.procs[static_cast<size_t>(parent)].group);
  c.tree_child = true;
  c.parent = parent;
  c.exe = exe;
  s.procs.push_back(c);
  return static_cast<int>(s.procs.size()) - 1;
}

int add(Scenario& s, Proc p) {
  s.procs.push_back(std::move(p));
  return static_cast<int>(s.procs.size()) - 1;
}

// The hostile name: a quote, a ')' followed by a fake state field, spaces and a
// newline; 15 bytes, so the kernel keeps all of it as comm.
const char kHostileName[] = "ev\"il) R 1 1 1\n";

Scenario build(int id, double avail_mib, double total_mib, double threshold_pct,
               double cg_max_mib) {
  Scenario s;
  s.id = id;
  const double A = avail_mib;
  const double thr_mib = total_mib * threshold_pct / 100.0;
  auto mib = [](double v) { return fmt("%.1f", v); };
  switch (id) {
    case 1:
      s.title = "fast fill";
      s.procs.push_back(mk("bystander", "fill", Role::Innocent, {"--max", mib(0.05 * A)}, 0));
      s.procs.push_back(mk("filler", "fill", Role::Victim, {"--rate", "0"}, 1));
      break;
    case 2:
      s.title = "slow leak beside a larger steady process";
      s.procs.push_back(mk("steady", "fill", Role::Innocent, {"--max", mib(0.55 * A)}, 0));
      s.procs.push_back(mk("leaker", "fill", Role::Victim, {"--rate", "20"}, 1));
      break;
    case 3: {
      s.title = "process tree";
      s.procs.push_back(mk("db", "fill", Role::Innocent, {"--max", mib(0.30 * A)}, 0));
      const int n = 4;
      s.procs.push_back(mk("build", "tree", Role::Victim,
                           {"--children", std::to_string(n), "--each", mib(0.19 * A), "--rate", "8"},
                           1));
      for (int i = 0; i < n; ++i) {
        Proc c = mk("cc1", "fill", Role::Victim, {}, 1);
        c.tree_child = true;
        s.procs.push_back(c);
      }
      break;
    }
    case 4: {
      s.title = "largest process has oom_score_adj -1000";
      Proc precious = mk("precious", "fill", Role::Innocent, {"--max", mib(0.55 * A)}, 0);
      precious.oom_adj = -1000;
      s.procs.push_back(precious);
      s.procs.push_back(mk("bystander", "fill", Role::Innocent, {"--max", mib(0.05 * A)}, 0));
      s.procs.push_back(mk("hog", "fill", Role::Victim, {"--rate", "40"}, 1));
      break;
    }
    case 5:
      s.title = "many small processes and one medium grower";
      for (int i = 0; i < 30; ++i) {
        char n[16];
        snprintf(n, sizeof(n), "svc-%02d", i);
        s.procs.push_back(mk(n, "fill", Role::Innocent, {"--max", mib(0.02 * A)}, 0));
      }
      s.procs.push_back(mk("grower", "fill", Role::Victim, {"--rate", "25"}, 1));
      break;
    case 6:
      s.title = "hostile process name";
      s.procs.push_back(mk("bystander", "fill", Role::Innocent, {"--max", mib(0.05 * A)}, 0));
      s.procs.push_back(mk(kHostileName, "fill", Role::Victim, {"--rate", "60"}, 1));
      break;
    case 7:
      s.title = "heavy page cache, plenty reclaimable";
      s.expect_kill = false;
      s.duration_s = 15;
      s.procs.push_back(mk("steady", "fill", Role::Innocent, {"--max", mib(0.75 * A)}, 0));
      s.procs.push_back(
          mk("reader", "cache", Role::Innocent, {"--dev", "/dev/vda", "--seconds", "15"}, 1));
      break;
    case 8: {
      s.title = "busy but safe near the threshold";
      s.expect_kill = false;
      s.duration_s = 30;
      // hold until available is 4 % of total above the threshold, then churn 1.5 %
      const double target_kib = (thr_mib + 0.04 * total_mib) * 1024.0;
      s.procs.push_back(
          mk("steady", "fill", Role::Innocent, {"--until-avail-kib", fmt("%.0f", target_kib)}, 0));
      s.procs.push_back(mk("worker", "churn", Role::Innocent,
                           {"--chunk", mib(0.015 * total_mib), "--seconds", "30"}, 1));
      break;
    }
    case 9: {
      s.title = "cgroup v2 domain with memory.max";
      s.procs.push_back(mk("outsider", "fill", Role::Innocent, {"--max", mib(0.05 * A)}, 0));
      Proc idle = mk("cg-idle", "fill", Role::Innocent, {"--max", mib(0.10 * cg_max_mib)}, 0);
      idle.in_cgroup = true;
      s.procs.push_back(idle);
      Proc hog = mk("cg-hog", "fill", Role::Victim, {"--rate", "40"}, 1);
      hog.in_cgroup = true;
      s.procs.push_back(hog);
      break;
    }
    case 10: {
      // 20 children started at once by one parent, each small (5 % A, a fifth of
      // `steady`), together far more than there is: the children are the culprits.
      // The parent is `either`: it was born in the episode, but holds next to nothing
      // and its parent (the driver, oom_score_adj -1000) is no candidate, so ORK takes
      // the children as a burst without it; a killer that also took it did no wrong.
      s.title = "burst of small children beside a larger steady process";
      add(s, mk("steady", "fill", Role::Innocent, {"--max", mib(0.25 * A)}, 0));
      int p = add(s, tree_parent("launcher", Role::Either, 1));
      for (int i = 0; i < 20; ++i)
        kid(s, p, "fill", "job", "fill", Role::Victim, {"--max", mib(0.05 * A), "--rate", "4"});
      break;
    }
    case 11: {
      // ci -> make -> 4 x cc1, three programs; only the grandchildren allocate (each
      // 20 % A, smaller than `server`). ci and make are `either`: the subtree holding
      // the growth may go with its root or without it.
      s.title = "deep tree: parent, child, grandchildren";
      add(s, mk("server", "fill", Role::Innocent, {"--max", mib(0.30 * A)}, 0));
      int ci = add(s, tree_parent("ci", Role::Either, 1));
      int make = kid(s, ci, "spawn", "make", "tree", Role::Either, {"--spec", kSpecPath});
      for (int i = 0; i < 4; ++i)
        kid(s, make, "fill", "cc1", "fill", Role::Victim, {"--max", mib(0.20 * A), "--rate", "8"});
      break;
    }
    case 12: {
      // A worker pool (a parent and 4 forked workers of its program, 12 % A each) is
      // started first and left to settle for 8 s; then another parent starts 10
      // children at once (8 % A each at 5 MiB/s: each smaller than a worker) that run
      // memory out. The burst dies; the pool, larger but settled, lives.
      s.title = "settled worker pool beside a burst from another parent";
      s.settle_s = 8;
      int fpm = add(s, tree_parent("fpm", Role::Innocent, 0));
      for (int i = 0; i < 4; ++i)
        kid(s, fpm, "", "fpm", "fill", Role::Innocent, {"--max", mib(0.12 * A), "--rate", "0"});
      int p = add(s, tree_parent("launcher", Role::Either, 1));
      for (int i = 0; i < 10; ++i)
        kid(s, p, "fill", "job", "fill", Role::Victim, {"--max", mib(0.08 * A), "--rate", "5"});
      break;
    }
    case 13: {
      // A parent starts 4 children at once: `hog` grows without limit at 30 MiB/s, its
      // 3 siblings to 3 % A at 2 MiB/s each. The hog alone frees enough: it dies alone,
      // its siblings and the parent live.
      s.title = "tree where one child suffices";
      add(s, mk("db", "fill", Role::Innocent, {"--max", mib(0.20 * A)}, 0));
      int p = add(s, tree_parent("runner", Role::Innocent, 1));
      kid(s, p, "fill", "task", "fill", Role::Innocent, {"--max", mib(0.03 * A), "--rate", "2"});
      kid(s, p, "fill", "hog", "fill", Role::Victim, {"--rate", "30"});
      kid(s, p, "fill", "task", "fill", Role::Innocent, {"--max", mib(0.03 * A), "--rate", "2"});
      kid(s, p, "fill", "task", "fill", Role::Innocent, {"--max", mib(0.03 * A), "--rate", "2"});
      break;
    }
    default:
      fprintf(stderr, "labkit: unknown scenario %d\n", id);
      exit(2);
  }
  return s;
}

std::string escape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char b[8];
      snprintf(b, sizeof(b), "\\x%02x", c);
      o += b;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o;
}

std::string status_text(const Proc& p) {
  if (!p.dead) return "alive";
  if (!p.status_known) return "died";
  if (WIFSIGNALED(p.status)) return "signal:" + std::to_string(WTERMSIG(p.status));
  if (WIFEXITED(p.status)) return "exit:" + std::to_string(WEXITSTATUS(p.status));
  return "died";
}

int do_driver(const Args& a) {
  const int id = static_cast<int>(a.num("--scenario", 0));
  const double threshold_pct = a.num("--threshold-pct", 5.0);
  const pid_t defender = static_cast<pid_t>(a.num("--defender-pid", 0));
  const char* cgroup = a.get("--cgroup");
  const char* self_exe = a.get("--exe", "/bin/labkit");

  mlockall(MCL_CURRENT | MCL_FUTURE);
  write_file("/proc/self/oom_score_adj", "-1000");
  // The instrument must be punctual under pressure: real-time priority for the driver's
  // 5 ms samples (each is a read of /proc/meminfo), never inherited by its children.
  {
    sched_param sp{};
    sp.sched_priority = 10;
    if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) != 0)
      fprintf(stderr, "labkit: SCHED_FIFO: %s\n", strerror(errno));
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  setvbuf(stdout, nullptr, _IOLBF, 0);

  const int64_t t0 = now_ns();
  auto ms = [t0](int64_t t) { return (t - t0) / 1e6; };

  const long long total_kib = meminfo_kib("MemTotal");
  const long long avail0_kib = meminfo_kib("MemAvailable");
  std::string cg_current, cg_procs;
  long long cg_max = -1;
  if (cgroup) {
    cg_current = std::string(cgroup) + "/memory.current";
    cg_procs = std::string(cgroup) + "/cgroup.procs";
    cg_max = read_ll_file((std::string(cgroup) + "/memory.max").c_str());
    if (cg_max <= 0) {
      fprintf(stderr, "labkit: %s/memory.max is not set\n", cgroup);
      return 2;
    }
  }
  Scenario sc = build(id, avail0_kib / 1024.0, total_kib / 1024.0, threshold_pct,
                      cg_max > 0 ? cg_max / double(kMiB) : 0);
  // Threshold: for the host, MemAvailable below pct of MemTotal; for the cgroup, the
  // headroom memory.max - memory.current below pct of memory.max.
  const long long threshold_kib =
      cgroup ? static_cast<long long>(cg_max / 1024 * threshold_pct / 100.0)
             : static_cast<long long>(total_kib * threshold_pct / 100.0);
  const long long oom0 = vmstat_value("oom_kill");
  // markers in the kernel log, on the clock of the kernel's and ORK's kill lines
  const int kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
  auto mark = [kmsg](const char* text) {
    if (kmsg >= 0 && write(kmsg, text, strlen(text)) < 0) {
    }
  };
  mark("<5>lab: begin\n");

  printf("LAB: begin scenario=%d title=\"%s\" threshold_pct=%.2f threshold_kib=%lld "
         "mem_total_kib=%lld avail_start_kib=%lld domain=%s cg_max_kib=%lld\n",
         id, sc.title, threshold_pct, threshold_kib, total_kib, avail0_kib,
         cgroup ? "cgroup" : "host", cg_max > 0 ? cg_max / 1024 : 0);

  int memfd = static_cast<int>(syscall(SYS_memfd_create, "lab-slots", 0));
  if (memfd < 0 || ftruncate(memfd, 4096) != 0) die("memfd");
  Slot* slots = map_slots(memfd);

  // assign slots; a tree parent's children take the slots right after it
  for (size_t i = 0; i < sc.procs.size(); ++i) sc.procs[i].slot = static_cast<int>(i);
  if (sc.procs.size() > kSlots) {
    fprintf(stderr, "labkit: too many processes\n");
    return 2;
  }
  // the tree parents' children, for the trees to read (they run as the lab's user)
  {
    std::string spec;
    for (auto& p : sc.procs) {
      if (p.parent < 0) continue;
      spec += std::to_string(p.slot) + " " + std::to_string(sc.procs[static_cast<size_t>(p.parent)].slot) +
              " " + (p.exe.empty() ? "-" : p.exe) + " " + p.name + " " + p.program;
      for (auto& w : p.args) spec += " " + w;
      spec += "\n";
    }
    int fd = open(kSpecPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, spec.data(), spec.size()) != static_cast<ssize_t>(spec.size()) ||
        fchmod(fd, 0644) != 0)
      die(kSpecPath);
    close(fd);
  }

  auto start = [&](Proc& p) {
    std::string path = std::string("/bin/") + p.program;
    if (p.name == kHostileName) {
      // exec through a file with the hostile name, so the kernel's comm is it too
      path = std::string("/bin/") + kHostileName;
      unlink(path.c_str());
      if (link(self_exe, path.c_str()) != 0 && symlink(self_exe, path.c_str()) != 0)
        die("link hostile");
    }
    std::vector<std::string> argv{p.name, p.program, "--slot", std::to_string(p.slot)};
    argv.insert(argv.end(), p.args.begin(), p.args.end());
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      if (p.in_cgroup && !write_file(cg_procs.c_str(), "0")) die("join cgroup");
      char adj[16];
      snprintf(adj, sizeof(adj), "%d", p.oom_adj);
      write_file("/proc/self/oom_score_adj", adj);
      if (dup2(memfd, kSlotFd) < 0) die("dup2");
      if (setgid(kLabUid) != 0 || setuid(kLabUid) != 0) die("setuid");
      std::vector<char*> cargv;
      for (auto& s : argv) cargv.push_back(s.data());
      cargv.push_back(nullptr);
      execv(path.c_str(), cargv.data());
      die("exec");
    }
    p.pid = pid;
    slots[p.slot].pid.store(pid);
    p.pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  };

  long long min_avail_kib = -1, min_free_kib = -1, max_cache_kib = 0;
  int64_t t_last_host_sample = 0, t_prev_sample = 0, max_gap_ns = 0;
  long long samples = 0;
  int64_t t_cross = 0;
  uint64_t culprit_at_cross = 0;
  int64_t t_first_death = 0;
  uint64_t culprit_at_first_death = 0;
  // the last victim's death: a group killed one member after the other dies over a while
  int64_t t_last_victim_death = 0;
  uint64_t culprit_at_last_victim_death = 0;
  std::string first_dead;
  int64_t t_end = 0;
  bool timed_out = false;

  auto culprit_bytes = [&]() {
    uint64_t sum = 0;
    for (auto& p : sc.procs)
      if (p.role == Role::Victim) sum += slots[p.slot].touched.load();
    return sum;
  };

  auto sample = [&]() {
    const int64_t t_s = now_ns();
    if (t_prev_sample) max_gap_ns = std::max(max_gap_ns, t_s - t_prev_sample);
    t_prev_sample = t_s;
    ++samples;
    long long avail;
    if (cgroup) {
      long long cur = read_ll_file(cg_current.c_str());
      avail = cur < 0 ? -1 : (cg_max - cur) / 1024;
    } else {
      avail = meminfo_kib("MemAvailable");
    }
    if (avail < 0) return;
    // MemFree and the page cache, to show what scenario 7 does (every 50 ms)
    if (now_ns() - t_last_host_sample > 50'000'000) {
      t_last_host_sample = now_ns();
      long long fr = meminfo_kib("MemFree");
      long long cache = meminfo_kib("Cached") + meminfo_kib("Buffers");
      if (fr >= 0 && (min_free_kib < 0 || fr < min_free_kib)) min_free_kib = fr;
      max_cache_kib = std::max(max_cache_kib, cache);
    }
    if (min_avail_kib < 0 || avail < min_avail_kib) min_avail_kib = avail;
    if (!t_cross && avail < threshold_kib) {
      t_cross = now_ns();
      culprit_at_cross = culprit_bytes();
      mark("<5>lab: cross\n");
      printf("LAB: cross t_ms=%.1f avail_kib=%lld culprit_mib=%.1f\n", ms(t_cross), avail,
             culprit_at_cross / double(kMiB));
    }
  };

  auto reap_and_poll = [&](int timeout_ms) {
    std::vector<pollfd> pfds;
    std::vector<Proc*> who;
    for (auto& p : sc.procs) {
      if (p.tree_child && p.pidfd < 0 && p.pid < 0) {
        int32_t pid = slots[p.slot].pid.load();
        if (pid > 0) {
          p.pid = pid;
          p.pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
        }
      }
      if (p.pidfd >= 0 && !p.dead) {
        pfds.push_back({p.pidfd, POLLIN, 0});
        who.push_back(&p);
      }
    }
    int n = poll(pfds.data(), pfds.size(), timeout_ms);
    if (n <= 0) return;
    const int64_t t = now_ns();
    for (size_t i = 0; i < pfds.size(); ++i) {
      if (!(pfds[i].revents & (POLLIN | POLLHUP))) continue;
      Proc& p = *who[i];
      p.dead = true;
      p.t_death_ns = t;
      p.touched_at_death = slots[p.slot].touched.load();
      p.before_end = (t_end == 0);
      if (!t_first_death && p.before_end) {
        t_first_death = t;
        culprit_at_first_death = culprit_bytes();
        first_dead = p.name;
      }
      if (p.before_end && p.role == Role::Victim) {
        t_last_victim_death = t;
        culprit_at_last_victim_death = culprit_bytes();
      }
      int st = 0;
      if (waitpid(p.pid, &st, WNOHANG) == p.pid) {
        p.status = st;
        p.status_known = true;
      }
      printf("LAB: death t_ms=%.1f pid=%d name=\"%s\" status=%s touched_mib=%.1f\n", ms(t),
             p.pid, escape(p.name).c_str(), status_text(p).c_str(),
             p.touched_at_death / double(kMiB));
    }
  };

  auto run_for = [&](int64_t until_ns, auto&& stop) {
    while (now_ns() < until_ns) {
      sample();
      reap_and_poll(5);
      if (stop()) return true;
    }
    return false;
  };

  // start the groups in order; a group starts when the previous one is holding
  const int64_t deadline = t0 + static_cast<int64_t>(sc.timeout_s * 1e9);
  int max_group = 0;
  for (auto& p : sc.procs) max_group = std::max(max_group, p.group);
  for (int g = 0; g <= max_group; ++g) {
    for (auto& p : sc.procs)
      if (p.group == g && !p.tree_child) start(p);
    if (g == max_group) break;
    // ready when every process of the group holds, the children of its trees included
    // (those of a tree started with --spec; scenario 3's tree is in the last group)
    bool ready = run_for(deadline, [&] {
      for (auto& p : sc.procs)
        if (p.group == g && (!p.tree_child || p.parent >= 0) && !p.dead &&
            slots[p.slot].phase.load() != kHolding)
          return false;
      return true;
    });
    (void)ready;
    printf("LAB: group=%d ready t_ms=%.1f avail_kib=%lld\n", g, ms(now_ns()),
           meminfo_kib("MemAvailable"));
    if (sc.settle_s > 0) {
      run_for(std::min(deadline, now_ns() + static_cast<int64_t>(sc.settle_s * 1e9)), [] { return false; });
      printf("LAB: group=%d settled t_ms=%.1f avail_kib=%lld\n", g, ms(now_ns()),
             meminfo_kib("MemAvailable"));
    }
  }
  const int64_t t_work = now_ns();
  printf("LAB: work t_ms=%.1f\n", ms(t_work));

  if (sc.expect_kill) {
    // until nothing grows any more (every victim dead or holding) and nothing died for
    // 2 s, or the timeout
    int64_t since = 0;
    run_for(deadline, [&] {
      int64_t last = t_work;
      for (auto& p : sc.procs) {
        if (p.dead && p.before_end) last = std::max(last, p.t_death_ns);
        if (p.role == Role::Victim && !p.dead && p.pid > 0 &&
            slots[p.slot].phase.load() == kFilling)
          return false;
      }
      since = last;
      return now_ns() >= since + 2'000'000'000LL;
    });
  } else {
    // until the work is finished (+1 s), or the timeout
    run_for(std::min(deadline, t_work + static_cast<int64_t>((sc.duration_s + 1) * 1e9)), [&] {
      for (auto& p : sc.procs)
        if (p.group == max_group && !p.dead && slots[p.slot].phase.load() != kFinished)
          return false;
      return true;
    });
  }
  if (now_ns() >= deadline) timed_out = true;
  // a last sample of the kill counter before the clean-up kills anything
  const long long oom1 = vmstat_value("oom_kill");
  t_end = now_ns();

  // clean up: the driver kills what is left (after the scenario: not counted)
  for (auto& p : sc.procs)
    if (!p.dead && p.pid > 0) kill(p.pid, SIGKILL);
  for (int i = 0; i < 200; ++i) {
    bool all = true;
    for (auto& p : sc.procs)
      if (p.pid > 0 && !p.dead) all = false;
    if (all) break;
    reap_and_poll(10);
  }
  // orphans of a killed tree parent were reparented to the driver (a subreaper)
  for (int st = 0, pid; (pid = waitpid(-1, &st, WNOHANG)) > 0;)
    for (auto& p : sc.procs)
      if (p.pid == pid && !p.status_known) {
        p.status = st;
        p.status_known = true;
      }
  for (auto& p : sc.procs)
    if (p.tree_child && p.dead && !p.status_known && slots[p.slot].reaped.load()) {
      p.status = slots[p.slot].status.load();
      p.status_known = true;
    }

  // report
  int victims_died = 0, innocents_died = 0, victims = 0;
  for (auto& p : sc.procs) {
    if (p.role == Role::Victim) ++victims;
    bool died = p.dead && p.before_end;
    if (died && p.role == Role::Victim) ++victims_died;
    if (died && p.role == Role::Innocent) ++innocents_died;
    const int64_t t_term = slots[p.slot].t_term_ns.load();
    printf("LAB: proc pid=%d name=\"%s\" role=%s died=%d status=%s t_death_ms=%.1f "
           "t_term_ms=%.1f touched_mib=%.1f oom_score_adj=%d\n",
           p.pid, escape(p.name).c_str(), role_name(p.role),
           died ? 1 : 0, died ? status_text(p).c_str() : "alive",
           died ? ms(p.t_death_ns) : -1.0, (died && t_term) ? ms(t_term) : -1.0,
           (died ? p.touched_at_death : slots[p.slot].touched.load()) / double(kMiB), p.oom_adj);
  }
  const bool defender_alive = defender <= 0 || kill(defender, 0) == 0;
  double overshoot = -1, latency = -1;
  if (t_cross && t_first_death && t_first_death >= t_cross) {
    overshoot = (culprit_at_first_death - culprit_at_cross) / double(kMiB);
    latency = (t_first_death - t_cross) / 1e6;
  } else if (t_first_death && (!t_cross || t_first_death < t_cross)) {
    overshoot = 0;  // killed before the threshold was crossed
  }
  printf("LAB: result scenario=%d expect_kill=%d victims=%d victims_died=%d innocents_died=%d "
         "oom_kills=%lld crossed=%d t_cross_ms=%.1f t_first_death_ms=%.1f first_dead=\"%s\" "
         "latency_ms=%.1f overshoot_mib=%.1f min_avail_mib=%.1f culprit_at_death_mib=%.1f "
         "min_free_mib=%.1f max_cache_mib=%.1f samples=%lld max_sample_gap_ms=%.1f defender_alive=%d timed_out=%d duration_ms=%.0f "
         "t_last_victim_death_ms=%.1f culprit_at_last_death_mib=%.1f\n",
         id, sc.expect_kill ? 1 : 0, victims, victims_died, innocents_died,
         (oom0 >= 0 && oom1 >= 0) ? oom1 - oom0 : -1, t_cross ? 1 : 0,
         t_cross ? ms(t_cross) : -1.0, t_first_death ? ms(t_first_death) : -1.0,
         escape(first_dead).c_str(), latency, overshoot, min_avail_kib / 1024.0,
         culprit_at_first_death / double(kMiB), min_free_kib / 1024.0, max_cache_kib / 1024.0,
         samples, max_gap_ns / 1e6,
         defender_alive ? 1 : 0, timed_out ? 1 : 0,
         ms(t_end), t_last_victim_death ? ms(t_last_victim_death) : -1.0,
         culprit_at_last_victim_death / double(kMiB));
  return 0;
}

[[noreturn]] void run_role(const std::string& cmd, const Args& a, Slot* slots, int slot) {
  if (cmd == "fill")
    run_fill(&slots[slot], a.num("--rate", 0), a.num("--max", 0),
             static_cast<long long>(a.num("--until-avail-kib", 0)));
  if (cmd == "tree" && a.get("--spec"))
    run_spec_tree(slots, slot, a.get("--spec"), a.num("--self", 0));
  if (cmd == "tree")
    run_tree(slots, slot, static_cast<int>(a.num("--children", 2)), a.num("--each", 16),
             a.num("--rate", 8));
  if (cmd == "cache") run_cache(&slots[slot], a.get("--dev", "/dev/vda"), a.num("--seconds", 10));
  if (cmd == "churn") run_churn(&slots[slot], a.num("--chunk", 4), a.num("--seconds", 30));
  fprintf(stderr, "labkit: unknown command %s\n", cmd.c_str());
  exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: labkit driver ... | <name> fill|tree|cache|churn --slot S ...\n");
    return 2;
  }
  Args a;
  for (int i = 1; i < argc; ++i) a.v.emplace_back(argv[i]);
  const std::string cmd = argv[1];
  if (cmd == "driver") return do_driver(a);

  // a role: argv[0] is its name
  prctl(PR_SET_NAME, argv[0], 0, 0, 0);
  Slot* slots = map_slots(kSlotFd);
  const int slot = static_cast<int>(a.num("--slot", -1));
  if (slot < 0 || slot >= kSlots) {
    fprintf(stderr, "labkit: --slot is required\n");
    return 2;
  }
  slots[slot].pid.store(getpid());
  run_role(cmd, a, slots, slot);
}
