// The memory ladder's kill path allocates nothing: from the sample that finds memory
// below hard to the kill line in the journal, every buffer was reserved beforehand (at
// the table's pass, at open). An allocation there could block in the kernel's reclaim
// on the very memory that ran out, or fault in a page mlockall did not lock.
//
// Counted with the C++ allocator replaced for this test binary alone (its own area, so
// that no other test runs with it): every operator new made on the test's thread while
// the ladder handles its timer. The kill is a dry run (the fixture's PIDs are not this
// host's processes): the decision, the re-checks before the signal (the victim's stat
// and oom_score_adj re-read), the journal line, all but the syscalls that send the
// signal and watch the death, which allocate nothing either (sys/Pidfd.h).
#include <execinfo.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "support/Harness.h"
#include "unit/ladder/Rig.h"

namespace {

thread_local bool tCounting = false;
std::atomic<long> gAllocations{0};
// The first allocation counted: where it was made, for the failure message.
void* gFirstFrames[32];
std::atomic<int> gFirstDepth{0};

void* counted(std::size_t n) {
  if (tCounting) {
    tCounting = false;  // backtrace() may allocate itself
    if (gAllocations.fetch_add(1) == 0) gFirstDepth = ::backtrace(gFirstFrames, 32);
    tCounting = true;
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t n) { return counted(n); }
void* operator new[](std::size_t n) { return counted(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace ork::ladder::testing {
namespace {

const Bytes kTotal = Bytes::mib(16384);  // hard at 819 MiB

std::string firstAllocation() {
  int depth = gFirstDepth.load();
  if (depth == 0) return "";
  std::string out = "first allocation made at:\n";
  char** names = ::backtrace_symbols(gFirstFrames, depth);
  for (int i = 0; i < depth; ++i) out += std::string("  ") + (names != nullptr ? names[i] : "?") + "\n";
  std::free(names);
  return out;
}

// Turns the memory ladder alone, counting what its timer allocates, until it wrote its
// kill line (or `limit` passed).
long allocationsUntilKill(Rig& rig, Nanos limit) {
  gAllocations = 0;
  gFirstDepth = 0;
  for (Nanos t{0}; t < limit && rig.lines("would_kill").empty(); t += Millis{10}) {
    rig.clock.advance(Millis{10});
    TimePoint now = rig.clock.now();
    if (now < rig.memoryLadder->nextDue()) continue;
    tCounting = true;
    rig.memoryLadder->onTimer(now);
    tCounting = false;
  }
  return gAllocations.load();
}

// Many processes (a pool of workers with one command, loners, a process tree), so that
// the ranking and the tree walk have work; the largest is a tree of three.
void populate(Rig& rig) {
  for (int i = 0; i < 300; ++i)
    rig.process({.pid = 1000 + i, .comm = "worker", .exe = "/usr/bin/worker", .cmdline = argv({"worker", "--pool"}),
                 .rssPages = 2000 + i});
  for (int i = 0; i < 100; ++i)
    rig.process({.pid = 2000 + i, .comm = "loner" + std::to_string(i), .exe = "/usr/bin/loner",
                 .cmdline = argv({"loner", std::to_string(i)}), .rssPages = 1000 + 7 * i});
  rig.process({.pid = 500, .comm = "leaker", .exe = "/usr/bin/leaker", .cmdline = argv({"leaker"}), .rssPages = 400000});
  rig.process({.pid = 501, .comm = "leaker", .exe = "/usr/bin/leaker", .cmdline = argv({"leaker", "child"}),
               .rssPages = 200000, .ppid = 500, .session = 500});
  rig.process({.pid = 502, .comm = "leaker", .exe = "/usr/bin/leaker", .cmdline = argv({"leaker", "child"}),
               .rssPages = 200000, .ppid = 500, .session = 500});
}

TEST(KillPathAllocations, MemoryBelowHardToTheKillLineAllocatesNothing) {
  Rig rig(/*dryRun=*/true);
  populate(rig);
  rig.start(/*memory=*/true, /*cpu=*/false);
  rig.turn();
  // Calm for a while: the table's passes reserve what the ladder needs.
  rig.runFor(Seconds{3}, Millis{100});
  ASSERT_TRUE(rig.lines("would_kill").empty()) << rig.log();

  rig.setMemory(kTotal, Bytes::mib(500));
  long n = allocationsUntilKill(rig, Seconds{2});
  auto kills = rig.lines("would_kill");
  ASSERT_EQ(kills.size(), 1u) << "no kill decision\n" << rig.log();
  EXPECT_NE(kills[0].find("pid=500 "), std::string::npos) << kills[0];
  EXPECT_EQ(n, 0) << "allocations on the kill path\n" << firstAllocation();
}

// The counter itself counts: an allocation made while counting is seen (else the test
// above could not fail).
TEST(KillPathAllocations, TheCounterSeesAnAllocation) {
  gAllocations = 0;
  tCounting = true;
  std::string* volatile p = new std::string(100, 'x');
  tCounting = false;
  delete p;
  EXPECT_GE(gAllocations.load(), 1);
}

}  // namespace
}  // namespace ork::ladder::testing
