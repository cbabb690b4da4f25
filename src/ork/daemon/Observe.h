// What the daemon shows of itself: the Prometheus exposition (every part's metrics(),
// the journal's counts, ork_nic_info) and `ork status` (the parts' reports, the VMs ORK
// holds, the last journal lines), rendered on demand, never on the kill path.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "ork/core/Units.h"
#include "ork/ladder/Ladder.h"
#include "ork/ladder/VmFleet.h"
#include "ork/metrics/Activity.h"
#include "ork/metrics/Writer.h"

namespace ork::daemon {

class Observer {
 public:
  struct Info {
    bool dryRun = false;
    std::string scope;                        // the --cgroup path, "" for the host
    const std::string* configPath = nullptr;  // the file in use ("" : none); follows reloads
    std::time_t startedAt = 0;
    std::string sysClassNet = "/sys/class/net";
  };
  Observer(const std::vector<ladder::Part*>* parts, const std::vector<std::unique_ptr<ladder::Ladder>>* ladders,
           const ladder::VmFleet* fleet, const metrics::Activity* activity, Info info)
      : parts_(parts), ladders_(ladders), fleet_(fleet), activity_(activity), info_(std::move(info)) {}

  void collect(metrics::Writer& w) const;
  std::string metricsText() const;
  std::string status(bool json) const;

 private:
  const std::vector<ladder::Part*>* parts_;
  const std::vector<std::unique_ptr<ladder::Ladder>>* ladders_;
  const ladder::VmFleet* fleet_;
  const metrics::Activity* activity_;
  Info info_;
};

}  // namespace ork::daemon
