#include "server/proxy/admission.h"

#include <gtest/gtest.h>

namespace keel {
namespace {

TEST(Admission, WithoutARateEverythingStartsAtOnce) {
  Admission admission(0.1);
  EXPECT_EQ(admission.admit(1000000, 5), 0);
  EXPECT_EQ(admission.admit(1, 5), 0);
}

TEST(Admission, ALimitedProxyStartsTransactionsAtItsRate) {
  Admission admission(0.1);
  admission.set_rate(100);
  // Idle before: 0.1 s of burst is free, the rest waits its turn.
  EXPECT_DOUBLE_EQ(admission.admit(10, 10.0), 0);
  EXPECT_NEAR(admission.admit(10, 10.0), 0.1, 1e-9);
  EXPECT_NEAR(admission.admit(50, 10.0), 0.6, 1e-9);
  // Later requests queue behind the earlier ones.
  EXPECT_NEAR(admission.admit(1, 10.5), 0.11, 1e-9);
  // Over a long run the admitted rate is the rate.
  double t = 20;
  double waited = 0;
  for (int i = 0; i < 1000; ++i) waited = admission.admit(1, t);
  EXPECT_NEAR(waited, 1000 / 100.0 - 0.1, 1e-6);
}

TEST(Admission, DroppingTheLimitForgivesTheDebt) {
  Admission admission(0.1);
  admission.set_rate(1);
  EXPECT_GT(admission.admit(100, 0), 50);
  admission.set_rate(-1);
  EXPECT_EQ(admission.admit(100, 1), 0);
  admission.set_rate(10);
  EXPECT_NEAR(admission.admit(1, 1), 0, 1e-9);
}

TEST(Admission, QueuedSecondsIsTheWaitOfTheTransactionsAdmittedBefore) {
  Admission admission(0.1);
  EXPECT_EQ(admission.queued_seconds(1), 0);
  admission.set_rate(100);
  EXPECT_EQ(admission.queued_seconds(1), 0);
  admission.admit(60, 1);  // 0.1 s of burst, then 0.5 s of debt
  EXPECT_NEAR(admission.queued_seconds(1), 0.5, 1e-9);
  EXPECT_NEAR(admission.queued_seconds(1.2), 0.3, 1e-9);
  EXPECT_EQ(admission.queued_seconds(2), 0);
  // Asking admits nothing.
  EXPECT_NEAR(admission.queued_seconds(1.2), 0.3, 1e-9);
  admission.set_rate(-1);
  EXPECT_EQ(admission.queued_seconds(1.2), 0);
}

}  // namespace
}  // namespace keel
