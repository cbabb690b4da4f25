// ork_bench_fakevm: a stand-in for a QEMU guest, for bench/scripts/loop_gap.sh.
//
// Built as bench/fakevm/qemu-system-x86_64 (the name is what makes ORK take it for a
// VM), run as `qemu-system-x86_64 -name guest=NAME -uuid UUID -m 128 ...`: it ignores
// its arguments (ORK reads them from /proc/PID/cmdline), prints "ready" and burns one
// CPU until killed. No threads, no memory of note: a process alone in its own cgroup,
// which ORK's cgroup freezer accepts as dedicated to it. PR_SET_PDEATHSIG=SIGKILL: if
// the benchmark dies, so does this.
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

int main() {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 0;
  std::printf("ready\n");
  std::fflush(stdout);
  volatile unsigned long x = 0;
  for (;;) x = x + 1;
}
