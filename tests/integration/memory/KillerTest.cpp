// act::Killer against real processes: pidfd kill, identity check, vanished victims.
#include "ork/act/Killer.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ork/sense/ProcessTable.h"
#include "ork/sys/Epoll.h"
#include "support/Harness.h"

namespace ork::test {
namespace {

using namespace std::chrono_literals;

struct KillerFixture : ::testing::Test {
  void SetUp() override {
    sense::ProcessTable::Options o;
    auto t = sense::ProcessTable::open(o);
    ASSERT_TRUE(t.ok());
    table = std::make_unique<sense::ProcessTable>(std::move(*t));
    killer = std::make_unique<act::Killer>(
        [](void* ctx, int pid) { return static_cast<sense::ProcessTable*>(ctx)->startTimeOf(pid); },
        table.get());
  }
  ProcessInfo infoOf(pid_t pid) {
    ProcessInfo p;
    p.pid = pid;
    auto st = table->startTimeOf(pid);
    EXPECT_TRUE(st.ok());
    p.startTimeTicks = st.valueOr(0);
    return p;
  }
  std::unique_ptr<sense::ProcessTable> table;
  std::unique_ptr<act::Killer> killer;
  sys::MonotonicClock clock;
};

pid_t sleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (;;) ::pause();
  }
  return pid;
}

TEST_F(KillerFixture, KillsTheChosenProcessAndWaitsForItOnThePidfd) {
  pid_t pid = sleeper();
  ProcessInfo p = infoOf(pid);
  const ProcessInfo* members[] = {&p};
  auto out = killer->kill(members, /*dryRun=*/false, clock);
  EXPECT_EQ(out.outcome, Outcome::Ok);
  EXPECT_EQ(out.signalled, 1);
  EXPECT_EQ(killer->waitingCount(), 1);
  int fd = -1, slot = -1;
  killer->forEachWaiting([&](int f, int s) { fd = f, slot = s; });
  ASSERT_GE(fd, 0);
  auto ep = sys::Epoll::create();
  ASSERT_TRUE(ep.ok());
  ASSERT_TRUE(ep->add(fd, EPOLLIN, 7).ok());
  epoll_event ev{};
  auto n = ep->wait(&ev, 1, std::chrono::seconds(5));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1) << "the pidfd did not report the death";
  EXPECT_TRUE(killer->onExited(slot));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST_F(KillerFixture, DryRunSendsNothing) {
  pid_t pid = sleeper();
  ProcessInfo p = infoOf(pid);
  const ProcessInfo* members[] = {&p};
  auto out = killer->kill(members, /*dryRun=*/true, clock);
  EXPECT_EQ(out.outcome, Outcome::DryRun);
  EXPECT_EQ(killer->waitingCount(), 0);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), 0) << "dry-run killed the process";
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

TEST_F(KillerFixture, VanishedVictimIsReportedNotAnError) {
  pid_t pid = sleeper();
  ProcessInfo p = infoOf(pid);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);  // gone and reaped: its PID is free
  const ProcessInfo* members[] = {&p};
  auto out = killer->kill(members, false, clock);
  EXPECT_EQ(out.outcome, Outcome::Vanished);
  EXPECT_EQ(killer->waitingCount(), 0);
}

TEST_F(KillerFixture, ReusedPidIsNotSignalled) {
  pid_t pid = sleeper();
  ProcessInfo p = infoOf(pid);
  p.startTimeTicks += 1;  // as if the PID now belonged to a younger process
  const ProcessInfo* members[] = {&p};
  auto out = killer->kill(members, false, clock);
  EXPECT_EQ(out.outcome, Outcome::Changed);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), 0) << "a process with another identity was killed";
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

TEST_F(KillerFixture, TreeMembersAreAllKilledEvenIfOneVanished) {
  pid_t a = sleeper(), b = sleeper(), c = sleeper();
  ProcessInfo pa = infoOf(a), pb = infoOf(b), pc = infoOf(c);
  ::kill(b, SIGKILL);
  ::waitpid(b, nullptr, 0);
  const ProcessInfo* members[] = {&pa, &pb, &pc};
  auto out = killer->kill(members, false, clock);
  EXPECT_EQ(out.outcome, Outcome::Ok);
  EXPECT_EQ(out.signalled, 2);
  int status = 0;
  ASSERT_EQ(::waitpid(a, &status, 0), a);
  EXPECT_TRUE(WIFSIGNALED(status));
  ASSERT_EQ(::waitpid(c, &status, 0), c);
  EXPECT_TRUE(WIFSIGNALED(status));
}

}  // namespace
}  // namespace ork::test
