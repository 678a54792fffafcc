// RespParser: an incremental parser of Redis requests, as clients send them in RESP2 and RESP3
// alike: arrays of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline commands
// (`PING\r\n`, split on spaces with Redis's quoting rules). Pure: no I/O, fed bytes as they come.
//
// Contract: feed() appends bytes; next() yields complete commands in order, `need_more` when the
// buffer holds only part of one, or `malformed` once (then the connection must answer error()
// and close: the parser is stuck). Memory stays bounded by the limits: a bulk string longer than
// bulk_bytes_max, an array longer than array_length_max, an inline line longer than
// inline_bytes_max, or more than query_buffer_bytes_max bytes towards one unfinished command is
// malformed input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

struct RespLimits {
  size_t bulk_bytes_max = 100'000;
  size_t array_length_max = 1024 * 1024;
  size_t query_buffer_bytes_max = 64 * 1024 * 1024;
  size_t inline_bytes_max = 64 * 1024;
  // The length line of an array or bulk string ("*123\r\n") is at most this long.
  static constexpr size_t length_line_bytes_max = 32;
};

// The limits the knobs set now.
RespLimits resp_limits_from_knobs();

class RespParser {
 public:
  enum class Status { command, need_more, malformed };

  explicit RespParser(RespLimits limits = {}) : limits_(limits) {}

  // Limits for what comes next (CONFIG SET proto-max-bulk-len applies to every client at once).
  void set_limits(RespLimits limits) { limits_ = limits; }
  void feed(std::string_view bytes);
  // The next complete command into `command` (replaced), or why there is none.
  Status next(std::vector<std::string>& command);
  // The error text (without the leading '-') once next() returned malformed.
  const std::string& error() const { return error_; }
  // Bytes received and not yet returned as commands (the query buffer).
  size_t buffered_bytes() const { return buffer_.size() - position_ + partial_bytes_; }

 private:
  Status parse_inline(std::vector<std::string>& command);
  Status parse_array(std::vector<std::string>& command);
  // Reads a "<prefix><integer>\r\n" line at position_ into `value`.
  Status read_length_line(char prefix, long long& value);
  Status fail(std::string message);
  void compact();

  RespLimits limits_;
  std::string buffer_;
  size_t position_ = 0;  // bytes of buffer_ before it are consumed
  // The array being read: elements expected, elements read so far.
  long long array_remaining_ = -1;  // -1: not inside an array
  long long bulk_length_ = -1;      // -1: the next element's length line is not read yet
  std::vector<std::string> partial_;
  size_t partial_bytes_ = 0;
  std::string error_;
};

// Splits an inline command line into arguments: whitespace separates; "..." takes escapes
// (\n \r \t \b \a \\ \" \xHH); '...' takes \' only. False on unbalanced quotes (or a closing
// quote not followed by a space).
bool split_inline_arguments(std::string_view line, std::vector<std::string>& arguments);

}  // namespace keel
