// The acting stage: an action carries out one verdict, honours --dry-run, and reports
// an outcome that the daemon writes as exactly one journal line. Fast actions (a kill)
// run inline on the loop; slow ones (hibernating a VM, later) will run on an executor
// lane per resource so that they never delay a kill.
#pragma once

#include "ork/core/Reason.h"
#include "ork/core/Units.h"

namespace ork::act {

struct ActionOutcome {
  Outcome outcome = Outcome::Ok;
  int err = 0;          // errno when outcome is Failed
  TimePoint doneAt;     // when the action took effect (the signal was sent)
};

}  // namespace ork::act
