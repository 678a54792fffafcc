#include "rpc/serialize.h"

#include <gtest/gtest.h>

#include <limits>

#include "rpc/endpoint.h"

namespace keel {
namespace {

enum class Color : uint8_t { red = 1, blue = 7 };

struct Inner {
  int32_t number = 0;
  std::string name;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(number, name);
  }
  bool operator==(const Inner&) const = default;
};

struct Everything {
  bool flag = false;
  uint8_t u8 = 0;
  int8_t i8 = 0;
  uint16_t u16 = 0;
  int16_t i16 = 0;
  uint32_t u32 = 0;
  int32_t i32 = 0;
  uint64_t u64 = 0;
  int64_t i64 = 0;
  double real = 0;
  Color color = Color::red;
  std::string bytes;
  std::vector<int64_t> numbers;
  std::vector<std::string> words;
  std::optional<std::string> maybe_absent;
  std::optional<Inner> maybe_present;
  std::map<std::string, Inner> table;
  std::vector<std::vector<uint8_t>> nested;
  Endpoint endpoint;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(flag, u8, i8, u16, i16, u32, i32, u64, i64, real, color, bytes, numbers, words, maybe_absent,
            maybe_present, table, nested, endpoint);
  }
  bool operator==(const Everything&) const = default;
};

Everything sample() {
  Everything value;
  value.flag = true;
  value.u8 = 250;
  value.i8 = -100;
  value.u16 = 65000;
  value.i16 = -32000;
  value.u32 = 4000000000u;
  value.i32 = std::numeric_limits<int32_t>::min();
  value.u64 = std::numeric_limits<uint64_t>::max();
  value.i64 = -1234567890123LL;
  value.real = -2.5e300;
  value.color = Color::blue;
  value.bytes = std::string("\x00\xff binary\n", 10);
  value.numbers = {1, -2, 3};
  value.words = {"", "a", "longer word"};
  value.maybe_present = Inner{42, "inner"};
  value.table = {{"k1", Inner{1, "x"}}, {"k2", Inner{2, ""}}};
  value.nested = {{}, {1, 2, 3}};
  value.endpoint = Endpoint{NetworkAddress::loopback(4500), 0x1234567890abcdefULL};
  return value;
}

TEST(SerializeTest, RoundTripsEverySupportedType) {
  const Everything original = sample();
  const std::string bytes = serialize_to_string(original);
  EXPECT_EQ(deserialize_from_string<Everything>(bytes), original);
  EXPECT_EQ(deserialize_from_string<Everything>(serialize_to_string(Everything{})), Everything{});
}

TEST(SerializeTest, IntegersAreLittleEndianFixedWidth) {
  EXPECT_EQ(serialize_to_string(uint32_t{0x01020304}), std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(serialize_to_string(std::string("ab")), std::string("\x02\x00\x00\x00" "ab", 6));
}

TEST(SerializeTest, EveryTruncationIsRejected) {
  const std::string bytes = serialize_to_string(sample());
  for (size_t length = 0; length < bytes.size(); ++length) {
    try {
      deserialize_from_string<Everything>(std::string_view(bytes).substr(0, length));
      ADD_FAILURE() << "accepted a prefix of length " << length;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), errc::serialization_failed);
    }
  }
}

TEST(SerializeTest, TrailingBytesAreRejected) {
  std::string bytes = serialize_to_string(sample()) + "x";
  EXPECT_THROW(deserialize_from_string<Everything>(bytes), Error);
}

TEST(SerializeTest, HugeCountsAreRejectedBeforeAllocating) {
  const std::string bytes("\xff\xff\xff\xff", 4);
  EXPECT_THROW(deserialize_from_string<std::string>(bytes), Error);
  EXPECT_THROW(deserialize_from_string<std::vector<uint64_t>>(bytes), Error);
  EXPECT_THROW((deserialize_from_string<std::map<uint32_t, uint32_t>>(bytes)), Error);
}

TEST(SerializeTest, InvalidBoolAndDuplicateMapKeysAreRejected) {
  EXPECT_THROW(deserialize_from_string<bool>(std::string("\x02", 1)), Error);
  BinaryWriter writer;
  writer(uint32_t{2}, uint8_t{1}, uint8_t{9}, uint8_t{1}, uint8_t{9});
  EXPECT_THROW((deserialize_from_string<std::map<uint8_t, uint8_t>>(writer.take())), Error);
}

}  // namespace
}  // namespace keel
