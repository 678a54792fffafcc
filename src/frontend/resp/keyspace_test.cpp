#include "frontend/resp/keyspace.h"
#include "runtime/trace.h"

#include <gtest/gtest.h>

#include "frontend/resp/commands.h"
#include "frontend/resp/scan_cursor.h"
#include "runtime/random.h"

namespace keel {
namespace {

TEST(RespKeyspace, MetaRoundTrip) {
  DeterministicRandom random(7);  // what the world installs for fresh_stamp()
  set_deterministic_random(&random);
  KeyMeta string_meta;
  string_meta.expire_ms = 1234567890123;
  string_meta.value = std::string("v\0x", 3);
  const std::string stamp = fresh_stamp();
  ASSERT_EQ(stamp.size(), stamp_bytes);
  EXPECT_NE(fresh_stamp(), stamp);
  std::optional<std::string> decoded_stamp;
  const KeyMeta decoded = decode_meta(encode_meta(string_meta, stamp), &decoded_stamp);
  EXPECT_EQ(decoded.type, KeyType::string);
  EXPECT_EQ(decoded.expire_ms, string_meta.expire_ms);
  EXPECT_EQ(decoded.value, string_meta.value);
  EXPECT_EQ(decoded_stamp, stamp);
  KeyMeta hash_meta;
  hash_meta.type = KeyType::hash;
  hash_meta.hash_fields = 7;
  EXPECT_EQ(decode_meta(encode_meta(hash_meta, stamp)).hash_fields, 7);
  // Records in no format of the front end's decode as type invalid, with no stamp.
  for (const std::string& bytes : {std::string(), std::string("x"), std::string("\x03\x01", 2) + std::string(16, '\0'),
                                   std::string("\x02\x07", 2) + std::string(16, '\0'), std::string("\x02\x01\x00", 3),
                                   std::string("\x02\x02", 2) + std::string(17, '\0')}) {
    std::optional<std::string> no_stamp = "something";
    const KeyMeta invalid = decode_meta(bytes, &no_stamp);
    EXPECT_EQ(invalid.type, KeyType::invalid) << printable(bytes);
    EXPECT_EQ(invalid.expire_ms, 0);
    EXPECT_EQ(no_stamp, std::nullopt);
  }
  set_deterministic_random(nullptr);
}

// Records written before the stamp moved into them (format 1) still read, without a stamp.
TEST(RespKeyspace, FormatOneRecordsRead) {
  const std::string deadline("\0\0\0\0\0\0\0\x2a", 8);
  std::optional<std::string> stamp = "something";
  const KeyMeta string_meta = decode_meta(std::string("\x01\x01", 2) + deadline + "value", &stamp);
  EXPECT_EQ(string_meta.type, KeyType::string);
  EXPECT_EQ(string_meta.expire_ms, 42);
  EXPECT_EQ(string_meta.value, "value");
  EXPECT_EQ(stamp, std::nullopt);
  const KeyMeta hash_meta = decode_meta(std::string("\x01\x02", 2) + deadline + std::string("\0\0\0\0\0\0\0\x05", 8));
  EXPECT_EQ(hash_meta.type, KeyType::hash);
  EXPECT_EQ(hash_meta.hash_fields, 5);
}

// A format-1 string longer than format 2 allows is rewritten in format 1, and only such a string.
TEST(RespKeyspace, LongFormatOneStringsStayFormatOne) {
  KeyMeta meta;
  meta.value = std::string(string_bytes_max + 8, 'a');
  const std::string record = encode_unstamped_meta(meta);
  EXPECT_EQ(record.size(), value_bytes_max);
  std::optional<std::string> stamp = "something";
  EXPECT_EQ(decode_meta(record, &stamp).value, meta.value);
  EXPECT_EQ(stamp, std::nullopt);
  EXPECT_TRUE(string_size_allowed(string_bytes_max));
  EXPECT_FALSE(string_size_allowed(string_bytes_max + 1));
  EXPECT_TRUE(string_size_allowed(string_bytes_max + 8, string_bytes_max + 8));
  EXPECT_FALSE(string_size_allowed(string_bytes_max + 9, string_bytes_max + 8));
}

TEST(RespKeyspace, WatchMarkersCarryTheirTime) {
  DeterministicRandom random(11);
  set_deterministic_random(&random);
  const std::string marker = fresh_watch_marker(1234567890123);
  EXPECT_EQ(marker.size(), stamp_bytes + 8);
  EXPECT_EQ(watch_marker_written_ms(marker), 1234567890123);
  EXPECT_NE(fresh_watch_marker(1234567890123), marker);
  EXPECT_EQ(watch_marker_written_ms(fresh_stamp()), 0);  // without the time: old
  set_deterministic_random(nullptr);
}

// WATCH's stamp: the record's while a format-2 record exists, else the stamp key's.
TEST(RespKeyspace, ModificationStampComesFromTheRecordFirst) {
  KeyRecord record;
  EXPECT_EQ(modification_stamp(record, std::nullopt), std::nullopt);
  EXPECT_EQ(modification_stamp(record, Value("left")), "left");
  record.present = true;
  EXPECT_EQ(modification_stamp(record, Value("left")), "left");  // format 1
  record.stamp = "own";
  EXPECT_EQ(modification_stamp(record, Value("left")), "own");
  record.expired = true;
  EXPECT_EQ(modification_stamp(record, std::nullopt), "own");
}

TEST(RespKeyspace, LayoutKeepsKeysApart) {
  const KeyLayout layout{std::string(resp_prefix_default)};
  EXPECT_TRUE(layout.meta_range().contains(layout.meta_key("a")));
  EXPECT_FALSE(layout.meta_range().contains(layout.field_key("a", "f")));
  // A hash's fields never include another hash's, even when one key prefixes the other.
  EXPECT_FALSE(layout.fields_range("a").contains(layout.field_key("ab", "f")));
  EXPECT_TRUE(layout.fields_range("a").contains(layout.field_key("a", "\xff\xff")));
  EXPECT_EQ(layout.field_of("a", layout.field_key("a", "field")), "field");
  const auto [deadline, key] = layout.decode_expiry_key(layout.expiry_key(99, "k"));
  EXPECT_EQ(deadline, 99);
  EXPECT_EQ(key, "k");
  EXPECT_TRUE(layout.expiry_range_below(100).contains(layout.expiry_key(99, "zzz")));
  EXPECT_FALSE(layout.expiry_range_below(99).contains(layout.expiry_key(99, "")));
  EXPECT_TRUE(layout.all().contains(layout.stamp_key("k")));
  // FLUSHALL clears everything but the WATCH markers.
  EXPECT_EQ(layout.key_of_watch_marker(layout.watch_marker_key("k")), "k");
  EXPECT_TRUE(layout.watch_marker_range().contains(layout.watch_marker_key(std::string(9, '\xff'))));
  const auto flushed = [&](const Key& key) {
    bool contained = false;
    for (const KeyRange& range : layout.all_but_watch_markers()) contained = contained || range.contains(key);
    return contained;
  };
  EXPECT_FALSE(flushed(layout.watch_marker_key("k")));
  for (const Key& key : {layout.meta_key("k"), layout.stamp_key("k"), layout.field_key("k", "f"), layout.expiry_key(1, "k")}) {
    EXPECT_TRUE(flushed(key));
  }
}

TEST(RespKeyspace, Integers) {
  int64_t value = 0;
  EXPECT_TRUE(parse_int64("-9223372036854775808", value));
  EXPECT_EQ(value, INT64_MIN);
  EXPECT_TRUE(parse_int64("9223372036854775807", value));
  EXPECT_FALSE(parse_int64("9223372036854775808", value));
  EXPECT_FALSE(parse_int64("01", value));
  EXPECT_FALSE(parse_int64("-0", value));
  EXPECT_FALSE(parse_int64(" 1", value));
  EXPECT_FALSE(parse_int64("+1", value));
  EXPECT_FALSE(parse_int64("", value));
  long double number = 0;
  EXPECT_TRUE(parse_long_double("1.5e3", number));
  EXPECT_FALSE(parse_long_double("1.5 ", number));
  EXPECT_FALSE(parse_long_double("nan", number));
}

TEST(RespKeyspace, ScanCursors) {
  for (const std::string& key : {std::string(), std::string("a"), std::string("\0\0x", 3), std::string(300, '\xff')}) {
    const std::string cursor = encode_scan_cursor(key);
    ASSERT_NE(cursor, "0");
    for (char c : cursor) ASSERT_TRUE(c >= '0' && c <= '9');
    const auto position = decode_scan_cursor(cursor);
    ASSERT_TRUE(position.has_value());
    EXPECT_FALSE(position->start);
    EXPECT_EQ(position->last_key, key);
  }
  EXPECT_TRUE(decode_scan_cursor("0")->start);
  EXPECT_FALSE(decode_scan_cursor("12x").has_value());
  EXPECT_FALSE(decode_scan_cursor("2").has_value());
}

TEST(RespKeyspace, ScanCursorTableFitsIn63Bits) {
  ScanCursorTable table(3, 1'000'000);
  // Short keys: stateless, below 2^57.
  for (const std::string& key : {std::string("a"), std::string("1234567"), std::string("\xff\xff\xff\xff\xff\xff\xff")}) {
    const std::string cursor = table.encode(key);
    EXPECT_LT(std::stoull(cursor), uint64_t{1} << 57);
    const ScanCursorLookup lookup = table.decode(cursor);
    ASSERT_EQ(lookup.status, ScanCursorLookup::Status::ok);
    EXPECT_EQ(lookup.position.last_key, key);
  }
  EXPECT_EQ(table.size(), 0u);
  // Long keys: table ids in [2^62, 2^63).
  std::vector<std::string> cursors;
  for (int i = 0; i < 3; ++i) cursors.push_back(table.encode(std::string(300 + i, 'k')));
  for (int i = 0; i < 3; ++i) {
    const uint64_t id = std::stoull(cursors[i]);
    EXPECT_GE(id, uint64_t{1} << 62);
    EXPECT_LT(id, uint64_t{1} << 63);
    const ScanCursorLookup lookup = table.decode(cursors[i]);
    ASSERT_EQ(lookup.status, ScanCursorLookup::Status::ok);
    EXPECT_EQ(lookup.position.last_key, std::string(300 + i, 'k'));
  }
  // The least recently used is evicted: cursors[0] was used before cursors[1] and [2].
  const std::string fourth = table.encode(std::string(400, 'z'));
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.decode(cursors[0]).status, ScanCursorLookup::Status::expired);
  EXPECT_EQ(table.decode(cursors[1]).status, ScanCursorLookup::Status::ok);
  EXPECT_EQ(table.decode(fourth).status, ScanCursorLookup::Status::ok);
  // Never issued, or not a cursor.
  EXPECT_EQ(table.decode(std::to_string((uint64_t{1} << 62) + 1000)).status, ScanCursorLookup::Status::invalid);
  EXPECT_EQ(table.decode("12x").status, ScanCursorLookup::Status::invalid);
  EXPECT_TRUE(table.decode("0").position.start);
  // The long decimal form older front ends issued still works.
  EXPECT_EQ(table.decode(encode_scan_cursor(std::string(50, 'q'))).position.last_key, std::string(50, 'q'));
  // The byte bound.
  ScanCursorTable small(100, 1000);
  for (int i = 0; i < 10; ++i) small.encode(std::string(300, static_cast<char>('a' + i)));
  EXPECT_LE(small.bytes(), 1000u);
  EXPECT_EQ(small.size(), 3u);
}

TEST(RespKeyspace, Glob) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("k*y", "key"));
  EXPECT_TRUE(glob_match("h?llo", "hello"));
  EXPECT_TRUE(glob_match("h[ae]llo", "hallo"));
  EXPECT_FALSE(glob_match("h[^e]llo", "hello"));
  EXPECT_TRUE(glob_match("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(glob_match("a\\*b", "axb"));
  EXPECT_TRUE(glob_match("*a*b*c*", "xxaxxbxxc"));
  EXPECT_FALSE(glob_match("*a*b*c*", "xxaxxbxx"));
  EXPECT_TRUE(glob_match("SAVE", "save", true));
  EXPECT_EQ(glob_literal_prefix("user:*"), "user:");
}

}  // namespace
}  // namespace keel
