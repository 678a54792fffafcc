#include "runtime/scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace keel {
namespace {
thread_local Scheduler* current_scheduler = nullptr;

// Whether `a` runs after `b`: by time, then higher priority first, then first scheduled.
template <class A, class B>
bool later(const A& a, const B& b) {
  if (a.time != b.time) return a.time > b.time;
  if (a.priority != b.priority) return a.priority < b.priority;
  return a.sequence > b.sequence;
}
}  // namespace

namespace detail {
void schedule_resume(StateBase* state, std::coroutine_handle<> handle) {
  scheduler().schedule_resume(state, handle);
}
void schedule_cancel(StateBase* state) { scheduler().schedule_cancel(state); }
uint32_t current_process_id() {
  return current_scheduler ? current_scheduler->current_process() : 0;
}
}  // namespace detail

Scheduler& scheduler() {
  KEEL_ASSERT(current_scheduler != nullptr);
  return *current_scheduler;
}
bool has_scheduler() { return current_scheduler != nullptr; }

ScopedScheduler::ScopedScheduler(Scheduler& scheduler) : previous_(current_scheduler) {
  current_scheduler = &scheduler;
}
ScopedScheduler::~ScopedScheduler() { current_scheduler = previous_; }

Scheduler::~Scheduler() {
  // Dropping queued tasks releases what they hold; frames still suspended are owned elsewhere.
  std::vector<Task> tasks;
  for (const Timer& timer : timers_) tasks.push_back(std::move(timer_tasks_[timer.slot]));
  timers_.clear();
  for (Lane& lane : lanes_) {
    for (size_t i = lane.head; i < lane.tasks.size(); ++i) tasks.push_back(std::move(lane.tasks[i]));
  }
  lanes_.clear();
  for (Task& task : tasks) {
    if (task.state != nullptr) task.state->del_ref();
  }
}

void Scheduler::advance_to(double time) {
  KEEL_ASSERT(time >= now_);
  now_ = time;
}

void Scheduler::push(Task task) {
  task.sequence = next_sequence_++;
  if (task.time == now_) {
    for (Lane& lane : lanes_) {
      if (lane.priority != task.priority) continue;
      lane.tasks.push_back(std::move(task));
      ++lane_tasks_;
      return;
    }
    lanes_.push_back(Lane{task.priority, {}, 0});
    lanes_.back().tasks.push_back(std::move(task));
    ++lane_tasks_;
    return;
  }
  uint32_t slot = 0;
  if (free_timer_slots_.empty()) {
    slot = static_cast<uint32_t>(timer_tasks_.size());
    timer_tasks_.push_back(std::move(task));
  } else {
    slot = free_timer_slots_.back();
    free_timer_slots_.pop_back();
    timer_tasks_[slot] = std::move(task);
  }
  const Task& placed = timer_tasks_[slot];
  timers_.push_back(Timer{placed.time, placed.sequence, placed.priority, slot});
  std::push_heap(timers_.begin(), timers_.end(), later<Timer, Timer>);
}

Scheduler::Lane* Scheduler::next_lane() {
  Lane* best = nullptr;
  for (Lane& lane : lanes_) {
    if (!lane.empty() && (best == nullptr || later(best->front(), lane.front()))) best = &lane;
  }
  if (best != nullptr && !timers_.empty() && later(best->front(), timers_.front())) return nullptr;
  return best;
}

Scheduler::Task Scheduler::take_next() {
  Lane* lane = next_lane();
  if (lane == nullptr) {
    std::pop_heap(timers_.begin(), timers_.end(), later<Timer, Timer>);
    const uint32_t slot = timers_.back().slot;
    timers_.pop_back();
    free_timer_slots_.push_back(slot);
    return std::move(timer_tasks_[slot]);
  }
  Task task = std::move(lane->front());
  ++lane->head;
  --lane_tasks_;
  if (lane->empty()) {
    lane->tasks.clear();
    lane->head = 0;
  } else if (lane->head >= 1024 && lane->head * 2 >= lane->tasks.size()) {
    // A lane that never empties: drop the run part now and then.
    lane->tasks.erase(lane->tasks.begin(), lane->tasks.begin() + static_cast<std::ptrdiff_t>(lane->head));
    lane->head = 0;
  }
  return task;
}

void Scheduler::schedule(double time, int priority, uint32_t process, std::function<void()> task) {
  push(Task{std::max(time, now_), priority, 0, process, Kind::function, nullptr, {}, std::move(task)});
}

void Scheduler::schedule_resume(detail::StateBase* state, std::coroutine_handle<> handle) {
  state->add_ref();
  push(Task{now_, current_priority_, 0, state->process_id_, Kind::resume, state, handle, {}});
}

void Scheduler::schedule_cancel(detail::StateBase* state) {
  state->add_ref();
  push(Task{now_, priority::cancel, 0, state->process_id_, Kind::cancel, state, {}, {}});
}

Future<Void> Scheduler::delay(double seconds, int priority) {
  if (delay_adjust_) seconds = delay_adjust_(seconds);
  if (!(seconds > 0)) return ready_at(now_, priority);
  // A positive delay moves the clock by at least one step: below the clock's resolution,
  // now_ + seconds == now_, and a loop that waits for a deadline by delay(deadline - now())
  // would spin without time passing.
  return ready_at(std::max(now_ + seconds, instant_after_now()), priority);
}

Future<Void> Scheduler::after_now(int priority) { return ready_at(instant_after_now(), priority); }

double Scheduler::instant_after_now() const { return std::nextafter(now_, std::numeric_limits<double>::infinity()); }

Future<Void> Scheduler::ready_at(double time, int priority) {
  Promise<Void> promise;
  Future<Void> future = promise.get_future();
  schedule(time, priority, current_process_, [promise = std::move(promise)] { promise.send(Void{}); });
  return future;
}

double Scheduler::next_time() const {
  KEEL_ASSERT(!empty());
  std::optional<double> time;
  if (!timers_.empty()) time = timers_.front().time;
  for (const Lane& lane : lanes_) {
    if (!lane.empty()) time = time ? std::min(*time, lane.tasks[lane.head].time) : lane.tasks[lane.head].time;
  }
  return *time;
}

void Scheduler::run_next() {
  KEEL_ASSERT(!empty());
  Task task = take_next();
  if (task.time > now_) now_ = task.time;
  ++tasks_run_;
  current_process_ = task.process;
  current_priority_ = task.priority;
  switch (task.kind) {
    case Kind::function:
      task.function();
      break;
    case Kind::resume:
      // Skip if the frame was destroyed (cancelled) since the resumption was queued.
      if (task.state->coroutine_ == task.handle) task.handle.resume();
      task.state->del_ref();
      break;
    case Kind::cancel:
      task.state->destroy_unwanted_coroutine();
      task.state->del_ref();
      break;
  }
}

}  // namespace keel
