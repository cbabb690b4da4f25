// `ork top`: the candidates ranked right now, with each score's breakdown.
#pragma once

#include <string>

#include "ork/config/Config.h"
#include "ork/core/Units.h"

namespace ork::cli {

struct TopOptions {
  std::string cgroupDir;
  std::string procRoot = "/proc";
  std::string passwdPath = "/etc/passwd";
  int limit = 20;
  bool all = false;
  // Two looks at the processes this far apart, so that growth is seen (0: one look).
  Millis interval{1000};
};

int runTopCommand(const TopOptions& opts, const config::Config& cfg);

}  // namespace ork::cli
