#include "ork/sys/Spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ork/sys/Pidfd.h"

extern char** environ;

namespace ork::sys {

Result<SpawnedHelper> spawnHelper(const std::vector<std::string>& argv) {
  if (argv.empty()) return Error::make(EINVAL, "spawn: no program");
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return Error::sys(errno, "socketpair");
  UniqueFd mine(sv[0]), theirs(sv[1]);
  // Non-blocking on ORK's side only (O_NONBLOCK is per open file, so the helper's end
  // stays blocking, as it wants).
  if (::fcntl(mine.get(), F_SETFL, O_NONBLOCK) != 0) return Error::sys(errno, "fcntl O_NONBLOCK");

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  // dup2 clears close-on-exec on the copy: fd 0 survives the exec, `theirs` does not.
  posix_spawn_file_actions_adddup2(&fa, theirs.get(), 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  // Its own session: a Ctrl-C on ORK's terminal does not reach it behind ORK's back, and
  // it leads a process group that holds what it starts.
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Error::make(rc, "spawn %s: %s", argv[0].c_str(), std::strerror(rc));

  SpawnedHelper h;
  h.pid = pid;
  h.sock = std::move(mine);
  auto pidfd = pidfdOpen(pid);
  if (pidfd) h.pidfd = std::move(*pidfd);
  return h;
}

void killHelperGroup(int pid, int pidfd) {
  if (pid <= 0) return;
  if (pidfd < 0 || !pidfdSendSignal(pidfd, SIGKILL)) (void)::kill(pid, SIGKILL);
  (void)::kill(-pid, SIGKILL);
}

std::string ChildEnd::describe() const {
  return signalled ? "killed by signal " + std::to_string(code)
                   : "exited with status " + std::to_string(code);
}

std::optional<ChildEnd> peekChild(int pid) {
  siginfo_t info{};
  for (;;) {
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0) break;
    if (errno != EINTR) return std::nullopt;
  }
  if (info.si_pid != pid) return std::nullopt;  // still running
  ChildEnd end;
  end.signalled = info.si_code != CLD_EXITED;
  end.code = info.si_status;
  return end;
}

bool reapChild(int pid) {
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r == 0) return false;
    if (errno == EINTR) continue;
    return errno == ECHILD;
  }
}

void reapChildBlocking(int pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

Result<void> sendPacket(int sock, std::string_view packet) {
  for (;;) {
    if (::send(sock, packet.data(), packet.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
      return success();
    if (errno != EINTR) return Error::sys(errno, "send");
  }
}

Result<std::size_t> recvPacket(int sock, char* buf, std::size_t cap) {
  for (;;) {
    const ssize_t n = ::recv(sock, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return Error::sys(errno, "recv");
  }
}

bool isExecutableFile(const std::string& path) {
  struct stat st {};
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

std::string selfExeDir() {
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  std::string path(self, static_cast<std::size_t>(n));
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

}  // namespace ork::sys
