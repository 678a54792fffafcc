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

}  // namespace
}  // namespace keel
