#include "frontend/resp/bit_string.h"

#include <gtest/gtest.h>

#include "runtime/random.h"

namespace keel {
namespace {

// Bit by bit, the obvious way.
int64_t naive_count(std::string_view value, BitSpan span) {
  int64_t count = 0;
  for (int64_t bit = span.first_bit; bit <= span.last_bit; ++bit) count += get_bit(value, static_cast<uint64_t>(bit));
  return count;
}

int64_t naive_find(std::string_view value, BitSpan span, bool wanted) {
  for (int64_t bit = span.first_bit; bit <= span.last_bit; ++bit) {
    if (get_bit(value, static_cast<uint64_t>(bit)) == wanted) return bit;
  }
  return -1;
}

void expect_span(BitSpan span, int64_t first_bit, int64_t last_bit) {
  EXPECT_EQ(span.first_bit, first_bit);
  EXPECT_EQ(span.last_bit, last_bit);
}

TEST(RespBits, SpansClampAsRedis) {
  // "foobar" has 6 bytes, 48 bits (the cases of Redis's "BITCOUNT with start, end").
  expect_span(resolve_bit_span(6, 0, -1, BitUnit::byte), 0, 47);
  expect_span(resolve_bit_span(6, 1, -2, BitUnit::byte), 8, 39);
  EXPECT_TRUE(resolve_bit_span(6, -2, 1, BitUnit::byte).empty());
  expect_span(resolve_bit_span(6, 0, 1000, BitUnit::byte), 0, 47);
  expect_span(resolve_bit_span(6, 10, -34, BitUnit::bit), 10, 14);
  expect_span(resolve_bit_span(6, 3, -19, BitUnit::bit), 3, 29);
  EXPECT_TRUE(resolve_bit_span(6, -2, 1, BitUnit::bit).empty());
  expect_span(resolve_bit_span(6, -100, -7, BitUnit::byte), 0, 7);  // both below the start: the first byte
  EXPECT_TRUE(resolve_bit_span(4, 4, 10, BitUnit::byte).empty());
  EXPECT_TRUE(resolve_bit_span(0, 0, -1, BitUnit::bit).empty());
  expect_span(resolve_bit_span(1, INT64_MIN, INT64_MAX, BitUnit::bit), 0, 7);
}

TEST(RespBits, GetAndPut) {
  std::string value(2, '\0');
  put_bit(value, 1, true);
  EXPECT_EQ(value[0], '\x40');
  put_bit(value, 15, true);
  EXPECT_EQ(value[1], '\x01');
  EXPECT_TRUE(get_bit(value, 1));
  EXPECT_FALSE(get_bit(value, 2));
  EXPECT_FALSE(get_bit(value, 1000));  // past the end
  put_bit(value, 1, false);
  EXPECT_EQ(value[0], '\0');
}

TEST(RespBits, KnownVectors) {
  const std::string ones_then_zeros("\xff\xf0\x00", 3);
  EXPECT_EQ(find_bit(ones_then_zeros, resolve_bit_span(3, 0, -1, BitUnit::byte), false), 12);
  EXPECT_EQ(find_bit(ones_then_zeros, resolve_bit_span(3, 0, -1, BitUnit::byte), true), 0);
  EXPECT_EQ(count_bits(ones_then_zeros, resolve_bit_span(3, 0, -1, BitUnit::byte)), 12);
  const std::string middle("\x00\xff\x00", 3);
  EXPECT_EQ(find_bit(middle, resolve_bit_span(3, 1, 1, BitUnit::byte), false), -1);
  EXPECT_EQ(find_bit(middle, resolve_bit_span(3, 8, 8, BitUnit::bit), true), 8);
  EXPECT_EQ(find_bit(middle, resolve_bit_span(3, 16, 200, BitUnit::bit), true), -1);
  EXPECT_EQ(count_bits("ab", resolve_bit_span(2, 1, -1, BitUnit::byte)), 3);
  EXPECT_EQ(count_bits("__PPxxxxxxxxxxxxxxxxRR__", resolve_bit_span(24, 2, -3, BitUnit::byte)), 74);
}

TEST(RespBits, RandomSpansMatchBitByBit) {
  DeterministicRandom random(20240607);
  for (int iteration = 0; iteration < 2000; ++iteration) {
    const auto bytes = random.random_int(0, 24);
    std::string value = random.random_bytes(static_cast<size_t>(bytes));
    if (random.coin(0.3)) value.assign(value.size(), random.coin(0.5) ? '\xff' : '\0');  // long runs
    const BitUnit unit = random.coin(0.5) ? BitUnit::bit : BitUnit::byte;
    const int64_t units = unit == BitUnit::bit ? bytes * 8 : bytes;
    const int64_t start = random.random_int(-units - 3, units + 3);
    const int64_t end = random.random_int(-units - 3, units + 3);
    const BitSpan span = resolve_bit_span(bytes, start, end, unit);
    ASSERT_TRUE(span.empty() || (span.first_bit >= 0 && span.last_bit < bytes * 8)) << iteration;
    ASSERT_EQ(count_bits(value, span), naive_count(value, span)) << iteration;
    ASSERT_EQ(find_bit(value, span, true), naive_find(value, span, true)) << iteration;
    ASSERT_EQ(find_bit(value, span, false), naive_find(value, span, false)) << iteration;
  }
}

TEST(RespBits, BitOperationsPadShorterValuesWithZeros) {
  using std::string_literals::operator""s;
  EXPECT_EQ(bit_operation(BitOperation::bit_and, {"\xff\x0f"s, "\x0f"s}), "\x0f\x00"s);
  EXPECT_EQ(bit_operation(BitOperation::bit_or, {"\xf0"s, "\x0f\x01"s, ""s}), "\xff\x01"s);
  EXPECT_EQ(bit_operation(BitOperation::bit_xor, {"ab"s, "ab"s, "a"s}), "a\x00"s);
  EXPECT_EQ(bit_operation(BitOperation::bit_not, {"\x00\xff\x55"s}), "\xff\x00\xaa"s);
  EXPECT_EQ(bit_operation(BitOperation::bit_and, {"abc"s}), "abc");  // one input: itself
  EXPECT_EQ(bit_operation(BitOperation::bit_or, {""s, ""s}), "");
}

}  // namespace
}  // namespace keel
