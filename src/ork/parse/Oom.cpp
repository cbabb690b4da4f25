#include "ork/parse/Oom.h"

#include "ork/parse/ParseUtil.h"

namespace ork::parse {

using detail::kParseErrorCode;
using detail::parseInt;

namespace {

Error notOom() { return Error::make(kParseErrorCode, "not an OOM kill line"); }

// The value of "key:NNNkB" in s, 0 when absent or malformed.
std::uint64_t kbField(std::string_view s, std::string_view key) {
  const std::size_t at = s.find(key);
  if (at == std::string_view::npos) return 0;
  std::string_view v = s.substr(at + key.size());
  const std::size_t end = v.find("kB");
  std::uint64_t out = 0;
  if (end == std::string_view::npos || !parseInt(v.substr(0, end), out)) return 0;
  return out;
}

// "N (NAME)<follow><rest>": the name ends where the text that must follow it starts.
bool pidAndName(std::string_view s, std::string_view follow, OomLine& out, std::string_view& rest) {
  const std::size_t sp = s.find(" (");
  if (sp == std::string_view::npos || !parseInt(s.substr(0, sp), out.pid) || out.pid <= 0) return false;
  const std::string_view afterOpen = s.substr(sp + 2);
  const std::size_t close = afterOpen.find(follow);
  if (close == std::string_view::npos) return false;
  out.name = afterOpen.substr(0, close);
  rest = afterOpen.substr(close + follow.size());
  return true;
}

Result<OomLine> summary(std::string_view s) {
  // "...,task_memcg=PATH,task=NAME,pid=N,uid=U": cgroup paths and names may hold ',',
  // so the fields after them are found from the end.
  OomLine l;
  l.kind = OomLineKind::Summary;
  const std::size_t uidAt = s.rfind(",uid=");
  if (uidAt == std::string_view::npos || !parseInt(s.substr(uidAt + 5), l.uid) || l.uid < 0) return notOom();
  std::string_view head = s.substr(0, uidAt);
  const std::size_t pidAt = head.rfind(",pid=");
  if (pidAt == std::string_view::npos || !parseInt(head.substr(pidAt + 5), l.pid) || l.pid <= 0) return notOom();
  head = head.substr(0, pidAt);
  const std::size_t memcgAt = head.find("task_memcg=");
  const std::size_t taskAt = head.find(",task=", memcgAt == std::string_view::npos ? 0 : memcgAt);
  if (taskAt == std::string_view::npos) return notOom();
  l.name = head.substr(taskAt + 6);
  if (memcgAt != std::string_view::npos) l.taskMemcg = head.substr(memcgAt + 11, taskAt - memcgAt - 11);
  const std::string_view fields = memcgAt != std::string_view::npos ? head.substr(0, memcgAt) : head.substr(0, taskAt);
  const std::size_t c = fields.find("constraint=");
  if (c != std::string_view::npos) {
    std::string_view v = fields.substr(c + 11);
    l.constraint = v.substr(0, v.find(','));
  }
  const std::size_t o = fields.find("oom_memcg=");
  if (o != std::string_view::npos) {
    std::string_view v = fields.substr(o + 10);
    // The last field before task_memcg: up to the ',' that ends it.
    if (!v.empty() && v.back() == ',') v.remove_suffix(1);
    l.oomMemcg = v;
  }
  l.memcg = l.constraint == "CONSTRAINT_MEMCG" || !l.oomMemcg.empty();
  return l;
}

}  // namespace

Result<OomLine> parseOomLine(std::string_view message) {
  constexpr std::string_view kSummary = "oom-kill:";
  constexpr std::string_view kKilled = "Killed process ";
  constexpr std::string_view kKill = "Kill process ";
  constexpr std::string_view kMemcg = "Memory cgroup out of memory";
  constexpr std::string_view kGlobal = "Out of memory";
  if (message.starts_with(kSummary)) return summary(message.substr(kSummary.size()));
  // A prefix, then ": ", or nothing (the line after "or sacrifice child").
  std::string_view s = message;
  bool memcg = false;
  if (s.starts_with(kMemcg) || s.starts_with(kGlobal)) {
    memcg = s.starts_with(kMemcg);
    const std::size_t colon = s.find(": ");
    if (colon == std::string_view::npos) return notOom();
    s = s.substr(colon + 2);
  }
  OomLine l;
  l.memcg = memcg;
  std::string_view rest;
  if (s.starts_with(kKilled)) {
    l.kind = OomLineKind::Killed;
    if (!pidAndName(s.substr(kKilled.size()), ") total-vm:", l, rest)) return notOom();
    // rest starts right after "total-vm:".
    std::uint64_t v = 0;
    const std::size_t kb = rest.find("kB");
    if (kb != std::string_view::npos && parseInt(rest.substr(0, kb), v)) l.totalVmKib = v;
    l.anonRssKib = kbField(rest, "anon-rss:");
    l.fileRssKib = kbField(rest, "file-rss:");
    l.shmemRssKib = kbField(rest, "shmem-rss:");
    const std::size_t uid = rest.find("UID:");
    if (uid != std::string_view::npos) {
      std::string_view u = rest.substr(uid + 4);
      if (!parseInt(u.substr(0, u.find(' ')), l.uid) || l.uid < 0) l.uid = -1;
    }
    return l;
  }
  if (s.starts_with(kKill)) {
    l.kind = OomLineKind::Sacrifice;
    if (!pidAndName(s.substr(kKill.size()), ") score ", l, rest)) return notOom();
    (void)parseInt(rest.substr(0, rest.find(' ')), l.score);
    return l;
  }
  return notOom();
}

}  // namespace ork::parse
