#include "ork/sys/SelfProtect.h"

#include <malloc.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ork/sys/Files.h"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

namespace ork::sys {

SelfProtection protectSelf(const char* procRoot) {
  SelfProtection p;
  // Before anything is locked: one malloc arena (the worker threads allocate little, and
  // an arena of their own costs locked pages), and blocks of 8 KiB or more mmap'd (a
  // fixed threshold: glibc otherwise raises it after the first free of such a block).
  // Memory freed inside the heap stays resident: locked pages cannot be given back
  // (madvise(MADV_DONTNEED) refuses them), only the heap's top can shrink. glibc serves
  // a large block from the top of the heap when the top has room, whatever the mmap
  // threshold, and keeps 128 KiB of room there by default: no room kept (M_TOP_PAD 0),
  // so that the per-process arrays (the table, the kill path's scratch) are mmap'd and
  // go back to the kernel when freed, and a free top beyond 64 KiB is trimmed at once.
  // 8 KiB, not 64: the blocks of 8-64 KiB made now and then (a view of the network
  // interfaces each minute, a file's buffer) were carved from the heap's top, pinned it
  // under what was allocated after them, and left their pages resident when freed: with
  // 1,000 processes and every ladder, RssAnon crept from 496 to 528 KiB over the first
  // three minutes; mmap'd, it stays at 504 KiB. ORK allocates such blocks at start and a
  // few times a minute, never on the kill path: the mmap calls cost nothing measurable.
  ::mallopt(M_ARENA_MAX, 1);
  ::mallopt(M_MMAP_THRESHOLD, 8 * 1024);
  ::mallopt(M_TOP_PAD, 0);
  ::mallopt(M_TRIM_THRESHOLD, 64 * 1024);
  if (::mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0) {
    p.locked = p.lockedOnFault = true;
  } else if (errno == EINVAL && ::mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
    p.locked = true;
  } else {
    p.lockError = Error::sys(errno, "mlockall");
  }
  auto r = writeFile(std::string(procRoot) + "/self/oom_score_adj", "-1000");
  if (r) {
    p.oomExempt = true;
  } else {
    p.oomError = r.error();
  }
  p.niced = ::setpriority(PRIO_PROCESS, 0, -20) == 0;
  return p;
}

namespace {

// One read-only mapping: unlock, empty, cut into one-page VMAs, lock again on fault.
bool trimRange(std::uintptr_t from, std::uintptr_t to, long page, CodeTrim& t) {
  auto* a = reinterpret_cast<void*>(from);
  std::size_t len = to - from;
  if (::munlock(a, len) != 0) {
    t.error = Error::sys(errno, "munlock (code pages)");
    return false;
  }
  // Cut first, empty after: the code running here (this function, libc's madvise) is
  // then faulted back one page at a time, not with a window around it.
  bool ok = true;
  for (std::uintptr_t p = from + static_cast<std::uintptr_t>(page); ok && p < to; p += 2 * static_cast<std::uintptr_t>(page)) {
    if (::madvise(reinterpret_cast<void*>(p), static_cast<std::size_t>(page), MADV_RANDOM) != 0) {
      t.error = Error::sys(errno, "madvise MADV_RANDOM (code pages)");
      ok = false;
    }
  }
  if (ok && ::madvise(a, len, MADV_DONTNEED) != 0) {
    t.error = Error::sys(errno, "madvise MADV_DONTNEED (code pages)");
    ok = false;
  }
  // Locked again whatever happened above: the range must not stay unlocked.
  if (::syscall(SYS_mlock2, a, len, MLOCK_ONFAULT) != 0) {
    if (ok) t.error = Error::sys(errno, "mlock2 MLOCK_ONFAULT (code pages)");
    return false;
  }
  if (ok) {
    ++t.mappings;
    t.pages += static_cast<long>(len) / page;
  }
  return ok;
}

}  // namespace

CodeTrim trimCodePages() {
  CodeTrim t;
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    t.error = Error::sys(errno, "readlink /proc/self/exe");
    return t;
  }
  exe[n] = '\0';
  long page = ::sysconf(_SC_PAGESIZE);
  if (page <= 0) page = 4096;
  // The candidates first (smaps is not read while the mappings change under it).
  struct Range {
    std::uintptr_t from, to;
  };
  Range ranges[16];
  int count = 0;
  FILE* f = std::fopen("/proc/self/smaps", "re");
  if (f == nullptr) {
    t.error = Error::sys(errno, "/proc/self/smaps");
    return t;
  }
  char line[4352];
  bool candidate = false;
  Range cur{};
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned long lo = 0, hi = 0;
    char perms[8] = {};
    int path = 0;
    if (std::sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &path) == 3 && path > 0) {
      char* name = line + path;
      name[std::strcspn(name, "\n")] = '\0';
      candidate = perms[0] == 'r' && perms[1] != 'w' && std::strcmp(name, exe) == 0;
      cur = Range{lo, hi};
      continue;
    }
    // Never-written pages only: a mapping with anonymous (copy-on-write) pages, such as
    // the relocated read-only data, would lose them.
    if (candidate && std::strncmp(line, "Anonymous:", 10) == 0) {
      if (std::strtol(line + 10, nullptr, 10) == 0 && count < 16) ranges[count++] = cur;
      candidate = false;
    }
  }
  std::fclose(f);
  for (int i = 0; i < count; ++i) trimRange(ranges[i].from, ranges[i].to, page, t);
  return t;
}

Result<void> ignoreSigpipe() {
  struct sigaction sa {};
  sa.sa_handler = SIG_IGN;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGPIPE, &sa, nullptr) != 0) return Error::sys(errno, "sigaction SIGPIPE");
  return success();
}

}  // namespace ork::sys
