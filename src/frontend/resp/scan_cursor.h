// SCAN cursors: a cursor names the last key (or hash field) returned, as a decimal number that
// fits in 63 bits, since clients keep cursors in signed 64-bit integers (redis-cli --scan, Jedis)
// or parse them as integers (redis-py, Redis's Tcl tests). "0" starts (and ends) a scan.
//
//  - A last key of at most 7 bytes is the cursor itself, stateless: the big-endian value of the
//    bytes 0x01 <key> (below 2^57), valid on any front end and across restarts.
//  - A longer last key is kept in the front end's ScanCursorTable under an id in [2^62, 2^63).
//    The table is bounded (entries and bytes, least recently used evicted): a cursor evicted or
//    from another front-end process (or before a restart) gets a clear error, and the client
//    starts again from 0. A live scan's cursor is the most recently used, so only scans left
//    idle while very many others run lose theirs.
//
// decode_scan_cursor also still accepts the long decimal form of any key (the number of
// 0x01 <key>), which older front ends issued.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace keel {

std::string encode_scan_cursor(std::string_view last_key);
// The last key of the previous page ("" with `start` true for cursor "0"); nullopt when
// `cursor` is not a cursor we made.
struct ScanPosition {
  bool start = true;
  std::string last_key;
};
std::optional<ScanPosition> decode_scan_cursor(std::string_view cursor);

// The last key of the previous page, or why the cursor names none.
struct ScanCursorLookup {
  enum class Status { ok, invalid, expired } status = Status::invalid;
  ScanPosition position;
};

// The front end's cursors of long keys. Single-threaded (the event loop).
class ScanCursorTable {
 public:
  static constexpr uint64_t first_id = uint64_t{1} << 62;
  static constexpr size_t stateless_key_bytes_max = 7;

  ScanCursorTable(size_t entries_max, size_t bytes_max) : entries_max_(entries_max), bytes_max_(bytes_max) {}

  // The cursor that continues after `last_key`.
  std::string encode(std::string_view last_key);
  ScanCursorLookup decode(std::string_view cursor);

  size_t size() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  struct Entry {
    uint64_t id;
    std::string last_key;
  };
  void evict_beyond_limits();

  size_t entries_max_;
  size_t bytes_max_;
  size_t bytes_ = 0;
  uint64_t next_id_ = first_id;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<uint64_t, std::list<Entry>::iterator> by_id_;
};

// The literal prefix of a glob pattern (up to its first special character).
std::string glob_literal_prefix(std::string_view pattern);

}  // namespace keel
