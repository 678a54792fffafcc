#include "storage/ssd/ssd_format.h"

#include <gtest/gtest.h>

#include "runtime/error.h"

namespace keel::ssd_format {
namespace {

int code_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& error) {
    return error.code();
  }
  return errc::success;
}

TEST(SsdFormatTest, RecordKeysArePrefixesOfAtMostTheLimit) {
  EXPECT_EQ(record_key("abc"), "abc");
  const std::string long_key(record_key_bytes_max + 50, 'x');
  EXPECT_EQ(record_key(long_key).size(), record_key_bytes_max);
  EXPECT_EQ(record_key(""), "");
}

TEST(SsdFormatTest, RecordsRoundTripAndVerify) {
  const std::vector<Entry> single{Entry{"", "value"}};
  EXPECT_EQ(decode_record("key", encode_record("key", single)), single);
  const std::string prefix(record_key_bytes_max, 'p');
  const std::vector<Entry> several{Entry{"", "a"}, Entry{"1", ""}, Entry{"2", std::string(300, 'v')}};
  EXPECT_EQ(decode_record(prefix, encode_record(prefix, several)), several);

  const std::string record = encode_record("key", single);
  for (size_t i = 0; i < record.size(); ++i) {
    std::string flipped = record;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x10);
    EXPECT_EQ(code_of([&] { decode_record("key", flipped); }), errc::checksum_failed) << "byte " << i;
  }
  // A record read under another key (a flipped key byte, a misplaced record) does not verify.
  EXPECT_EQ(code_of([&] { decode_record("kez", record); }), errc::checksum_failed);
  EXPECT_EQ(code_of([&] { decode_record("key", record.substr(0, 5)); }), errc::checksum_failed);
}

TEST(SsdFormatTest, MetaRoundTripsAndRejectsDamageAndOtherVersions) {
  const Meta meta{1234, 56, 7};
  const std::string bytes = encode_meta(meta);
  EXPECT_EQ(decode_meta(bytes), meta);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    EXPECT_EQ(code_of([&] { decode_meta(flipped); }), errc::checksum_failed) << "byte " << i;
  }
  EXPECT_EQ(code_of([&] { decode_meta(""); }), errc::checksum_failed);
}

}  // namespace
}  // namespace keel::ssd_format
