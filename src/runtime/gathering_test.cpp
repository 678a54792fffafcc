#include "runtime/gathering.h"

#include <gtest/gtest.h>

namespace keel {
namespace {

TEST(GatheringTest, ALoneClientNeverWaits) {
  Gathering gathering(0.5);
  for (int i = 0; i < 3; ++i) {
    gathering.answered(1, 0.001);
    EXPECT_FALSE(gathering.should_wait(1));
    gathering.took(1);
  }
}

TEST(GatheringTest, WaitsForAsManyAsWereAnswered) {
  Gathering gathering(0.5);
  gathering.answered(2, 0.001);
  gathering.answered(1, 0.001);  // two batches answered before the next one starts
  EXPECT_TRUE(gathering.should_wait(1));
  EXPECT_TRUE(gathering.should_wait(2));
  EXPECT_FALSE(gathering.should_wait(3));
  gathering.took(2);  // a batch that could not wait longer took two
  EXPECT_EQ(gathering.returning(), 1u);
  EXPECT_FALSE(gathering.should_wait(1));
  gathering.took(5);  // more than expected: nothing is expected any more
  EXPECT_EQ(gathering.returning(), 0u);
}

TEST(GatheringTest, AWaitThatRanOutForgetsTheRest) {
  Gathering gathering(0.5);
  gathering.answered(50, 0.001);
  EXPECT_TRUE(gathering.should_wait(10));
  gathering.gave_up();
  EXPECT_FALSE(gathering.should_wait(1));
}

TEST(GatheringTest, WaitsAFractionOfTheBatchesSmoothedDuration) {
  Gathering gathering(0.5);
  EXPECT_EQ(gathering.wait_seconds(), 0.0);
  gathering.answered(1, 0.002);
  EXPECT_DOUBLE_EQ(gathering.wait_seconds(), 0.001);
  EXPECT_DOUBLE_EQ(gathering.pause_seconds(), 0.00025);
  gathering.answered(1, 0.004);  // the newest batch weighs a tenth
  EXPECT_DOUBLE_EQ(gathering.wait_seconds(), 0.5 * 0.0022);
  for (int i = 0; i < 100; ++i) gathering.answered(1, 1.0);  // slow batches: the wait stays short
  EXPECT_DOUBLE_EQ(gathering.wait_seconds(), 0.002);
}

TEST(GatheringTest, ABatchOfNoMeasurableDurationCountsInTheAverage) {
  Gathering gathering(0.5);
  gathering.answered(1, 0.0);  // answered within one reading of the clock
  gathering.answered(1, 0.002);
  EXPECT_DOUBLE_EQ(gathering.wait_seconds(), 0.5 * 0.0002);
}

TEST(GatheringTest, FractionZeroNeverWaits) {
  Gathering gathering(0);
  gathering.answered(50, 0.001);
  EXPECT_FALSE(gathering.should_wait(1));
}

}  // namespace
}  // namespace keel
