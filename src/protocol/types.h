// The data model shared by clients and servers: versions, keys, values, ranges, mutations and
// key selectors. Part of the wire format: field order in serialize() must never change.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace keel {

// Versions advance about versions_per_second per second; a read version sees every commit with
// a version at or below it.
using Version = int64_t;
inline constexpr Version invalid_version = -1;

using Key = std::string;
using Value = std::string;

struct KeyValue {
  Key key;
  Value value;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(key, value);
  }
  bool operator==(const KeyValue&) const = default;
};

// [begin, end): begin included, end excluded. Empty when begin >= end.
struct KeyRange {
  Key begin;
  Key end;
  bool contains(const Key& key) const { return begin <= key && key < end; }
  bool empty() const { return begin >= end; }
  bool intersects(const KeyRange& other) const { return begin < other.end && other.begin < end; }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(begin, end);
  }
  bool operator==(const KeyRange&) const = default;
};

// The smallest key greater than `key`.
inline Key key_after(const Key& key) {
  Key after;
  after.reserve(key.size() + 1);  // one allocation, where key + '\0' made two
  after.append(key);
  after.push_back('\0');
  return after;
}
// A range holding exactly `key`.
inline KeyRange single_key_range(Key key) {
  Key end = key_after(key);
  return KeyRange{std::move(key), std::move(end)};
}
// Whether `range` is single_key_range(range.begin): it holds one key and no other.
inline bool is_single_key_range(const KeyRange& range) {
  return range.end.size() == range.begin.size() + 1 && range.end.back() == '\0' &&
         range.end.compare(0, range.begin.size(), range.begin) == 0;
}

// Mutation types. The numbers are on the wire and in logs: never renumber.
enum class MutationType : uint8_t {
  set_value = 0,
  clear_range = 1,
  add = 2,
  bit_and = 3,
  bit_or = 4,
  bit_xor = 5,
  max = 6,
  min = 7,
  byte_min = 8,
  byte_max = 9,
  append_if_fits = 10,
  compare_and_clear = 11,
  set_versionstamped_key = 12,
  set_versionstamped_value = 13,
};

// One write. set_value: param1 = key, param2 = value. clear_range: [param1, param2).
// Atomic ops: param1 = key, param2 = operand. Versionstamped: see atomic_ops.h.
struct Mutation {
  MutationType type = MutationType::set_value;
  std::string param1;
  std::string param2;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(type, param1, param2);
  }
  bool operator==(const Mutation&) const = default;
  size_t expected_size() const { return param1.size() + param2.size() + 1; }
};

// A key selector: the key `offset` keys after the last key that is < `key` (or <= `key` if
// `or_equal`). first_greater_or_equal(k) = {k, false, 1}; first_greater_than(k) = {k, true, 1};
// last_less_or_equal(k) = {k, true, 0}; last_less_than(k) = {k, false, 0}.
struct KeySelector {
  Key key;
  bool or_equal = false;
  int32_t offset = 1;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(key, or_equal, offset);
  }
  bool operator==(const KeySelector&) const = default;

  static KeySelector first_greater_or_equal(Key key) { return {std::move(key), false, 1}; }
  static KeySelector first_greater_than(Key key) { return {std::move(key), true, 1}; }
  static KeySelector last_less_or_equal(Key key) { return {std::move(key), true, 0}; }
  static KeySelector last_less_than(Key key) { return {std::move(key), false, 0}; }
};

}  // namespace keel
