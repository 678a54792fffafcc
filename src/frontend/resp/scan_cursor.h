// SCAN cursors: stateless, the cursor is the last key returned, written as a decimal number so
// clients that parse cursors as integers (redis-py, Redis's Tcl tests) pass it back intact.
// The number is the big-endian value of the bytes 0x01 <key>; "0" starts (and ends) a scan.
// Clients that keep cursors in 64 bits (redis-cli --scan) work only for keys of up to 7 bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keel {

std::string encode_scan_cursor(std::string_view last_key);
// The last key of the previous page ("" with `start` true for cursor "0"); nullopt when
// `cursor` is not a cursor we made.
struct ScanPosition {
  bool start = true;
  std::string last_key;
};
std::optional<ScanPosition> decode_scan_cursor(std::string_view cursor);

// The literal prefix of a glob pattern (up to its first special character).
std::string glob_literal_prefix(std::string_view pattern);

}  // namespace keel
