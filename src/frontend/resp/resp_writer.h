// ReplyWriter: encodes replies in RESP2 or RESP3 (the connection's protocol, switched by
// HELLO). RESP3 types fall back as Redis does in RESP2: a map becomes a flat array of 2n
// elements, a set an array, null `$-1` (or `*-1` for a null array), a double a bulk string,
// verbatim text a bulk string.
//
// A writer only appends to its buffer; the caller sends or discards it. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

class ReplyWriter {
 public:
  explicit ReplyWriter(int protocol = 2) : protocol_(protocol) {}

  int protocol() const { return protocol_; }
  void set_protocol(int protocol) { protocol_ = protocol; }

  void simple(std::string_view text);  // +text (no CR or LF inside)
  // -text: `text` begins with the error code ("ERR ...", "WRONGTYPE ..."); CR and LF become spaces.
  void error(std::string_view text);
  void ok() { simple("OK"); }
  void integer(int64_t value);
  void bulk(std::string_view bytes);
  void null();        // a missing value
  void bulk_or_null(const std::optional<std::string>& value) { value ? bulk(*value) : null(); }
  void null_array();  // a missing array (EXEC aborted by WATCH, BLPOP timeout)
  void array(size_t count);
  void map(size_t pairs);
  void set(size_t count);
  void double_value(double value);
  void boolean(bool value);       // RESP2: integer 0/1
  void verbatim(std::string_view text);  // "txt" verbatim string in RESP3

  void append(const ReplyWriter& other) {
    buffer_ += other.buffer_;
    error_codes_.insert(error_codes_.end(), other.error_codes_.begin(), other.error_codes_.end());
  }
  void clear() {
    buffer_.clear();
    error_codes_.clear();
  }
  const std::string& buffer() const { return buffer_; }
  std::string take() { return std::move(buffer_); }
  size_t size() const { return buffer_.size(); }
  int errors_written() const { return static_cast<int>(error_codes_.size()); }
  // The code (first word: ERR, WRONGTYPE...) of each error written, in order (INFO errorstats).
  const std::vector<std::string>& error_codes() const { return error_codes_; }

 private:
  void header(char type, int64_t count);

  int protocol_;
  std::string buffer_;
  std::vector<std::string> error_codes_;
};

// Redis's human-friendly rendering of a floating-point result (INCRBYFLOAT): fixed notation
// with 17 digits, trailing zeros (and a trailing point) removed.
std::string format_long_double(long double value);
// Shortest round-trip rendering of a double, as RESP3 doubles and Redis replies use ("inf",
// "-inf", "nan" for the specials).
std::string format_double(double value);

}  // namespace keel
