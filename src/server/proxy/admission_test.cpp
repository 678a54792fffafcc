#include "server/proxy/admission.h"

#include <gtest/gtest.h>

namespace keel {
namespace {

// Admits at `now` and returns how long the transactions wait.
double admit_and_wait(Admission& admission, int64_t transactions, double now) {
  return admission.wait_seconds(admission.admit(transactions, now), now);
}

TEST(Admission, WithoutARateEverythingStartsAtOnce) {
  Admission admission(0.1);
  EXPECT_EQ(admit_and_wait(admission, 1000000, 5), 0);
  EXPECT_EQ(admit_and_wait(admission, 1, 5), 0);
}

TEST(Admission, ALimitedProxyStartsTransactionsAtItsRate) {
  Admission admission(0.1);
  admission.set_rate(100, 10.0);
  // Idle before: 0.1 s of burst is free, the rest waits its turn.
  EXPECT_DOUBLE_EQ(admit_and_wait(admission, 10, 10.0), 0);
  EXPECT_NEAR(admit_and_wait(admission, 10, 10.0), 0.1, 1e-9);
  EXPECT_NEAR(admit_and_wait(admission, 50, 10.0), 0.6, 1e-9);
  // Later requests queue behind the earlier ones.
  EXPECT_NEAR(admit_and_wait(admission, 1, 10.5), 0.11, 1e-9);
  // Over a long run the admitted rate is the rate.
  double t = 20;
  double waited = 0;
  for (int i = 0; i < 1000; ++i) waited = admit_and_wait(admission, 1, t);
  EXPECT_NEAR(waited, 1000 / 100.0 - 0.1, 1e-6);
}

TEST(Admission, DroppingTheLimitForgivesTheDebt) {
  Admission admission(0.1);
  admission.set_rate(1, 0);
  EXPECT_GT(admit_and_wait(admission, 100, 0), 50);
  admission.set_rate(-1, 1);
  EXPECT_EQ(admit_and_wait(admission, 100, 1), 0);
  admission.set_rate(10, 1);
  EXPECT_NEAR(admit_and_wait(admission, 1, 1), 0, 1e-9);
}

TEST(Admission, ANewRateAppliesToTheTransactionsStillWaiting) {
  Admission admission(0.1);
  admission.set_rate(1, 0);
  const double place = admission.admit(50, 0);  // 0.1 s of burst, then 49.9 s of debt at 1/s
  EXPECT_NEAR(admission.wait_seconds(place, 0), 49.9, 1e-9);
  admission.set_rate(1000, 0.5);  // 0.6 paid by now; the other 49.4 at 1000/s
  EXPECT_NEAR(admission.wait_seconds(place, 0.5), 0.0494, 1e-9);
  EXPECT_EQ(admission.wait_seconds(place, 0.55), 0);
  // And a rate that falls makes them wait longer.
  const double later = admission.admit(100, 0.55);
  admission.set_rate(10, 0.55);
  EXPECT_NEAR(admission.wait_seconds(later, 0.55), (150 - 50.6) / 10, 1e-6);  // 50.6 paid by 0.55
}

TEST(Admission, AWaitUnderAMicrosecondIsNone) {
  Admission admission(0.1);
  admission.set_rate(1e9, 1000);  // 1e8 of burst
  const double place = admission.admit(100002000, 1000);
  EXPECT_NEAR(admission.wait_seconds(place, 1000), 2e-6, 1e-12);
  EXPECT_EQ(admission.wait_seconds(place - 1500, 1000), 0);  // 0.5 us
}

TEST(Admission, QueuedSecondsIsTheWaitOfTheTransactionsAdmittedBefore) {
  Admission admission(0.1);
  EXPECT_EQ(admission.queued_seconds(1), 0);
  admission.set_rate(100, 1);
  EXPECT_EQ(admission.queued_seconds(1), 0);
  admission.admit(60, 1);  // 0.1 s of burst, then 0.5 s of debt
  EXPECT_NEAR(admission.queued_seconds(1), 0.5, 1e-9);
  EXPECT_NEAR(admission.queued_seconds(1.2), 0.3, 1e-9);
  // Asking admits nothing.
  EXPECT_NEAR(admission.queued_seconds(1.2), 0.3, 1e-9);
  EXPECT_EQ(admission.queued_seconds(2), 0);
  admission.set_rate(-1, 2);
  EXPECT_EQ(admission.queued_seconds(2), 0);
}

}  // namespace
}  // namespace keel
