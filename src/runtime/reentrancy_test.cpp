// Regression tests for ownership cycles and re-entrancy: callbacks that drop the last Future of
// the combinator running them, consumers cancelled between wake-up and resumption, values read
// after a move-out. Run under AddressSanitizer in CI: a failure here is usually a use-after-free.
#include <gtest/gtest.h>

#include "runtime/combinators.h"
#include "runtime/stream.h"
#include "runtime/test_support.h"

namespace keel {
namespace {

class ReentrancyTest : public ::testing::Test, public testing::SchedulerFixture {};

// A race input that takes over the only Future of the race's own result.
Future<int> steal_race_result(Future<std::variant<int, Void>>* slot) {
  co_await delay(0.5);
  Future<std::variant<int, Void>> kept = std::move(*slot);
  co_await never();
  co_return 1;
}

TEST_F(ReentrancyTest, RaceWhoseLoserOwnsTheResult) {
  Future<std::variant<int, Void>> result;
  Future<std::variant<int, Void>> started = race(steal_race_result(&result), delay(1.0));
  result = std::move(started);
  run_until_idle();  // the delay wins; dropping the loser drops the race's last Future
}

Future<Void> steal_any_result(Future<size_t>* slot) {
  co_await delay(0.5);
  Future<size_t> kept = std::move(*slot);
  co_await never();
  co_return Void{};
}

TEST_F(ReentrancyTest, WhenAnyWhoseLoserOwnsTheResult) {
  Future<size_t> result;
  std::vector<Future<Void>> inputs;
  inputs.push_back(steal_any_result(&result));
  inputs.push_back(delay(1.0));
  Future<size_t> started = when_any(std::move(inputs));
  result = std::move(started);
  run_until_idle();
}

Future<int> consume_one(FutureStream<int> stream) {
  int value = co_await stream.next();
  co_return value;
}

TEST_F(ReentrancyTest, StreamConsumerCancelledAfterWakeUpLosesNothing) {
  PromiseStream<int> sender;
  FutureStream<int> stream = sender.get_future();
  Future<int> consumer = consume_one(stream);
  sender.send(42);           // the consumer is woken; its resumption is queued
  consumer = Future<int>();  // and cancelled before it runs
  run_until_idle();
  Future<int> next = stream.next();
  ASSERT_TRUE(next.is_ready());
  EXPECT_EQ(next.get(), 42);
}

Future<std::string> take_string(Future<std::string> input) {
  std::string value = co_await std::move(input);
  co_return value;
}

TEST_F(ReentrancyTest, NoMoveOutWhileAPromiseCanStillMakeFutures) {
  Promise<std::string> promise;
  Future<std::string> taken = take_string(promise.get_future());
  promise.send(std::string(100, 'x'));
  run_until_idle();
  EXPECT_EQ(taken.get().size(), 100u);
  EXPECT_EQ(promise.get_future().get().size(), 100u);
}

Future<Void> fail_after_a_second() {
  co_await delay(1);
  throw Error(errc::io_error);
}

Future<Void> own_collection(ActorCollection** out) {
  ActorCollection actors;
  *out = &actors;
  actors.add(fail_after_a_second());
  co_await never();
  co_return Void{};
}

TEST_F(ReentrancyTest, ActorCollectionDestroyedWhileReportingAFailure) {
  ActorCollection* actors = nullptr;
  Future<Void> owner = own_collection(&actors);
  Future<std::variant<Void, Void>> first = race(actors->result(), std::move(owner));
  run_until_idle();  // the failure wins the race, which drops the owner, which destroys the collection
  ASSERT_TRUE(first.is_error());
  EXPECT_EQ(first.error().code(), errc::io_error);
}

}  // namespace
}  // namespace keel
