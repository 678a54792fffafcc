#include "server/ratekeeper/rate_model.h"

#include <gtest/gtest.h>

namespace keel {
namespace {

constexpr double mib = 1024.0 * 1024;

RateModelSettings settings() { return RateModelSettings{100 * mib, 20 * mib, 5, 1.0, 5, 5}; }

StorageQueueSample sample(Tag tag, double window_mib, double durable_mib, bool reachable = true, double span = 5) {
  return StorageQueueSample{tag, reachable, static_cast<int64_t>(window_mib * mib), static_cast<int64_t>(durable_mib * mib),
                            span};
}

TEST(RateModel, NoLimitBelowTargetMinusSpring) {
  RateModel model(settings());
  model.add_released(1000);
  model.add_poll(0, {sample(1, 10, 0)});
  model.add_released(1000);
  model.add_poll(1, {sample(1, 79, 5)});
  EXPECT_TRUE(model.status().known);
  EXPECT_LT(model.status().transactions_per_second_limit, 0);
  EXPECT_EQ(model.status().limited_by, "");
  EXPECT_EQ(model.status().worst_window_bytes, static_cast<int64_t>(79 * mib));
  EXPECT_DOUBLE_EQ(model.status().released_per_second, 1000);
}

TEST(RateModel, AtTheTargetLetsInWhatTheEngineTakes) {
  // The window sits at the target; the engine takes 10 MiB/s while 40 MiB/s come in: the limit
  // is a quarter of the released rate.
  RateModel model(settings());
  model.add_poll(0, {sample(1, 70, 0)});
  model.add_released(2000);
  model.add_poll(1, {sample(1, 100, 10)});
  EXPECT_NEAR(model.status().transactions_per_second_limit, 2000 * 10.0 / 40.0, 1e-6);
  EXPECT_NE(model.status().limited_by.find("storage server 1"), std::string::npos) << model.status().limited_by;
}

TEST(RateModel, TheLimitFallsAsTheWindowGrowsAndStopsAtTheMinimum) {
  std::vector<double> limits;
  for (double window : {85.0, 90.0, 100.0, 120.0, 400.0}) {
    RateModel model(settings());
    model.add_poll(0, {sample(1, window, 0)});
    model.add_released(1000);
    model.add_poll(1, {sample(1, window, 10)});  // as much made durable as came in
    limits.push_back(model.status().transactions_per_second_limit);
  }
  // As much came in as was made durable (10 MiB/s); each may take that plus (100 MiB - window) / 5 s.
  EXPECT_NEAR(limits[0], 1000 * 13.0 / 10, 1e-6);
  EXPECT_NEAR(limits[1], 1000 * 12.0 / 10, 1e-6);
  EXPECT_NEAR(limits[2], 1000, 1e-6);
  EXPECT_NEAR(limits[3], 1000 * 6.0 / 10, 1e-6);
  EXPECT_DOUBLE_EQ(limits[4], 5);  // far above the target: the minimum

  RateModel stuck(settings());
  stuck.add_poll(0, {sample(1, 100, 10)});
  stuck.add_released(1000);
  stuck.add_poll(1, {sample(1, 120, 10)});  // nothing made durable: the minimum
  EXPECT_DOUBLE_EQ(stuck.status().transactions_per_second_limit, 5);
}

StorageQueueSample with_memory(StorageQueueSample sample, double used_mib, double budget_mib) {
  sample.memory_used_bytes = static_cast<int64_t>(used_mib * mib);
  sample.memory_budget_bytes = static_cast<int64_t>(budget_mib * mib);
  return sample;
}

TEST(RateModel, AProcessNearItsMemoryBudgetLowersTheRate) {
  // Budget 1000 MiB: target 700, spring 100. Below 600 no limit; from 600 the released rate is
  // held and falls linearly to the minimum at 700; a small window changes nothing.
  std::vector<double> limits;
  for (double used : {0.0, 550.0, 600.0, 650.0, 690.0, 700.0, 900.0}) {
    RateModel model(settings());
    model.add_poll(0, {with_memory(sample(1, 1, 0), used, 1000)});
    model.add_released(1000);
    model.add_poll(1, {with_memory(sample(1, 1, 1), used, 1000)});
    limits.push_back(model.status().transactions_per_second_limit);
    if (used >= 600) {
      EXPECT_NE(model.status().limited_by.find("process memory"), std::string::npos) << model.status().limited_by;
    }
  }
  EXPECT_LT(limits[0], 0);  // unknown memory (0): no limit
  EXPECT_LT(limits[1], 0);
  EXPECT_NEAR(limits[2], 1000, 1e-6);
  EXPECT_NEAR(limits[3], 500, 1e-6);
  EXPECT_NEAR(limits[4], 100, 1e-6);
  EXPECT_DOUBLE_EQ(limits[5], 5);
  EXPECT_DOUBLE_EQ(limits[6], 5);

  RateModel no_budget(settings());  // memory without a budget sets no limit
  no_budget.add_poll(0, {with_memory(sample(1, 1, 0), 5000, 0)});
  no_budget.add_released(1000);
  no_budget.add_poll(1, {with_memory(sample(1, 1, 1), 5000, 0)});
  EXPECT_LT(no_budget.status().transactions_per_second_limit, 0);
}

TEST(RateModel, MemoryStillGrowingIsSlowedSoTheNextWindowFitsWhatIsLeft) {
  // From 570 to 620 MiB in 1 s: 50 MiB/s for the next 5 s would need 250 MiB; 80 are left below
  // the 700 MiB target, so the limit is 1000 x 80 / 250 (the spring alone would allow 0.8).
  RateModel model(settings());
  model.add_poll(0, {with_memory(sample(1, 1, 0), 570, 1000)});
  model.add_released(1000);
  model.add_poll(1, {with_memory(sample(1, 1, 1), 620, 1000)});
  EXPECT_NEAR(model.status().transactions_per_second_limit, 1000 * 80.0 / 250, 1e-6);

  // Growing below the spring: 100 to 300 MiB in 1 s, 1000 MiB more in the next 5 s at that
  // rate, 400 left: limited to 40%.
  RateModel early(settings());
  early.add_poll(0, {with_memory(sample(1, 1, 0), 100, 1000)});
  early.add_released(1000);
  early.add_poll(1, {with_memory(sample(1, 1, 1), 300, 1000)});
  EXPECT_NEAR(early.status().transactions_per_second_limit, 400, 1e-6);
  EXPECT_NE(early.status().limited_by.find("process memory 300 MiB, +200 MiB/s"), std::string::npos)
      << early.status().limited_by;

  // Shrinking memory: the spring alone.
  RateModel shrinking(settings());
  shrinking.add_poll(0, {with_memory(sample(1, 1, 0), 670, 1000)});
  shrinking.add_released(1000);
  shrinking.add_poll(1, {with_memory(sample(1, 1, 1), 620, 1000)});
  EXPECT_NEAR(shrinking.status().transactions_per_second_limit, 800, 1e-6);
}

TEST(RateModel, TheLowerOfTheWindowAndMemoryLimitsHolds) {
  RateModel model(settings());
  model.add_poll(0, {with_memory(sample(1, 100, 0), 650, 1000)});
  model.add_released(2000);
  model.add_poll(1, {with_memory(sample(1, 100, 10), 650, 1000)});
  // Window: 2000 x 10 / 10 = 2000; memory: 2000 x 0.5 = 1000.
  EXPECT_NEAR(model.status().transactions_per_second_limit, 1000, 1e-6);
  EXPECT_NE(model.status().limited_by.find("process memory 650 MiB, +0 MiB/s (target 700 MiB of a 1000 MiB budget)"),
            std::string::npos)
      << model.status().limited_by;
}

TEST(RateModel, NoMoreThanFillsTheWindowToTheTargetOverItsSpan) {
  // 90 MiB/s come in and are made durable; a window spanning 5 s may take 100 MiB / 5 s = 20 MiB/s
  // of it, one spanning 20 s (its engine behind) 5 MiB/s.
  for (double span : {5.0, 20.0}) {
    RateModel model(settings());
    model.add_poll(0, {sample(1, 90, 0, true, span)});
    model.add_released(9000);
    model.add_poll(1, {sample(1, 90, 90, true, span)});
    EXPECT_NEAR(model.status().transactions_per_second_limit, 9000 * (100 / span) / 90, 1e-6) << span;
  }
}

TEST(RateModel, WhatAServerHasYetToPullCounts) {
  // 40 MiB/s come in; 1 s behind the committed version, 70 MiB count as 110: above the target.
  RateModel model(settings());
  model.add_poll(0, {sample(1, 30, 0)});
  model.add_released(1000);
  StorageQueueSample behind = sample(1, 70, 0);
  behind.pull_lag_seconds = 1;
  model.add_poll(1, {behind});
  EXPECT_EQ(model.status().worst_window_bytes, static_cast<int64_t>(110 * mib));
  EXPECT_GE(model.status().transactions_per_second_limit, 0);
  behind.pull_lag_seconds = 0;
  model.add_poll(2, {behind});
  EXPECT_LT(model.status().transactions_per_second_limit, 0);
}

TEST(RateModel, TheWorstServerSetsTheLimit) {
  RateModel model(settings());
  model.add_poll(0, {sample(1, 90, 0), sample(2, 100, 0)});
  model.add_released(1000);
  model.add_poll(1, {sample(1, 90, 10), sample(2, 100, 10)});
  EXPECT_NEAR(model.status().transactions_per_second_limit, 1000, 1e-6);
  EXPECT_NE(model.status().limited_by.find("storage server 2"), std::string::npos) << model.status().limited_by;
  EXPECT_EQ(model.status().worst_window_bytes, static_cast<int64_t>(100 * mib));
}

TEST(RateModel, AnUnreachableServerCountsWithItsLastAnswerUntilSilentTooLong) {
  RateModel model(settings());  // silence_seconds 5
  model.add_poll(0, {sample(1, 10, 0), sample(2, 150, 0)});
  model.add_poll(1, {sample(1, 10, 1), sample(2, 0, 0, false)});
  EXPECT_DOUBLE_EQ(model.status().transactions_per_second_limit, 5);  // the last answer: stuck at 150 MiB
  EXPECT_EQ(model.status().worst_window_bytes, static_cast<int64_t>(150 * mib));
  model.add_poll(6, {sample(1, 10, 2), sample(2, 0, 0, false)});
  EXPECT_LT(model.status().transactions_per_second_limit, 0);
  EXPECT_EQ(model.status().worst_window_bytes, static_cast<int64_t>(10 * mib));
  // Never heard of: nothing to go by.
  model.add_poll(7, {sample(1, 10, 3), sample(3, 0, 0, false)});
  EXPECT_LT(model.status().transactions_per_second_limit, 0);
}

TEST(RateModel, RatesAreSmoothed) {
  RateModel model(RateModelSettings{100 * mib, 20 * mib, 5, 2.0, 5, 5});
  model.add_released(1000);
  model.add_poll(0, {});
  model.add_released(1000);
  model.add_poll(1, {});
  model.add_released(3000);
  model.add_poll(2, {});  // half way from 1000 to 3000 with a 2 s time constant
  EXPECT_NEAR(model.status().released_per_second, 2000, 1e-6);
}

}  // namespace
}  // namespace keel
