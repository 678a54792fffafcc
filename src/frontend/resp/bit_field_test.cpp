#include "frontend/resp/bit_field.h"

#include <gtest/gtest.h>

#include <limits>

namespace keel {
namespace {

constexpr BitFieldType i8{true, 8};
constexpr BitFieldType u8{false, 8};

TEST(RespBitField, Types) {
  EXPECT_EQ(parse_bit_field_type("i64")->bits, 64);
  EXPECT_TRUE(parse_bit_field_type("i64")->is_signed);
  EXPECT_EQ(parse_bit_field_type("u63")->bits, 63);
  EXPECT_FALSE(parse_bit_field_type("u63")->is_signed);
  EXPECT_EQ(parse_bit_field_type("U1")->bits, 1);
  for (const char* bad : {"u64", "i65", "i0", "u", "x8", "i-1", "i8a", "", "i100"}) {
    EXPECT_FALSE(parse_bit_field_type(bad).has_value()) << bad;
  }
}

TEST(RespBitField, ReadAndWriteAnywhere) {
  std::string value(3, '\0');
  write_bit_field(value, 0, u8, 65);
  write_bit_field(value, 8, u8, 66);
  write_bit_field(value, 16, u8, 67);
  EXPECT_EQ(value, "ABC");
  EXPECT_EQ(read_bit_field(value, 4, u8), 0x14);  // across a byte boundary
  write_bit_field(value, 4, i8, -1);
  EXPECT_EQ(read_bit_field(value, 4, i8), -1);
  EXPECT_EQ(read_bit_field(value, 4, u8), 255);
  EXPECT_EQ(read_bit_field("\x01", 7, BitFieldType{false, 5}), 0x10);  // past the end: zeros
  EXPECT_EQ(read_bit_field("1", 0, BitFieldType{false, 1}), 0);        // Redis #3221
  std::string wide(8, '\0');
  write_bit_field(wide, 0, BitFieldType{true, 64}, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(read_bit_field(wide, 0, BitFieldType{true, 64}), std::numeric_limits<int64_t>::min());
}

TEST(RespBitField, OverflowAsRedis) {
  // The cases of Redis's unit/bitfield.
  EXPECT_EQ(add_to_bit_field(100, 257, u8, BitFieldOverflow::wrap), 101);
  EXPECT_EQ(add_to_bit_field(101, 255, u8, BitFieldOverflow::wrap), 100);
  EXPECT_EQ(add_to_bit_field(100, 257, u8, BitFieldOverflow::sat), 255);
  EXPECT_EQ(add_to_bit_field(255, -255, u8, BitFieldOverflow::sat), 0);
  EXPECT_EQ(add_to_bit_field(100, 257, i8, BitFieldOverflow::wrap), 101);
  EXPECT_EQ(add_to_bit_field(100, 257, i8, BitFieldOverflow::sat), 127);
  EXPECT_EQ(add_to_bit_field(127, -255, i8, BitFieldOverflow::sat), -128);
  EXPECT_EQ(add_to_bit_field(255, 0, i8, BitFieldOverflow::wrap), -1);
  EXPECT_EQ(add_to_bit_field(0, 99900, i8, BitFieldOverflow::wrap), 60);  // Redis #3564
  EXPECT_FALSE(add_to_bit_field(255, 1, u8, BitFieldOverflow::fail).has_value());
  EXPECT_EQ(add_to_bit_field(254, 1, u8, BitFieldOverflow::fail), 255);
  const BitFieldType i64{true, 64};
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_FALSE(add_to_bit_field(max, 1, i64, BitFieldOverflow::fail).has_value());
  EXPECT_EQ(add_to_bit_field(max, 1, i64, BitFieldOverflow::wrap), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(add_to_bit_field(max, 1, i64, BitFieldOverflow::sat), max);
  const BitFieldType u63{false, 63};
  EXPECT_EQ(add_to_bit_field(max, 0, u63, BitFieldOverflow::fail), max);
  EXPECT_EQ(add_to_bit_field(-1, 0, u63, BitFieldOverflow::wrap), max);
}

}  // namespace
}  // namespace keel
