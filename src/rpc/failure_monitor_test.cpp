#include "rpc/failure_monitor.h"

#include <gtest/gtest.h>

#include "runtime/test_support.h"

namespace keel {
namespace {

class FailureMonitorTest : public ::testing::Test, public testing::SchedulerFixture {};

TEST_F(FailureMonitorTest, OnFailedFiresWhenTheAddressFails) {
  FailureMonitor monitor;
  const NetworkAddress address = NetworkAddress::loopback(1);
  EXPECT_FALSE(monitor.is_failed(address));
  Future<Void> failed = monitor.on_failed(address);
  EXPECT_FALSE(failed.is_ready());
  monitor.set_failed(address, true);
  EXPECT_TRUE(failed.is_ready());
  EXPECT_TRUE(monitor.on_failed(address).is_ready());  // already failed: ready at once
  Future<Void> changed = monitor.on_state_changed(address);
  monitor.set_failed(address, true);  // no change
  EXPECT_FALSE(changed.is_ready());
  monitor.set_failed(address, false);
  EXPECT_TRUE(changed.is_ready());
  EXPECT_FALSE(monitor.on_failed(address).is_ready());
}

TEST_F(FailureMonitorTest, AbandonedWaitersDoNotPileUp) {
  FailureMonitor monitor;
  const NetworkAddress address = NetworkAddress::loopback(2);
  for (int i = 0; i < 100000; ++i) {
    Future<Void> dropped = monitor.on_failed(address);
  }
  Future<Void> kept = monitor.on_failed(address);
  monitor.set_failed(address, true);
  EXPECT_TRUE(kept.is_ready());
}

}  // namespace
}  // namespace keel
