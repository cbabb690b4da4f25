// The deciding stage: pure functions of (sample, history, now) -> verdict. A rule
// never reads the clock, a file or the kernel; it is handed what it needs, and its
// verdicts are carried out by act/. A new resource adds one rule with this shape.
#pragma once

#include "ork/core/Units.h"

namespace ork::policy {

template <class Sample, class Verdict>
class Rule {
 public:
  virtual ~Rule() = default;
  virtual Verdict evaluate(const Sample& sample, TimePoint now) = 0;
};

}  // namespace ork::policy
