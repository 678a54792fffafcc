// Scheduler: the single-threaded run queue shared by the real and simulated worlds.
//
// Tasks run in order of (time, priority, sequence): earliest time first, then higher priority,
// then first scheduled. Most tasks are due at once (resumptions, cancellations, zero delays):
// those wait in a first-in-first-out lane per priority, which stays in (time, sequence) order
// because the clock never goes back; the rest (timers) wait in slots, ordered by a heap of
// their small keys. The next task is the first of the heap's top and the lanes' fronts, so the
// order is exactly that of one heap. `now()` is the scheduler's clock: the world advances it (to the wall
// clock in the real world, jumping to the next task in simulation). Each task runs in the
// context of one process (always 0 in the real world) so the simulator can host many.
//
// One scheduler is current per thread (ScopedScheduler installs it); runtime code reaches it
// through `scheduler()`.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "runtime/future.h"

namespace keel {

// Task priorities: higher runs first among tasks due at the same time.
namespace priority {
inline constexpr int low = 2000;
inline constexpr int normal = 5000;
inline constexpr int rpc = 8000;
inline constexpr int high = 9000;
inline constexpr int cancel = 10000;
}  // namespace priority

class Scheduler {
 public:
  Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler();

  double now() const { return now_; }
  void advance_to(double time);

  uint32_t current_process() const { return current_process_; }
  void set_current_process(uint32_t process) { current_process_ = process; }
  int current_priority() const { return current_priority_; }

  // Runs `task` at `time` in the context of `process`.
  void schedule(double time, int priority, uint32_t process, std::function<void()> task);
  void schedule_resume(detail::StateBase* state, std::coroutine_handle<> handle);
  void schedule_cancel(detail::StateBase* state);

  // A future that becomes ready at now() + seconds (after `delay_adjust`, see below); a
  // positive delay always moves the clock, by at least one representable step.
  Future<Void> delay(double seconds, int priority);
  // A future that becomes ready at the first instant after now(), not stretched: after every
  // task scheduled for now(), even those scheduled later, until the clock moves.
  Future<Void> after_now(int priority);

  // The simulator stretches some delays; identity by default.
  void set_delay_adjust(std::function<double(double)> adjust) { delay_adjust_ = std::move(adjust); }

  bool empty() const { return timers_.empty() && lane_tasks_ == 0; }
  // Time of the earliest task; empty() must be false.
  double next_time() const;
  // Runs the earliest task, advancing now() to its time if that is later.
  void run_next();
  uint64_t tasks_run() const { return tasks_run_; }
  size_t tasks_queued() const { return timers_.size() + lane_tasks_; }

 private:
  enum class Kind : uint8_t { function, resume, cancel };
  struct Task {
    double time;
    int priority;
    uint64_t sequence;
    uint32_t process;
    Kind kind;
    detail::StateBase* state;  // resume/cancel: holds a reference
    std::coroutine_handle<> handle;
    std::function<void()> function;
  };
  // A queue of tasks due at the time they were scheduled, for one priority.
  struct Lane {
    int priority = 0;
    std::vector<Task> tasks;  // tasks[head...] are queued
    size_t head = 0;
    bool empty() const { return head == tasks.size(); }
    Task& front() { return tasks[head]; }
  };
  // A timer's place in the heap: its task's order and the slot of timer_tasks_ holding it.
  // Trivially copied, so the heap's sifts move 24 bytes, not a Task and its std::function.
  struct Timer {
    double time;
    uint64_t sequence;
    int priority;
    uint32_t slot;
  };
  // A future sent by a task at `time`.
  Future<Void> ready_at(double time, int priority);
  double instant_after_now() const;  // the next representable time after now_
  void push(Task task);
  // The queue holding the next task to run (nullptr: the timers). Not empty().
  Lane* next_lane();
  Task take_next();

  std::vector<Timer> timers_;       // a heap, earliest first
  std::vector<Task> timer_tasks_;   // slots; those no timer names are free
  std::vector<uint32_t> free_timer_slots_;
  std::vector<Lane> lanes_;  // one per priority seen, few
  size_t lane_tasks_ = 0;
  double now_ = 0;
  uint64_t next_sequence_ = 0;
  uint64_t tasks_run_ = 0;
  uint32_t current_process_ = 0;
  int current_priority_ = priority::normal;
  std::function<double(double)> delay_adjust_;
};

// The current thread's scheduler. KEEL_ASSERTs that one is installed.
Scheduler& scheduler();
bool has_scheduler();

// Installs a scheduler as the current thread's for its lifetime (restores the previous one).
class ScopedScheduler {
 public:
  explicit ScopedScheduler(Scheduler& scheduler);
  ~ScopedScheduler();
  ScopedScheduler(const ScopedScheduler&) = delete;
  ScopedScheduler& operator=(const ScopedScheduler&) = delete;

 private:
  Scheduler* previous_;
};

inline double now() { return scheduler().now(); }
inline Future<Void> delay(double seconds, int priority = priority::normal) {
  return scheduler().delay(seconds, priority);
}
// Lets every other task due now run first.
inline Future<Void> yield(int priority = priority::normal) { return scheduler().delay(0, priority); }
// Lets every other task due now run first, and what the world takes in before its clock moves:
// the real world's loop reads its sockets and finished disk work (their tasks are due now) before
// it runs this. A long piece of work split by yield() runs in one pass of the loop, as one stall
// of every request waiting to be read; split by yield_to_io() it lets them in between pieces.
inline Future<Void> yield_to_io(int priority = priority::normal) { return scheduler().after_now(priority); }

}  // namespace keel
