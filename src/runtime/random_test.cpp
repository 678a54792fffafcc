#include "runtime/random.h"

#include <gtest/gtest.h>

#include "runtime/knobs.h"

namespace keel {
namespace {

TEST(RandomTest, SameSeedSameSequence) {
  DeterministicRandom a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs |= x != c.next_u64();
  }
  EXPECT_TRUE(differs);
}

TEST(RandomTest, RangesHold) {
  DeterministicRandom random(1);
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = random.random_int(-3, 4);
    EXPECT_GE(v, -3);
    EXPECT_LT(v, 4);
    const double d = random.random01();
    EXPECT_GE(d, 0.0);
    EXPECT_LT(d, 1.0);
  }
}

TEST(RandomTest, BuggifyIsOffOutsideSimulation) {
  set_buggify(nullptr);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(buggify());
}

TEST(RandomTest, BuggifySitesAreDecidedOncePerRun) {
  DeterministicRandom random(7);
  Buggify always_enabled(random, 1.0, 1.0);
  set_buggify(&always_enabled);
  EXPECT_TRUE(buggify());
  Buggify never_enabled(random, 0.0, 1.0);
  set_buggify(&never_enabled);
  EXPECT_FALSE(buggify());
  set_buggify(nullptr);
}

TEST(KnobsTest, SetResetAndRandomize) {
  KnobRegistry registry;
  double timeout = 4.0;
  registry.declare("test_timeout_seconds", &timeout, {0.5, 30});
  EXPECT_TRUE(registry.set("test_timeout_seconds", 9));
  EXPECT_EQ(timeout, 9);
  EXPECT_FALSE(registry.set("no_such_knob", 1));
  registry.reset_defaults();
  EXPECT_EQ(timeout, 4.0);
  DeterministicRandom random(3);
  for (int i = 0; i < 50; ++i) {
    registry.reset_defaults();
    registry.randomize(random);
    EXPECT_TRUE(timeout == 4.0 || timeout == 0.5 || timeout == 30);
  }
}

}  // namespace
}  // namespace keel
