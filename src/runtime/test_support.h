// Test support: a scheduler installed for the test's lifetime, run until idle in virtual time.
#pragma once

#include "runtime/scheduler.h"

namespace keel::testing {

// Sets *flag when destroyed: shows that a cancelled coroutine frame ran its destructors.
struct DestroyFlag {
  bool* flag;
  ~DestroyFlag() { *flag = true; }
};

class SchedulerFixture {
 public:
  SchedulerFixture() : install_(scheduler_) {}
  // Runs tasks (jumping virtual time) until none remain; returns the number run.
  uint64_t run_until_idle() {
    uint64_t count = 0;
    while (!scheduler_.empty()) {
      scheduler_.run_next();
      ++count;
    }
    return count;
  }
  Scheduler scheduler_;

 private:
  ScopedScheduler install_;
};

}  // namespace keel::testing
