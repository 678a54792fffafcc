#include "runtime/future.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "runtime/combinators.h"
#include "runtime/test_support.h"

namespace keel {
namespace {

class FutureTest : public ::testing::Test, public testing::SchedulerFixture {};

Future<int> add_one(Future<int> input) {
  int value = co_await input;
  co_return value + 1;
}

Future<int> throws_error(Future<Void> gate) {
  co_await gate;
  throw Error(errc::not_committed);
}

Future<Void> wait_forever(Future<Void> gate, bool* destroyed, bool* finished) {
  testing::DestroyFlag guard{destroyed};
  co_await gate;
  *finished = true;
  co_return Void{};
}

TEST_F(FutureTest, PromiseDeliversValue) {
  Promise<int> promise;
  Future<int> future = promise.get_future();
  EXPECT_FALSE(future.is_ready());
  promise.send(41);
  ASSERT_TRUE(future.is_ready());
  EXPECT_EQ(future.get(), 41);
}

TEST_F(FutureTest, ReadyFuturesFromValueAndError) {
  Future<int> value(7);
  EXPECT_EQ(value.get(), 7);
  Future<int> failed{Error(errc::timed_out)};
  ASSERT_TRUE(failed.is_error());
  EXPECT_EQ(failed.error().code(), errc::timed_out);
  EXPECT_THROW(failed.get(), Error);
}

TEST_F(FutureTest, CoroutineStartsEagerlyAndCompletesWithReadyInput) {
  Future<int> result = add_one(Future<int>(1));
  ASSERT_TRUE(result.is_ready());  // no suspension: completed inside the call
  EXPECT_EQ(result.get(), 2);
}

TEST_F(FutureTest, WaitersResumeThroughTheSchedulerNotInline) {
  Promise<int> promise;
  Future<int> result = add_one(promise.get_future());
  promise.send(10);
  EXPECT_FALSE(result.is_ready());  // the waiter is queued, not run inside send()
  run_until_idle();
  ASSERT_TRUE(result.is_ready());
  EXPECT_EQ(result.get(), 11);
}

TEST_F(FutureTest, ErrorsPropagateThroughCoroutines) {
  Promise<Void> gate;
  Future<int> thrower = throws_error(gate.get_future());
  Future<int> chained = add_one(thrower);
  gate.send(Void{});
  run_until_idle();
  ASSERT_TRUE(chained.is_error());
  EXPECT_EQ(chained.error().code(), errc::not_committed);
}

TEST_F(FutureTest, DroppingPromiseBreaksIt) {
  Future<int> future;
  {
    Promise<int> promise;
    future = promise.get_future();
  }
  ASSERT_TRUE(future.is_error());
  EXPECT_EQ(future.error().code(), errc::broken_promise);
}

TEST_F(FutureTest, DroppingLastFutureCancelsCoroutineAndRunsDestructors) {
  Promise<Void> gate;
  bool destroyed = false;
  bool finished = false;
  {
    Future<Void> running = wait_forever(gate.get_future(), &destroyed, &finished);
    EXPECT_FALSE(destroyed);
    EXPECT_TRUE(gate.has_futures());
  }
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(gate.has_futures());  // the awaited future was released too
  gate.send(Void{});
  run_until_idle();
  EXPECT_FALSE(finished);
}

Future<Void> outer(Future<Void> gate, bool* inner_destroyed, bool* inner_finished) {
  co_await wait_forever(gate, inner_destroyed, inner_finished);
  co_return Void{};
}

TEST_F(FutureTest, CancellationCascadesToCallees) {
  Promise<Void> gate;
  bool destroyed = false;
  bool finished = false;
  Future<Void> top = outer(gate.get_future(), &destroyed, &finished);
  top = Future<Void>();
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(gate.has_futures());
}

TEST_F(FutureTest, CopiesKeepCoroutineAlive) {
  Promise<Void> gate;
  bool destroyed = false;
  bool finished = false;
  Future<Void> first = wait_forever(gate.get_future(), &destroyed, &finished);
  Future<Void> second = first;
  first = Future<Void>();
  EXPECT_FALSE(destroyed);
  gate.send(Void{});
  run_until_idle();
  EXPECT_TRUE(finished);
  EXPECT_TRUE(second.is_ready());
}

TEST_F(FutureTest, CancelledAfterResumptionWasQueuedDoesNotResume) {
  Promise<Void> gate;
  bool destroyed = false;
  bool finished = false;
  Future<Void> running = wait_forever(gate.get_future(), &destroyed, &finished);
  gate.send(Void{});  // resumption queued
  running = Future<Void>();
  EXPECT_TRUE(destroyed);
  run_until_idle();
  EXPECT_FALSE(finished);
}

// A coroutine that drops the last Future to itself while executing is destroyed at its next
// suspension, before it can run again.
struct SelfHolder {
  Future<Void> self;
  bool destroyed = false;
  bool ran_after = false;
};

Future<Void> drops_itself(SelfHolder* holder, Future<Void> gate) {
  testing::DestroyFlag guard{&holder->destroyed};
  co_await yield();
  holder->self = Future<Void>();  // last reference to this very coroutine
  co_await gate;
  holder->ran_after = true;
  co_return Void{};
}

TEST_F(FutureTest, CancellingAnExecutingCoroutineIsDeferredToItsSuspension) {
  SelfHolder holder;
  Promise<Void> gate;
  holder.self = drops_itself(&holder, gate.get_future());
  run_until_idle();
  EXPECT_TRUE(holder.destroyed);
  gate.send(Void{});
  run_until_idle();
  EXPECT_FALSE(holder.ran_after);
}

Future<int> throws_std_exception() {
  co_await yield();
  throw std::runtime_error("bug");
}

TEST_F(FutureTest, NonErrorExceptionsBecomeInternalError) {
  Future<int> result = throws_std_exception();
  run_until_idle();
  ASSERT_TRUE(result.is_error());
  EXPECT_EQ(result.error().code(), errc::internal_error);
}

Future<std::unique_ptr<int>> make_unique_value(Future<Void> gate) {
  co_await gate;
  co_return std::make_unique<int>(5);
}

Future<int> consume_unique(Future<std::unique_ptr<int>> input) {
  std::unique_ptr<int> value = co_await std::move(input);
  co_return *value;
}

TEST_F(FutureTest, SoleFutureMovesMoveOnlyValues) {
  Promise<Void> gate;
  Future<int> result = consume_unique(make_unique_value(gate.get_future()));
  gate.send(Void{});
  run_until_idle();
  EXPECT_EQ(result.get(), 5);
}

TEST_F(FutureTest, DelayCompletesInVirtualTime) {
  Future<Void> later = delay(2.5);
  run_until_idle();
  EXPECT_TRUE(later.is_ready());
  EXPECT_DOUBLE_EQ(scheduler_.now(), 2.5);
}

}  // namespace
}  // namespace keel
