// Helper processes that ORK speaks to over a SOCK_SEQPACKET socketpair (the ork-virt
// libvirt helpers, act/VmLane.h): starting one, its socket, killing it with everything it
// started, and reaping it without blocking.
//
// A helper leads a session of its own, so it also leads its own process group (pgid ==
// pid), and what it starts stays in that group unless it leaves on purpose: the ssh
// libvirt runs for a qemu+ssh:// URI dies with the helper (killHelperGroup). Only the
// caller reaps its helpers: until it does, a helper's PID, which is also its group's
// id, cannot be reused, so signalling either never reaches a stranger.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ork/core/Result.h"
#include "ork/sys/Fd.h"

namespace ork::sys {

struct SpawnedHelper {
  int pid = 0;     // also its session and process group id
  UniqueFd sock;   // ORK's end of the socketpair: non-blocking, close-on-exec
  UniqueFd pidfd;  // invalid on kernels < 5.3 (kill(2) on the unreaped PID is then used)
};

// Starts argv[0] (argv as given) with posix_spawn, never fork: ORK is mlockall'ed, and a
// fork would copy and lock its whole address space while memory is short. The helper
// gets: fd 0 its end of a fresh SOCK_SEQPACKET socketpair (blocking), stdout /dev/null,
// stderr ORK's, every other fd closed (ORK's are close-on-exec), its own session, an
// empty signal mask and every signal at its default disposition (ORK blocks SIGTERM,
// SIGINT, SIGHUP for its signalfd and ignores SIGPIPE; both would be inherited
// through exec, and neither is the helper's business: ork-virt ignores SIGPIPE itself).
// Fails with the reason when argv[0] cannot be started.
Result<SpawnedHelper> spawnHelper(const std::vector<std::string>& argv);

// SIGKILL to the helper through its pidfd (or kill(2) on its PID when pidfd < 0), then to
// its process group (kill(-pid)): what the helper started dies with it. Call it before
// reaping the helper, also when the helper already ended on its own (its zombie keeps
// the group's id from being reused). Errors are ignored: the group may be empty.
void killHelperGroup(int pid, int pidfd);

// How a child ended: exit code, or the signal that killed it.
struct ChildEnd {
  bool signalled = false;
  int code = 0;                  // exit status, or the signal number when signalled
  std::string describe() const;  // "exited with status 1", "killed by signal 9"
};
// Has the child ended? Its end, without reaping it (waitid WNOWAIT); nullopt while it
// runs (or if it is not our child).
std::optional<ChildEnd> peekChild(int pid);
// Reaps the child if it has ended, never blocks: true when it was reaped now, or is no
// child of ours any more (ECHILD); false while it runs.
bool reapChild(int pid);
// Waits until the child is reaped (shutting down: a SIGKILLed helper takes ms).
void reapChildBlocking(int pid);

// One packet on a helper's socket, never blocking, never raising SIGPIPE. Errors:
// EAGAIN (the helper is not reading), EPIPE / ECONNRESET (it is gone).
Result<void> sendPacket(int sock, std::string_view packet);
// Receives one packet into buf. Returns its full length (more than cap: it was cut,
// MSG_TRUNC), 0 when the helper closed its end; error EAGAIN when none is waiting.
Result<std::size_t> recvPacket(int sock, char* buf, std::size_t cap);

// A regular file that this process may execute.
bool isExecutableFile(const std::string& path);
// The directory of this process's executable (/proc/self/exe), "" if unknown.
std::string selfExeDir();

}  // namespace ork::sys
