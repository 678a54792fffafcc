#include "runtime/error.h"

#include <gtest/gtest.h>

namespace keel {
namespace {

TEST(ErrorTest, StableCodesAndNames) {
  EXPECT_EQ(errc::transaction_too_old, 1007);
  EXPECT_EQ(errc::not_committed, 1020);
  EXPECT_EQ(errc::commit_unknown_result, 1021);
  EXPECT_EQ(errc::broken_promise, 1100);
  EXPECT_EQ(Error(errc::transaction_too_old).name(), "transaction_too_old");
  EXPECT_EQ(Error(errc::key_too_large).describe(), "key_too_large (2102): Key length exceeds limit");
}

TEST(ErrorTest, UnknownCodesAreStillDescribed) {
  Error odd(987654);
  EXPECT_FALSE(is_known_error_code(987654));
  EXPECT_EQ(odd.name(), "unknown_error_code");
  EXPECT_FALSE(odd.message().empty());
}

TEST(ErrorTest, Retryability) {
  EXPECT_TRUE(Error(errc::not_committed).is_retryable());
  EXPECT_TRUE(Error(errc::commit_unknown_result).is_retryable());
  EXPECT_FALSE(Error(errc::key_too_large).is_retryable());
  EXPECT_FALSE(Error(errc::operation_cancelled).is_retryable());
}

}  // namespace
}  // namespace keel
