#include "runtime/scheduler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "runtime/test_support.h"

namespace keel {
namespace {

class SchedulerTest : public ::testing::Test, public testing::SchedulerFixture {};

TEST_F(SchedulerTest, OrdersByTimeThenPriorityThenSequence) {
  std::string order;
  scheduler_.schedule(2, priority::normal, 0, [&] { order += "d"; });
  scheduler_.schedule(1, priority::low, 0, [&] { order += "c"; });
  scheduler_.schedule(1, priority::high, 0, [&] { order += "a"; });
  scheduler_.schedule(1, priority::high, 0, [&] { order += "b"; });
  run_until_idle();
  EXPECT_EQ(order, "abcd");
}

TEST_F(SchedulerTest, TasksDueNowKeepTheOrderOfOneQueue) {
  // Due now: the lanes (one per priority); due later or overdue: the heap. The order across
  // them is still (time, priority, sequence).
  std::string order;
  scheduler_.schedule(1, priority::low, 0, [&] { order += "b"; });     // heap, overdue once the clock is at 2
  scheduler_.schedule(1, priority::normal, 0, [&] { order += "a"; });  // heap
  scheduler_.advance_to(2);
  scheduler_.schedule(2, priority::low, 0, [&] { order += "f"; });      // lane low
  scheduler_.schedule(2, priority::high, 0, [&] { order += "c"; });     // lane high
  scheduler_.schedule(3, priority::high, 0, [&] { order += "h"; });     // heap
  scheduler_.schedule(2, priority::normal, 0, [&] {                     // lane normal
    order += "d";
    scheduler_.schedule(2, priority::normal, 0, [&] { order += "e"; });  // after d's lane-mates
  });
  scheduler_.schedule(2, priority::low, 0, [&] { order += "g"; });  // lane low, after f
  EXPECT_EQ(scheduler_.tasks_queued(), 7u);
  EXPECT_DOUBLE_EQ(scheduler_.next_time(), 1);
  run_until_idle();
  EXPECT_EQ(order, "abcdefgh");
  EXPECT_TRUE(scheduler_.empty());
}

TEST_F(SchedulerTest, TimeNeverGoesBackwards) {
  scheduler_.advance_to(5);
  double seen = -1;
  scheduler_.schedule(1, priority::normal, 0, [&] { seen = scheduler_.now(); });
  run_until_idle();
  EXPECT_DOUBLE_EQ(seen, 5);
}

TEST_F(SchedulerTest, TasksCarryTheirProcess) {
  uint32_t seen = 0;
  scheduler_.schedule(0, priority::normal, 7, [&] { seen = scheduler_.current_process(); });
  run_until_idle();
  EXPECT_EQ(seen, 7u);
}

Future<uint32_t> process_after_wait() {
  co_await delay(1);
  co_return scheduler().current_process();
}

TEST_F(SchedulerTest, CoroutinesResumeInTheProcessThatCreatedThem) {
  scheduler_.set_current_process(3);
  Future<uint32_t> result = process_after_wait();
  scheduler_.set_current_process(0);
  run_until_idle();
  EXPECT_EQ(result.get(), 3u);
}

TEST_F(SchedulerTest, DelayAdjustStretchesDelays) {
  scheduler_.set_delay_adjust([](double seconds) { return seconds * 2; });
  Future<Void> later = delay(1.5);
  run_until_idle();
  EXPECT_DOUBLE_EQ(scheduler_.now(), 3);
}

// Waits until `limit` seconds have passed since `start`, as roles do, judging by now() each
// turn; gives up after 100 turns.
Future<int> wait_for(double start, double limit) {
  int turns = 0;
  while (now() - start < limit && turns < 100) {
    co_await delay(limit - (now() - start));
    ++turns;
  }
  co_return turns;
}

TEST_F(SchedulerTest, APositiveDelayBelowTheClocksResolutionStillMovesTheClock) {
  // Here 3.6e-15 s of the 30 s are left, half a step of the clock at 34 s: now() + the rest
  // rounds back to now().
  const double start = 4.222335381455555;
  scheduler_.advance_to(34.22233538145555);
  ASSERT_LT(now() - start, 30.0);
  ASSERT_EQ(now() + (30.0 - (now() - start)), now());
  Future<int> turns = wait_for(start, 30.0);
  run_until_idle();
  EXPECT_EQ(turns.get(), 1);
  EXPECT_GT(scheduler_.now(), 34.22233538145555);
  Future<Void> none = delay(0);
  const double before = scheduler_.now();
  run_until_idle();
  EXPECT_EQ(scheduler_.now(), before);
}

Future<Void> append_after_io(std::string* order) {
  co_await yield_to_io();
  *order += "c";
  co_return Void{};
}

TEST_F(SchedulerTest, YieldToIoRunsAfterWhatIsScheduledForNowMeanwhile) {
  std::string order;
  scheduler_.advance_to(2);
  Future<Void> done = append_after_io(&order);
  scheduler_.schedule(2, priority::low, 0, [&] { order += "a"; });
  // The world's loop runs only what is due, then takes in the network: input scheduled now
  // still goes first, where after a yield() it would come after.
  while (!scheduler_.empty() && scheduler_.next_time() <= scheduler_.now()) scheduler_.run_next();
  EXPECT_EQ(order, "a");
  EXPECT_FALSE(scheduler_.empty());
  EXPECT_GT(scheduler_.next_time(), 2);
  scheduler_.schedule(2, priority::low, 0, [&] { order += "b"; });
  scheduler_.advance_to(2.001);
  run_until_idle();
  EXPECT_EQ(order, "abc");
  EXPECT_TRUE(done.is_ready());
  EXPECT_DOUBLE_EQ(scheduler_.now(), 2.001);
}

TEST_F(SchedulerTest, YieldToIoIsNotStretched) {
  scheduler_.set_delay_adjust([](double seconds) { return seconds + 1; });
  scheduler_.advance_to(2);
  Future<Void> later = yield_to_io();
  run_until_idle();
  EXPECT_LT(scheduler_.now(), 2.000001);
}

}  // namespace
}  // namespace keel
