#include "ork/recorder/History.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>

namespace ork::recorder {

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kNear = 120 * kSecond;

std::string fmt(const char* f, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}

std::string jsonEscape(std::string_view s) {
  std::string o = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      o += '\\';
      o += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      o += fmt("\\u%04x", c);
    } else {
      o += ch;
    }
  }
  return o + "\"";
}

std::string xmlEscape(std::string_view s) {
  std::string o;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (ch == '<') o += "&lt;";
    else if (ch == '>') o += "&gt;";
    else if (ch == '&') o += "&amp;";
    else if (ch == '"') o += "&quot;";
    else if (c < 0x20 || c >= 0x7f) o += '?';
    else o += ch;
  }
  return o;
}

std::string isoLocal(std::int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / kSecond);
  std::tm tm{};
  if (::localtime_r(&secs, &tm) == nullptr) return "-";
  char b[64];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S%z", &tm);
  return b;
}

std::string hhmmss(std::int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / kSecond);
  std::tm tm{};
  if (::localtime_r(&secs, &tm) == nullptr) return "-";
  char b[32];
  std::strftime(b, sizeof b, "%H:%M:%S", &tm);
  return b;
}

std::string hhmm(std::int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / kSecond);
  std::tm tm{};
  if (::localtime_r(&secs, &tm) == nullptr) return "-";
  char b[32];
  std::strftime(b, sizeof b, "%H:%M", &tm);
  return b;
}

}  // namespace

void History::add(const SlotView& v) {
  switch (v.type) {
    case SlotType::Sample: {
      Sample s;
      if (decodeSample(v, s)) samples.push_back(s);
      break;
    }
    case SlotType::Minute: {
      Minute m;
      if (decodeMinute(v, m)) minutes.push_back(m);
      break;
    }
    case SlotType::Disk: {
      Disk d;
      if (decodeDisk(v, d)) disks.push_back(d);
      break;
    }
    case SlotType::Event:
      events.push_back({v.timeNs, v.seq, parseFields(v.payload)});
      break;
    case SlotType::Identity:
      identities.push_back({v.timeNs, v.seq, parseFields(v.payload)});
      break;
  }
}

void History::sort() {
  auto byTime = [](const auto& a, const auto& b) { return a.timeNs < b.timeNs; };
  std::stable_sort(samples.begin(), samples.end(), byTime);
  std::stable_sort(minutes.begin(), minutes.end(), byTime);
  std::stable_sort(disks.begin(), disks.end(), byTime);
  auto rec = [](const Record& a, const Record& b) { return a.timeNs != b.timeNs ? a.timeNs < b.timeNs : a.seq < b.seq; };
  std::sort(events.begin(), events.end(), rec);
  std::sort(identities.begin(), identities.end(), rec);
}

long long History::availAt(std::int64_t t) const {
  auto it = std::lower_bound(samples.begin(), samples.end(), t, [](const Sample& s, std::int64_t x) { return s.timeNs < x; });
  if (it != samples.begin() && t - std::prev(it)->timeNs <= kNear) return static_cast<long long>(std::prev(it)->availKib);
  auto m = std::upper_bound(minutes.begin(), minutes.end(), t, [](std::int64_t x, const Minute& s) { return x < s.timeNs; });
  if (m != minutes.begin() && t - std::prev(m)->timeNs <= kNear) return static_cast<long long>(std::prev(m)->avgAvailKib);
  return -1;
}

long long History::availAfter(std::int64_t t) const {
  auto it = std::lower_bound(samples.begin(), samples.end(), t, [](const Sample& s, std::int64_t x) { return s.timeNs < x; });
  if (it != samples.end() && it->timeNs - t <= kNear) return static_cast<long long>(it->availKib);
  auto m = std::lower_bound(minutes.begin(), minutes.end(), t, [](const Minute& s, std::int64_t x) { return s.timeNs < x; });
  if (m != minutes.end() && m->timeNs - t <= kNear) return static_cast<long long>(m->avgAvailKib);
  return -1;
}

std::string scopeFormOfName(std::string_view name, int id) {
  std::string machine = "qemu-" + std::to_string(id) + "-";
  const std::size_t prefix = machine.size();
  bool skip = true;
  for (char c : name) {
    if (machine.size() >= 64) break;
    if (c == '.' && skip) continue;
    skip = false;
    const bool host = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (host) machine += c;
  }
  while (machine.size() > prefix && (machine.back() == '-' || machine.back() == '.')) machine.pop_back();
  return machine.substr(prefix);
}

bool vmNameFromCgroup(std::string_view cgroup, ScopeName& out) {
  // systemd's scope ("machine-qemu\x2dN\x2dNAME.scope", the name escaped), or libvirt's
  // own cgroup where systemd does not run ("qemu-N-NAME.libvirt-qemu").
  std::string m;
  if (const std::size_t at = cgroup.find("machine-qemu"); at != std::string_view::npos) {
    std::string_view scope = cgroup.substr(at + 8);  // "qemu\x2d3\x2dweb01.scope/..."
    const std::size_t end = scope.find(".scope");
    if (end == std::string_view::npos) return false;
    scope = scope.substr(0, end);
    auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
    for (std::size_t i = 0; i < scope.size(); ++i) {
      if (scope[i] == '\\' && i + 3 < scope.size() && scope[i + 1] == 'x' && hex(scope[i + 2]) >= 0 && hex(scope[i + 3]) >= 0) {
        m += static_cast<char>(hex(scope[i + 2]) * 16 + hex(scope[i + 3]));
        i += 3;
      } else {
        m += scope[i];
      }
    }
  } else if (const std::size_t end = cgroup.find(".libvirt-qemu"); end != std::string_view::npos) {
    const std::size_t slash = cgroup.rfind('/', end);
    m = std::string(cgroup.substr(slash == std::string_view::npos ? 0 : slash + 1, end - (slash == std::string_view::npos ? 0 : slash + 1)));
  } else {
    return false;
  }
  // "qemu-ID-NAME"
  if (!m.starts_with("qemu-")) return false;
  const std::size_t dash = m.find('-', 5);
  if (dash == std::string::npos || dash == 5) return false;
  int id = 0;
  for (std::size_t i = 5; i < dash; ++i) {
    if (m[i] < '0' || m[i] > '9') return false;
    id = id * 10 + (m[i] - '0');
    if (id > 100'000'000) return false;
  }
  out.id = id;
  out.name = m.substr(dash + 1);
  return !out.name.empty();
}

namespace {

std::string actionOf(std::string_view event) {
  if (event == "kill" || event == "would_kill" || event == "oom_kill") return "kill";
  if (event == "hibernate" || event == "hibernated") return "hibernate";
  if (event == "freeze") return "freeze";
  if (event == "thaw") return "thaw";
  if (event == "disk_clean") return "clean";
  if (event == "disk_stop") return "stop";
  if (event == "link_down" || event == "would_link_down") return "link_down";
  return "";
}

// The identity record of this process at time t: the latest before it (or just after:
// a process seen by the pass that followed), matching start time when known, else name.
const Record* identityOf(const History& h, long long pid, long long start, std::string_view name, std::int64_t t) {
  const Record* best = nullptr;
  for (const auto& r : h.identities) {
    if (r.f.num("pid") != pid) continue;
    if (start >= 0 && r.f.num("start_ticks") != start) continue;
    if (start < 0 && !name.empty() && !r.f.get("name").empty() && r.f.get("name") != name) continue;
    if (r.timeNs > t + 60 * kSecond) continue;
    if (best == nullptr || r.timeNs > best->timeNs || (r.timeNs == best->timeNs && r.f.has("instance"))) best = &r;
  }
  return best;
}

void vmFrom(const Fields& f, Entry& e) {
  e.vm = std::string(f.get("vm"));
  e.uuid = std::string(f.get("uuid"));
  e.instance = std::string(f.get("instance"));
  e.instanceName = std::string(f.get("instance_name"));
  e.project = std::string(f.get("project"));
  e.flavor = std::string(f.get("flavor"));
}

}  // namespace

std::vector<Entry> buildEntries(const History& h, std::int64_t sinceNs) {
  std::vector<Entry> out;
  for (const auto& r : h.events) {
    if (r.timeNs < sinceNs) continue;
    const std::string_view event = r.f.get("event");
    std::string action = actionOf(event);
    if (action.empty()) continue;
    const std::string_view result = r.f.get("result");
    // A hibernation is one entry: its end (hibernated), or its start when nothing
    // follows (dry-run, failed at once).
    if (event == "hibernate" && (result == "started" || result.empty())) continue;
    // A thaw asked for before a kill is no action of its own.
    if (event == "thaw" && result == "requested") continue;
    Entry e;
    e.timeNs = r.timeNs;
    e.who = event == "oom_kill" ? "kernel" : "ork";
    e.action = action;
    e.result = std::string(result.empty() && e.who == "kernel" ? "ok" : result);
    e.dryRun = r.f.num("dry_run", 0) == 1 || event == "would_kill" || event == "would_link_down";
    e.pid = r.f.num("pid");
    e.name = std::string(r.f.get("name"));
    e.user = std::string(r.f.get("user"));
    e.cgroup = std::string(r.f.get("cgroup"));
    if (e.who == "kernel") {
      e.reason = r.f.get("kind") == "memcg" ? "memory_cgroup_limit" : "host_out_of_memory";
      if (r.f.has("oom_cgroup")) e.detail = "limit of " + std::string(r.f.get("oom_cgroup"));
      if (r.f.num("missed", 0) == 1) e.detail += std::string(e.detail.empty() ? "" : "; ") + "while ORK was not running";
    } else {
      e.reason = std::string(r.f.get("reason"));
      e.detail = std::string(r.f.has("mount") ? "mount " + std::string(r.f.get("mount")) : "");
      if (r.f.has("path")) e.detail += (e.detail.empty() ? "" : ", ") + std::string("path ") + std::string(r.f.get("path"));
      if (r.f.has("interface")) e.detail += (e.detail.empty() ? "" : ", ") + std::string("interface ") + std::string(r.f.get("interface"));
    }
    e.freedKib = r.f.num("freed_kib");
    if (e.freedKib < 0 && r.f.has("kib")) e.freedKib = r.f.num("kib");
    // The VM: named by the event itself, else by the identity records, else by the
    // cgroup path (confirmed, and completed, by an identity record of that name).
    if (r.f.has("vm")) {
      vmFrom(r.f, e);
      e.vmSource = "event";
    }
    const Record* id = identityOf(h, e.pid, r.f.num("start_ticks"), e.name, r.timeNs);
    if (id != nullptr) {
      if (e.user.empty()) e.user = std::string(id->f.get("user"));
      if (e.cgroup.empty()) e.cgroup = std::string(id->f.get("cgroup"));
      if (e.name.empty()) e.name = std::string(id->f.get("name"));
      if (id->f.get("kind") == "vm" && (e.vm.empty() || e.instance.empty())) {
        vmFrom(id->f, e);
        e.vmSource = "identity";
      }
    }
    ScopeName sn;
    if (e.vm.empty() && vmNameFromCgroup(e.cgroup, sn)) {
      e.vm = sn.name;
      e.vmSource = "cgroup";
      for (auto it = h.identities.rbegin(); it != h.identities.rend(); ++it) {
        if (it->f.get("kind") != "vm" || it->timeNs > r.timeNs + 60 * kSecond) continue;
        if (scopeFormOfName(it->f.get("vm"), sn.id) == sn.name) {
          vmFrom(it->f, e);
          e.vmSource = "cgroup+identity";
          break;
        }
      }
    }
    e.availBeforeKib = r.f.num("avail_before_kib");
    if (e.availBeforeKib < 0) e.availBeforeKib = h.availAt(r.timeNs);
    // After: ten seconds on (the memory freed is back by then), else the first sample after.
    e.availAfterKib = h.availAfter(r.timeNs + 10 * kSecond);
    if (e.availAfterKib < 0) e.availAfterKib = h.availAfter(r.timeNs + 1);
    out.push_back(std::move(e));
  }
  return out;
}

std::string sparkline(const History& h, std::int64_t t0, std::int64_t t1, int width, long long& minKib,
                      long long& maxKib) {
  static constexpr const char* kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  std::vector<long long> cell(static_cast<std::size_t>(width), -1);
  const double span = static_cast<double>(t1 - t0);
  auto put = [&](std::int64_t t, long long v) {
    if (t < t0 || t >= t1 || width <= 0) return;
    auto i = static_cast<std::size_t>(static_cast<double>(t - t0) / span * width);
    if (i >= cell.size()) return;
    cell[i] = cell[i] < 0 ? v : std::min(cell[i], v);  // the low point: what mattered
  };
  bool any = false;
  for (const auto& s : h.samples)
    if (s.timeNs >= t0 && s.timeNs < t1) {
      put(s.timeNs, static_cast<long long>(s.availKib));
      any = true;
    }
  if (!any)
    for (const auto& m : h.minutes) put(m.timeNs + 30 * kSecond, static_cast<long long>(m.minAvailKib));
  minKib = -1;
  maxKib = -1;
  for (long long v : cell) {
    if (v < 0) continue;
    minKib = minKib < 0 ? v : std::min(minKib, v);
    maxKib = std::max(maxKib, v);
  }
  std::string out;
  for (long long v : cell) {
    if (v < 0) {
      out += ' ';
      continue;
    }
    int level = maxKib > minKib ? static_cast<int>((v - minKib) * 7 / (maxKib - minKib)) : 7;
    out += kBars[std::clamp(level, 0, 7)];
  }
  return out;
}

std::string entryJson(const Entry& e, const std::string& spark) {
  std::string o = "{";
  auto str = [&](const char* k, std::string_view v) {
    if (o.size() > 1) o += ",";
    o += fmt("\"%s\":", k) + jsonEscape(v);
  };
  auto num = [&](const char* k, long long v) {
    if (o.size() > 1) o += ",";
    if (v < 0) o += fmt("\"%s\":null", k);
    else o += fmt("\"%s\":%lld", k, v);
  };
  num("time_unix_ms", e.timeNs / 1'000'000);
  str("time", isoLocal(e.timeNs));
  str("who", e.who);
  str("action", e.action);
  str("result", e.result);
  o += fmt(",\"dry_run\":%s", e.dryRun ? "true" : "false");
  num("pid", e.pid);
  str("name", e.name);
  str("user", e.user);
  str("vm", e.vm);
  str("uuid", e.uuid);
  str("instance", e.instance);
  str("instance_name", e.instanceName);
  str("project", e.project);
  str("flavor", e.flavor);
  str("vm_source", e.vmSource);
  str("reason", e.reason);
  str("cgroup", e.cgroup);
  str("detail", e.detail);
  num("freed_kib", e.freedKib);
  num("avail_before_kib", e.availBeforeKib);
  num("avail_after_kib", e.availAfterKib);
  str("memory_sparkline", spark);
  return o + "}";
}

std::string renderSvg(const History& h, const std::vector<Entry>& entries, std::int64_t t0, std::int64_t t1) {
  if (t1 <= t0) t1 = t0 + 60 * kSecond;
  constexpr int kW = 1200, kLeft = 70, kRight = 20, kTop = 40, kPanel = 180, kGap = 50;
  constexpr int kListed = 40;  // events listed under the plot
  const int plotW = kW - kLeft - kRight;
  const int panels = 3;
  int shown = 0;
  for (const auto& e : entries) shown += e.timeNs >= t0 && e.timeNs <= t1 ? 1 : 0;
  const int listRows = std::min(shown, kListed) + (shown > kListed ? 1 : 0);
  const int listTop = kTop + 20 + panels * kPanel + (panels - 1) * kGap + 40;
  const int height = listTop + 16 * listRows + 20;
  auto x = [&](std::int64_t t) { return kLeft + static_cast<double>(t - t0) / static_cast<double>(t1 - t0) * plotW; };
  std::string o = fmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                      "font-family=\"sans-serif\" font-size=\"12\">\n",
                      kW, height, kW, height);
  o += fmt("<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n", kW, height);
  o += fmt("<text x=\"%d\" y=\"22\" font-size=\"16\" font-weight=\"bold\">ORK flight recorder: %s to %s</text>\n", kLeft,
           xmlEscape(isoLocal(t0)).c_str(), xmlEscape(isoLocal(t1)).c_str());
  const bool shortSpan = t1 - t0 <= 30 * 60 * kSecond;

  // The series: samples where there are, else minutes.
  struct Pt {
    std::int64_t t;
    double v;
  };
  std::int64_t firstSample = h.samples.empty() ? t1 : h.samples.front().timeNs;
  auto series = [&](auto fromSample, auto fromMinute) {
    std::vector<Pt> pts;
    for (const auto& m : h.minutes)
      if (m.timeNs + 60 * kSecond <= firstSample && m.timeNs >= t0 && m.timeNs <= t1) {
        double v = fromMinute(m);
        if (v >= 0) pts.push_back({m.timeNs + 30 * kSecond, v});
      }
    for (const auto& s : h.samples)
      if (s.timeNs >= t0 && s.timeNs <= t1) {
        double v = fromSample(s);
        if (v >= 0) pts.push_back({s.timeNs, v});
      }
    return pts;
  };
  auto polyline = [&](const std::vector<Pt>& pts, double vmax, int top, const char* color, const char* id) {
    if (pts.empty()) return;
    o += fmt("<polyline id=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", id, color);
    std::int64_t prev = pts.front().t;
    for (const auto& p : pts) {
      // A gap (ORK not running) breaks the line.
      if (p.t - prev > 180 * kSecond) o += fmt("\"/>\n<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", color);
      prev = p.t;
      const double y = top + kPanel - std::clamp(p.v / vmax, 0.0, 1.0) * kPanel;
      o += fmt("%.1f,%.1f ", x(p.t), y);
    }
    o += "\"/>\n";
  };
  auto frame = [&](int top, const char* title, double vmax, const char* unit) {
    o += fmt("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", kLeft, top, plotW, kPanel);
    o += fmt("<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>\n", kLeft, top - 6, title);
    for (int i = 0; i <= 4; ++i) {
      const double v = vmax * i / 4;
      const double y = top + kPanel - static_cast<double>(kPanel) * i / 4;
      o += fmt("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", kLeft, y, kLeft + plotW, y);
      o += fmt("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g%s</text>\n", kLeft - 4, y + 4, v, unit);
    }
    for (int i = 0; i <= 6; ++i) {
      const std::int64_t t = t0 + (t1 - t0) * i / 6;
      o += fmt("<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" fill=\"#555\">%s</text>\n", x(t), top + kPanel + 14,
               i == 0 ? "start" : i == 6 ? "end" : "middle",
               (shortSpan ? hhmmss(t) : hhmm(t)).c_str());
    }
  };
  auto legend = [&](int top, int slot, const char* color, std::string_view label) {
    const int lx = kLeft + plotW - 230;
    const int ly = top + 14 + slot * 14;
    o += fmt("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>", lx, ly - 4, lx + 18, ly - 4, color);
    o += fmt("<text x=\"%d\" y=\"%d\">%s</text>\n", lx + 24, ly, xmlEscape(label).c_str());
  };

  // Panel 1: memory (GiB).
  int top = kTop + 20;
  auto avail = series([](const Sample& s) { return s.availKib / 1048576.0; }, [](const Minute& m) { return m.minAvailKib / 1048576.0; });
  auto swap = series([](const Sample& s) { return s.swapTotalKib > 0 ? s.swapFreeKib / 1048576.0 : -1.0; },
                     [](const Minute& m) { return m.minSwapFreeKib > 0 ? m.minSwapFreeKib / 1048576.0 : -1.0; });
  double memMax = 0;
  for (const auto& s : h.samples) memMax = std::max(memMax, s.totalKib / 1048576.0);
  for (const auto& m : h.minutes) memMax = std::max(memMax, m.totalKib / 1048576.0);
  for (const auto& p : avail) memMax = std::max(memMax, p.v);
  if (memMax <= 0) memMax = 1;
  frame(top, "Memory available (GiB; the lowest of each minute before the last hour)", memMax, "");
  polyline(avail, memMax, top, "#1f77b4", "mem_available");
  polyline(swap, memMax, top, "#9467bd", "swap_free");
  legend(top, 0, "#1f77b4", "available");
  if (!swap.empty()) legend(top, 1, "#9467bd", "swap free");

  // Panel 2: pressure and CPU (%).
  top += kPanel + kGap;
  frame(top, "Pressure (PSI some, avg10) and CPU busy (%)", 100, "");
  auto pct = [](std::uint16_t v) { return v == kUnknown16 ? -1.0 : v / 100.0; };
  polyline(series([&](const Sample& s) { return pct(s.psiMemSome); }, [&](const Minute& m) { return pct(m.maxPsiMemSome); }), 100,
           top, "#d62728", "psi_memory");
  polyline(series([&](const Sample& s) { return pct(s.psiCpuSome); }, [&](const Minute& m) { return pct(m.maxPsiCpuSome); }), 100,
           top, "#ff7f0e", "psi_cpu");
  polyline(series([&](const Sample& s) { return pct(s.psiIoSome); }, [&](const Minute& m) { return pct(m.maxPsiIoSome); }), 100,
           top, "#8c564b", "psi_io");
  polyline(series([&](const Sample& s) { return pct(s.busy); }, [&](const Minute& m) { return pct(m.avgBusy); }), 100, top,
           "#2ca02c", "cpu_busy");
  legend(top, 0, "#d62728", "PSI memory");
  legend(top, 1, "#ff7f0e", "PSI cpu");
  legend(top, 2, "#8c564b", "PSI io");
  legend(top, 3, "#2ca02c", "CPU busy");

  // Panel 3: filesystems' free space (%).
  top += kPanel + kGap;
  frame(top, "Filesystems: free space (%)", 100, "");
  static constexpr const char* kColors[] = {"#17becf", "#bcbd22", "#7f7f7f", "#e377c2", "#1f77b4", "#ff7f0e"};
  std::map<std::string, std::vector<Pt>> fs;
  for (const auto& d : h.disks)
    if (d.timeNs >= t0 && d.timeNs <= t1 && d.totalKib > 0)
      fs[std::string(d.mountPoint())].push_back({d.timeNs, 100.0 * static_cast<double>(d.freeKib) / static_cast<double>(d.totalKib)});
  int slot = 0;
  for (const auto& [mount, pts] : fs) {
    if (slot >= 6) break;
    const char* c = kColors[slot];
    polyline(pts, 100, top, c, ("disk_" + std::to_string(slot)).c_str());
    legend(top, slot, c, mount);
    ++slot;
  }

  // The events: a dashed line across every panel with its number on top (kernel red,
  // ORK orange), and listed under the plot.
  const int y0 = kTop + 20, y1 = top + kPanel;
  int n = 0;
  double lastX = -100;
  int stagger = 0;
  for (const auto& e : entries) {
    if (e.timeNs < t0 || e.timeNs > t1) continue;
    ++n;
    const char* color = e.who == "kernel" ? "#d00000" : "#ff8c00";
    const double ex = x(e.timeNs);
    stagger = ex - lastX < 22 ? (stagger + 1) % 4 : 0;
    lastX = ex;
    std::string label = e.who + " " + e.action + (e.dryRun ? " (dry-run)" : "") + ": " +
                        (e.vm.empty() ? e.name : "VM " + e.vm) + " pid " + std::to_string(e.pid);
    o += fmt("<g class=\"event\" data-who=\"%s\" data-action=\"%s\"><title>%s</title>", e.who.c_str(),
             xmlEscape(e.action).c_str(), xmlEscape(label).c_str());
    o += fmt("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>", ex,
             y0, ex, y1, color);
    const int cy = y0 + 10 + stagger * 20;
    o += fmt("<circle cx=\"%.1f\" cy=\"%d\" r=\"9\" fill=\"%s\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
             "font-size=\"10\" fill=\"white\">%d</text></g>\n",
             ex, cy, color, ex, cy + 4, n);
    if (n <= kListed) {
      std::string line = std::to_string(n) + "  " + isoLocal(e.timeNs) + "  " + label;
      if (!e.uuid.empty()) line += " uuid " + e.uuid;
      if (!e.reason.empty()) line += ", " + e.reason;
      if (e.freedKib >= 0) line += fmt(", freed %.0f MiB", static_cast<double>(e.freedKib) / 1024);
      o += fmt("<text class=\"event-list\" x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>\n", kLeft, listTop + 16 * (n - 1), color,
               xmlEscape(line).c_str());
    }
  }
  if (n > kListed)
    o += fmt("<text x=\"%d\" y=\"%d\">... and %d more (ork events --since)</text>\n", kLeft, listTop + 16 * kListed, n - kListed);
  o += "</svg>\n";
  return o;
}

}  // namespace ork::recorder
