#include "runtime/stream.h"

#include <gtest/gtest.h>

#include <vector>

#include "runtime/test_support.h"

namespace keel {
namespace {

class StreamTest : public ::testing::Test, public testing::SchedulerFixture {};

Future<std::vector<int>> collect(FutureStream<int> stream, Error* end) {
  std::vector<int> values;
  try {
    while (true) values.push_back(co_await stream.next());
  } catch (const Error& error) {
    *end = error;
  }
  co_return values;
}

TEST_F(StreamTest, DeliversInOrderThenEnds) {
  PromiseStream<int> stream;
  Error end;
  Future<std::vector<int>> values = collect(stream.get_future(), &end);
  stream.send(1);
  stream.send(2);
  run_until_idle();
  stream.send(3);
  stream.close();
  run_until_idle();
  ASSERT_TRUE(values.is_ready());
  EXPECT_EQ(values.get(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(end.code(), errc::end_of_stream);
}

TEST_F(StreamTest, DroppingAllSendersBreaksTheStream) {
  Error end;
  Future<std::vector<int>> values;
  {
    PromiseStream<int> stream;
    values = collect(stream.get_future(), &end);
    stream.send(9);
  }
  run_until_idle();
  EXPECT_EQ(values.get(), (std::vector<int>{9}));
  EXPECT_EQ(end.code(), errc::broken_promise);
}

TEST_F(StreamTest, CancelledConsumerLosesNoValue) {
  PromiseStream<int> stream;
  FutureStream<int> consumer = stream.get_future();
  {
    Future<int> abandoned = consumer.next();  // waiter whose future is dropped
  }
  stream.send(5);
  Future<int> next = consumer.next();
  ASSERT_TRUE(next.is_ready());
  EXPECT_EQ(next.get(), 5);
}

TEST_F(StreamTest, SendErrorEndsAfterQueuedValues) {
  PromiseStream<int> stream;
  stream.send(1);
  stream.send_error(Error(errc::io_error));
  Error end;
  Future<std::vector<int>> values = collect(stream.get_future(), &end);
  run_until_idle();
  EXPECT_EQ(values.get(), (std::vector<int>{1}));
  EXPECT_EQ(end.code(), errc::io_error);
}

}  // namespace
}  // namespace keel
