#include "runtime/combinators.h"

#include <gtest/gtest.h>

#include "runtime/test_support.h"

namespace keel {
namespace {

class CombinatorsTest : public ::testing::Test, public testing::SchedulerFixture {};

Future<int> after(double seconds, int value) {
  co_await delay(seconds);
  co_return value;
}

Future<int> guarded(double seconds, bool* destroyed) {
  testing::DestroyFlag guard{destroyed};
  co_await delay(seconds);
  co_return 1;
}

TEST_F(CombinatorsTest, WhenAllKeepsInputOrder) {
  Future<std::vector<int>> all = when_all<int>({after(3, 1), after(1, 2), after(2, 3)});
  run_until_idle();
  EXPECT_EQ(all.get(), (std::vector<int>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(scheduler_.now(), 3);
}

TEST_F(CombinatorsTest, RaceReturnsFirstAndCancelsLoser) {
  bool loser_destroyed = false;
  Future<std::variant<int, int>> first = race(after(1, 10), guarded(5, &loser_destroyed));
  while (!first.is_ready()) scheduler_.run_next();
  EXPECT_EQ(first.get().index(), 0u);
  EXPECT_EQ(std::get<0>(first.get()), 10);
  EXPECT_TRUE(loser_destroyed);
}

TEST_F(CombinatorsTest, RacePropagatesFirstError) {
  Promise<int> failing;
  Future<std::variant<int, Void>> first = race(failing.get_future(), delay(10));
  failing.send_error(Error(errc::io_error));
  ASSERT_TRUE(first.is_error());
  EXPECT_EQ(first.error().code(), errc::io_error);
}

TEST_F(CombinatorsTest, DroppingRaceCancelsInputs) {
  bool destroyed = false;
  {
    Future<std::variant<int, Void>> first = race(guarded(5, &destroyed), delay(10));
  }
  EXPECT_TRUE(destroyed);
}

TEST_F(CombinatorsTest, WhenAnyGivesIndex) {
  Future<size_t> any = when_any({delay(3), delay(1), delay(2)});
  while (!any.is_ready()) scheduler_.run_next();
  EXPECT_EQ(any.get(), 1u);
}

TEST_F(CombinatorsTest, TimeoutErrorFires) {
  Future<int> slow = timeout_error(after(10, 1), 2);
  run_until_idle();
  ASSERT_TRUE(slow.is_error());
  EXPECT_EQ(slow.error().code(), errc::timed_out);
  Future<std::optional<int>> fast = timeout(after(1, 4), 2);
  run_until_idle();
  EXPECT_EQ(fast.get(), std::optional<int>(4));
}

Future<Void> fail_after(double seconds) {
  co_await delay(seconds);
  throw Error(errc::io_error);
}

Future<Void> guarded_void(double seconds, bool* destroyed) {
  testing::DestroyFlag guard{destroyed};
  co_await delay(seconds);
  co_return Void{};
}

// Counts its copies: ready() must wait for a value without copying it (a batch's vector of
// values, read by each of its keys' readers, used to be copied once per reader).
struct CopyCounted {
  static inline int copies = 0;
  CopyCounted() = default;
  CopyCounted(const CopyCounted&) { ++copies; }
  CopyCounted(CopyCounted&&) noexcept = default;
  CopyCounted& operator=(const CopyCounted&) {
    ++copies;
    return *this;
  }
  CopyCounted& operator=(CopyCounted&&) noexcept = default;
};

TEST_F(CombinatorsTest, ReadyWaitsWithoutCopyingTheValue) {
  CopyCounted::copies = 0;
  Promise<CopyCounted> promise;
  Future<CopyCounted> value = promise.get_future();
  Future<Void> waited = ready(value);
  Future<Void> also = ready(value);
  EXPECT_FALSE(waited.is_ready());
  promise.send(CopyCounted{});
  run_until_idle();
  EXPECT_TRUE(waited.is_ready());
  EXPECT_TRUE(also.is_ready());
  EXPECT_TRUE(ready(value).is_ready());  // already ready: at once
  EXPECT_EQ(CopyCounted::copies, 0);

  Promise<CopyCounted> failing;
  Future<CopyCounted> failed = failing.get_future();
  Future<Void> waited_for_error = ready(failed);
  failing.send_error(Error(errc::io_error));
  run_until_idle();
  EXPECT_TRUE(waited_for_error.is_ready());
  EXPECT_FALSE(waited_for_error.is_error());  // an error is readiness too
  EXPECT_EQ(CopyCounted::copies, 0);
}

TEST_F(CombinatorsTest, NeverStaysPendingAndCancels) {
  Future<Void> forever = never();
  run_until_idle();
  EXPECT_FALSE(forever.is_ready());
  Future<std::variant<Void, Void>> first = race(never(), delay(1));
  run_until_idle();
  EXPECT_EQ(first.get().index(), 1u);
}

TEST_F(CombinatorsTest, ActorCollectionReportsFirstErrorAndReleasesFinished) {
  ActorCollection actors;
  bool destroyed = false;
  actors.add(guarded_void(1, &destroyed));
  actors.add(fail_after(2));
  EXPECT_EQ(actors.size(), 2u);
  Future<Void> failure = actors.result();
  run_until_idle();
  EXPECT_EQ(actors.size(), 0u);
  ASSERT_TRUE(failure.is_error());
  EXPECT_EQ(failure.error().code(), errc::io_error);
}

TEST_F(CombinatorsTest, DroppingActorCollectionCancelsMembers) {
  bool destroyed = false;
  {
    ActorCollection actors;
    actors.add(guarded_void(100, &destroyed));
  }
  EXPECT_TRUE(destroyed);
}

}  // namespace
}  // namespace keel
