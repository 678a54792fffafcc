#include "runtime/async_queue.h"

#include <gtest/gtest.h>

#include <vector>

#include "runtime/test_support.h"

namespace keel {
namespace {

class AsyncQueueTest : public ::testing::Test, public testing::SchedulerFixture {};

// Takes every queued item after each wake-up, `rounds` times; appends them to *taken.
Future<Void> take_all(AsyncQueue<int>* queue, int rounds, std::vector<int>* taken) {
  for (int round = 0; round < rounds; ++round) {
    co_await queue->when_not_empty();
    while (!queue->empty()) {
      taken->push_back(queue->front());
      queue->pop_front();
    }
  }
  co_return Void{};
}

TEST_F(AsyncQueueTest, ReadyAtOnceWhileItemsAreQueued) {
  AsyncQueue<int> queue;
  queue.push(1);
  Future<Void> ready = queue.when_not_empty();
  EXPECT_TRUE(ready.is_ready());
  EXPECT_EQ(queue.size(), 1u);  // waiting takes nothing
}

TEST_F(AsyncQueueTest, PushWakesTheWaiterWithoutRunningItInline) {
  AsyncQueue<int> queue;
  std::vector<int> taken;
  Future<Void> taker = take_all(&queue, 2, &taken);
  queue.push(1);
  queue.push(2);
  EXPECT_TRUE(taken.empty());  // scheduled, not run inside push()
  EXPECT_EQ(queue.size(), 2u);
  run_until_idle();
  EXPECT_EQ(taken, (std::vector<int>{1, 2}));
  EXPECT_FALSE(taker.is_ready());
  queue.push(3);
  run_until_idle();
  ASSERT_TRUE(taker.is_ready());
  EXPECT_EQ(taken, (std::vector<int>{1, 2, 3}));
}

TEST_F(AsyncQueueTest, ItemsStayInViewUntilTaken) {
  AsyncQueue<int> queue;
  for (int i = 1; i <= 3; ++i) queue.push(i);
  std::vector<int> seen(queue.begin(), queue.end());
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  const AsyncQueue<int>& view = queue;
  EXPECT_EQ(view.front(), 1);
  queue.clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.when_not_empty().is_ready());
}

TEST_F(AsyncQueueTest, CancelledWaiterLosesNothing) {
  AsyncQueue<int> queue;
  {
    Future<Void> abandoned = queue.when_not_empty();
  }
  queue.push(7);  // wakes no one
  run_until_idle();
  std::vector<int> taken;
  Future<Void> taker = take_all(&queue, 1, &taken);
  run_until_idle();
  ASSERT_TRUE(taker.is_ready());
  EXPECT_EQ(taken, (std::vector<int>{7}));
}

}  // namespace
}  // namespace keel
