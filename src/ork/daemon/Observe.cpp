#include "ork/daemon/Observe.h"

#include <unistd.h>

#include <cstdio>

#include "ork/metrics/Nics.h"

#ifndef ORK_VERSION
#define ORK_VERSION "0.0.0"
#endif

namespace ork::daemon {

using metrics::jsonString;

void Observer::collect(metrics::Writer& w) const {
  w.gauge("ork_info", "ORK's version and mode (1)", 1,
          {{"version", ORK_VERSION}, {"dry_run", info_.dryRun ? "1" : "0"}, {"scope", info_.scope.empty() ? "/" : info_.scope}});
  w.gauge("ork_start_time_seconds", "When ORK started, seconds since the epoch", static_cast<double>(info_.startedAt));
  for (const auto* p : *parts_) p->metrics(w);
  if (activity_ != nullptr) activity_->metrics(w);
  std::vector<metrics::Nic> fromParts;
  for (const auto* p : *parts_) p->nics(fromParts);
  metrics::nicMetrics(w, metrics::mergeNics(std::move(fromParts), metrics::hostNics(info_.sysClassNet)));
}

std::string Observer::metricsText() const {
  metrics::Writer w(false);
  collect(w);
  return w.text();
}

namespace {
std::string clock(std::time_t t) {
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
  return b;
}

std::string duration(long long s) {
  char b[48];
  if (s >= 86400) std::snprintf(b, sizeof b, "%lldd%02lldh%02lldm", s / 86400, s % 86400 / 3600, s % 3600 / 60);
  else if (s >= 3600) std::snprintf(b, sizeof b, "%lldh%02lldm%02llds", s / 3600, s % 3600 / 60, s % 60);
  else std::snprintf(b, sizeof b, "%lldm%02llds", s / 60, s % 60);
  return b;
}

// The samples of one family, "name{labels} value" without the name, for the text view.
std::string labelsOf(const metrics::Writer::Sample& s) {
  std::string out;
  for (const auto& [k, v] : s.labels) out += (out.empty() ? "" : ", ") + k + "=" + v;
  return out;
}
}  // namespace

std::string Observer::status(bool json) const {
  metrics::Writer w;
  collect(w);
  const std::time_t now = std::time(nullptr);
  const std::string config = info_.configPath != nullptr && !info_.configPath->empty() ? *info_.configPath : "none";
  const std::string scope = info_.scope.empty() ? "/" : info_.scope;
  if (json) {
    std::string out = "{\n";
    char b[160];
    std::snprintf(b, sizeof b, "  \"pid\": %d,\n  \"started\": %lld,\n  \"uptime_s\": %lld,\n", static_cast<int>(::getpid()),
                  static_cast<long long>(info_.startedAt), static_cast<long long>(now - info_.startedAt));
    out += "  \"version\": " + jsonString(ORK_VERSION) + ",\n" + b;
    out += std::string("  \"dry_run\": ") + (info_.dryRun ? "true" : "false") + ",\n";
    out += "  \"scope\": " + jsonString(scope) + ",\n  \"config\": " + jsonString(config) + ",\n";
    out += "  \"resources\": [";
    bool first = true;
    for (const auto& l : *ladders_) {
      auto r = l->report();
      out += std::string(first ? "\n" : ",\n") + "    {\"name\": " + jsonString(l->name()) + ", \"report\": [";
      first = false;
      for (std::size_t i = 0; i < r.lines.size(); ++i) out += (i ? ", " : "") + jsonString(r.lines[i]);
      out += "]}";
    }
    out += first ? "],\n" : "\n  ],\n";
    // The samples of one family as a list of their labels (VMs held, interfaces down).
    auto labelList = [&](const char* key, const char* family) {
      out += std::string("  \"") + key + "\": [";
      bool none = true;
      if (const auto* f = w.find(family)) {
        for (const auto& s : f->samples) {
          out += none ? "\n" : ",\n";
          none = false;
          out += "    {";
          for (std::size_t i = 0; i < s.labels.size(); ++i)
            out += (i ? ", " : "") + jsonString(s.labels[i].first) + ": " + jsonString(s.labels[i].second);
          out += "}";
        }
      }
      out += none ? "],\n" : "\n  ],\n";
    };
    labelList("vms_held", "ork_vm_held");
    labelList("interfaces_down", "ork_interface_down");
    out += "  \"metrics\": " + w.json() + ",\n";
    out += "  \"events\": [";
    first = true;
    if (activity_ != nullptr)
      activity_->forEachRecent([&](std::time_t when, std::string_view text) {
        out += first ? "\n" : ",\n";
        first = false;
        out += "    {\"time\": " + std::to_string(static_cast<long long>(when)) + ", \"line\": " + jsonString(text) + "}";
      });
    out += first ? "]\n}\n" : "\n  ]\n}\n";
    return out;
  }

  std::string out;
  char b[256];
  std::snprintf(b, sizeof b, "ork %s, pid %d, up %s%s; scope %s; config %s\n", ORK_VERSION, static_cast<int>(::getpid()),
                duration(now - info_.startedAt).c_str(), info_.dryRun ? ", dry-run (acts on nothing)" : "", scope.c_str(),
                config.c_str());
  out += b;
  auto stepOf = [&](std::string_view resource) {
    std::string steps;
    if (const auto* f = w.find("ork_ladder_step"))
      for (const auto& s : f->samples) {
        bool match = false;
        std::string extra;
        for (const auto& [k, v] : s.labels) {
          if (k == "resource") match = v == resource;
          else extra = v;
        }
        if (!match) continue;
        if (!steps.empty()) steps += ", ";
        steps += (extra.empty() ? "" : extra + " ") + std::to_string(static_cast<int>(s.value));
      }
    return steps;
  };
  auto inFlight = [&](std::string_view resource) {
    std::string what;
    if (const auto* f = w.find("ork_actions_in_flight"))
      for (const auto& s : f->samples) {
        if (s.value <= 0) continue;
        bool match = false;
        std::string action;
        for (const auto& [k, v] : s.labels) {
          if (k == "resource") match = v == resource;
          if (k == "action") action = v;
        }
        if (match) what += (what.empty() ? "" : ", ") + std::to_string(static_cast<int>(s.value)) + " " + action;
      }
    return what.empty() ? std::string("none") : what;
  };
  for (const auto& l : *ladders_) {
    auto r = l->report();
    out += "\n" + r.title + "\n";
    for (const auto& line : r.lines) out += "  " + line + "\n";
    const std::string step = stepOf(l->name());
    if (!step.empty()) out += "  step: " + step + " (0 ok, 1 step 1, 2 step 2)\n";
    out += "  actions in flight: " + inFlight(l->name()) + "\n";
  }
  out += "\nVMs";
  if (const auto* f = w.find("ork_vms"); f != nullptr && !f->samples.empty())
    out += ": " + std::to_string(static_cast<long long>(f->samples.front().value));
  out += "\n";
  bool any = false;
  if (const auto* held = w.find("ork_vm_held"))
    for (const auto& s : held->samples) {
      out += "  " + labelsOf(s) + "\n";
      any = true;
    }
  if (!any) out += "  none frozen or hibernated by ORK\n";
  if (const auto* f = w.find("ork_actions_in_flight")) {
    std::string vmFlight;
    for (const auto& s : f->samples)
      for (const auto& [k, v] : s.labels)
        if (k == "resource" && v == "vm" && s.value > 0) vmFlight = inFlight("vm");
    if (!vmFlight.empty()) out += "  in flight: " + vmFlight + "\n";
  }
  if (const auto* f = w.find("ork_interface_down")) {
    out += "\ninterfaces put down\n";
    for (const auto& s : f->samples) out += "  " + labelsOf(s) + "\n";
  }
  out += "\nlast events\n";
  any = false;
  if (activity_ != nullptr)
    activity_->forEachRecent([&](std::time_t when, std::string_view text) {
      out += "  " + clock(when) + " " + std::string(text) + "\n";
      any = true;
    });
  if (!any) out += "  none since ORK started\n";
  return out;
}

}  // namespace ork::daemon
