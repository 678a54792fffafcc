#include "protocol/atomic_ops.h"

#include <gtest/gtest.h>

#include "protocol/limits.h"
#include "runtime/error.h"

namespace keel {
namespace {

std::string le(uint64_t value, size_t bytes) {
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

TEST(AtomicOpsTest, AddIsLittleEndianAndFitsTheOperand) {
  EXPECT_EQ(apply_atomic(MutationType::add, std::nullopt, le(5, 8)), le(5, 8));
  EXPECT_EQ(apply_atomic(MutationType::add, le(250, 8), le(10, 8)), le(260, 8));
  EXPECT_EQ(apply_atomic(MutationType::add, le(0xffff, 2), le(1, 2)), le(0, 2));       // wraps
  EXPECT_EQ(apply_atomic(MutationType::add, le(0x1ff, 2), le(1, 1)), le(0x00, 1));     // truncated
  EXPECT_EQ(apply_atomic(MutationType::add, le(7, 1), le(1, 4)), le(8, 4));            // extended
}

TEST(AtomicOpsTest, BitwiseOps) {
  EXPECT_EQ(apply_atomic(MutationType::bit_and, std::nullopt, "\x0f"), "\x0f");
  EXPECT_EQ(apply_atomic(MutationType::bit_and, std::string("\xff"), "\x0f"), "\x0f");
  EXPECT_EQ(apply_atomic(MutationType::bit_or, std::nullopt, "\x0f"), "\x0f");
  EXPECT_EQ(apply_atomic(MutationType::bit_or, std::string("\xf0"), "\x0f"), "\xff");
  EXPECT_EQ(apply_atomic(MutationType::bit_xor, std::string("\xff"), "\x0f"), "\xf0");
}

TEST(AtomicOpsTest, MaxMinAreUnsignedLittleEndian) {
  EXPECT_EQ(apply_atomic(MutationType::max, le(300, 2), le(200, 2)), le(300, 2));
  EXPECT_EQ(apply_atomic(MutationType::max, le(100, 2), le(200, 2)), le(200, 2));
  EXPECT_EQ(apply_atomic(MutationType::max, std::nullopt, le(3, 2)), le(3, 2));
  EXPECT_EQ(apply_atomic(MutationType::min, le(300, 2), le(200, 2)), le(200, 2));
  EXPECT_EQ(apply_atomic(MutationType::min, std::nullopt, le(3, 2)), le(3, 2));
}

TEST(AtomicOpsTest, ByteMinMaxAppendCompareAndClear) {
  EXPECT_EQ(apply_atomic(MutationType::byte_min, std::string("b"), "a"), "a");
  EXPECT_EQ(apply_atomic(MutationType::byte_max, std::string("b"), "a"), "b");
  EXPECT_EQ(apply_atomic(MutationType::byte_max, std::nullopt, "a"), "a");
  EXPECT_EQ(apply_atomic(MutationType::append_if_fits, std::string("ab"), "cd"), "abcd");
  const std::string big(value_bytes_max, 'x');
  EXPECT_EQ(apply_atomic(MutationType::append_if_fits, big, "y"), big);
  EXPECT_EQ(apply_atomic(MutationType::compare_and_clear, std::string("v"), "v"), std::nullopt);
  EXPECT_EQ(apply_atomic(MutationType::compare_and_clear, std::string("v"), "w"), std::string("v"));
  EXPECT_EQ(apply_atomic(MutationType::compare_and_clear, std::nullopt, "w"), std::nullopt);
}

TEST(AtomicOpsTest, VersionstampsAreBigEndianVersionThenBatchIndex) {
  EXPECT_EQ(make_versionstamp(0x0102030405060708, 0x090a), std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 10));
  Mutation key_stamped{MutationType::set_versionstamped_key, "pre" + std::string(10, '\0') + "post" + le(3, 4), "value"};
  Mutation result = apply_versionstamp(key_stamped, 1, 2);
  EXPECT_EQ(result.type, MutationType::set_value);
  EXPECT_EQ(result.param1, "pre" + make_versionstamp(1, 2) + "post");
  EXPECT_EQ(result.param2, "value");
  Mutation value_stamped{MutationType::set_versionstamped_value, "key", std::string(10, '\0') + le(0, 4)};
  EXPECT_EQ(apply_versionstamp(value_stamped, 7, 0).param2, make_versionstamp(7, 0));
  Mutation bad{MutationType::set_versionstamped_key, "short" + le(3, 4), ""};
  EXPECT_THROW(validate_versionstamped(bad), Error);
}

}  // namespace
}  // namespace keel
