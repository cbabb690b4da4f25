// The kernel OOM killer's lines in the kernel log, as the kernels users run print them
// (mm/oom_kill.c; FACTS.md, "Forensics"):
//   5.0+   "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,
//           global_oom,task_memcg=/,task=NAME,pid=N,uid=U"                 (Summary)
//          "Out of memory: Killed process N (NAME) total-vm:..kB, anon-rss:..kB,
//           file-rss:..kB, shmem-rss:..kB, UID:U pgtables:..kB oom_score_adj:A" (Killed)
//          "Memory cgroup out of memory: Killed process N (NAME) ..."      (Killed, memcg)
//   <5.0   "Out of memory: Kill process N (NAME) score S or sacrifice child" (Sacrifice)
//          "Memory cgroup out of memory: Kill process N (NAME) score S or sacrifice child"
//          "Killed process N (NAME) total-vm:..kB, anon-rss:..kB, file-rss:..kB, ..." (Killed)
// A process name is the kernel's comm (up to 15 bytes, any of them, ')' and ',' too):
// it is taken up to the text that must follow it, not up to the first delimiter.
// Pure; views point into the message (already unescaped: parse::unescapeKmsg).
#pragma once

#include <cstdint>
#include <string_view>

#include "ork/core/Result.h"

namespace ork::parse {

enum class OomLineKind { Summary, Killed, Sacrifice };

struct OomLine {
  OomLineKind kind = OomLineKind::Killed;
  int pid = 0;
  std::string_view name;
  // Summary: the victim's memory cgroup (task_memcg, "/" for the root), the cgroup
  // whose limit was hit (oom_memcg, empty for a global OOM) and the constraint.
  std::string_view taskMemcg, oomMemcg, constraint;
  std::int64_t uid = -1;  // Summary, and Killed lines that carry "UID:" (5.x); else -1
  bool memcg = false;     // a memory cgroup's limit, not the whole host (Killed, Sacrifice, Summary)
  std::uint64_t totalVmKib = 0, anonRssKib = 0, fileRssKib = 0, shmemRssKib = 0;  // Killed
  int score = -1;                                                                 // Sacrifice
};

// Errors (code 0): any other line (the reaper's, the task dump, unrelated messages) or a
// malformed one.
Result<OomLine> parseOomLine(std::string_view message);

}  // namespace ork::parse
