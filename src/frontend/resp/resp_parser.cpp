#include "frontend/resp/resp_parser.h"

#include <algorithm>

#include "frontend/resp/resp_knobs.h"
#include "runtime/assert.h"

namespace keel {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Parses a decimal integer (optional '-') spanning all of `text`.
bool parse_length(std::string_view text, long long& value) {
  if (text.empty() || text.size() > 19) return false;
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    i = 1;
    if (text.size() == 1) return false;
  }
  long long result = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    result = result * 10 + (text[i] - '0');
  }
  value = negative ? -result : result;
  return true;
}

// Reads one double-quoted argument starting after the opening quote; `i` ends after the closing.
bool read_double_quoted(std::string_view line, size_t& i, std::string& out) {
  while (i < line.size()) {
    const char c = line[i];
    if (c == '"') {
      ++i;
      return i == line.size() || is_space(line[i]);
    }
    if (c == '\\' && i + 1 < line.size()) {
      const char escaped = line[i + 1];
      if (escaped == 'x' && i + 3 < line.size() && hex_digit(line[i + 2]) >= 0 && hex_digit(line[i + 3]) >= 0) {
        out.push_back(static_cast<char>(hex_digit(line[i + 2]) * 16 + hex_digit(line[i + 3])));
        i += 4;
        continue;
      }
      switch (escaped) {
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'b': out.push_back('\b'); break;
        case 'a': out.push_back('\a'); break;
        default: out.push_back(escaped); break;
      }
      i += 2;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return false;  // no closing quote
}

bool read_single_quoted(std::string_view line, size_t& i, std::string& out) {
  while (i < line.size()) {
    const char c = line[i];
    if (c == '\'') {
      ++i;
      return i == line.size() || is_space(line[i]);
    }
    if (c == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
      out.push_back('\'');
      i += 2;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return false;
}

}  // namespace

RespLimits resp_limits_from_knobs() {
  RespLimits limits;
  limits.bulk_bytes_max = static_cast<size_t>(resp_knobs().resp_bulk_bytes_max);
  limits.array_length_max = static_cast<size_t>(resp_knobs().resp_array_length_max);
  limits.query_buffer_bytes_max = static_cast<size_t>(resp_knobs().resp_query_buffer_bytes_max);
  return limits;
}

bool split_inline_arguments(std::string_view line, std::vector<std::string>& arguments) {
  arguments.clear();
  size_t i = 0;
  while (true) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size()) return true;
    std::string argument;
    while (i < line.size() && !is_space(line[i])) {
      if (line[i] == '"' || line[i] == '\'') {
        const char quote = line[i++];
        const bool closed = quote == '"' ? read_double_quoted(line, i, argument) : read_single_quoted(line, i, argument);
        if (!closed) return false;
        break;
      }
      argument.push_back(line[i++]);
    }
    arguments.push_back(std::move(argument));
  }
}

void RespParser::feed(std::string_view bytes) { buffer_.append(bytes); }

RespParser::Status RespParser::fail(std::string message) {
  error_ = "ERR Protocol error: " + std::move(message);
  return Status::malformed;
}

void RespParser::compact() {
  if (position_ == buffer_.size()) {
    buffer_.clear();
    position_ = 0;
  } else if (position_ > 4096 && position_ * 2 > buffer_.size()) {
    buffer_.erase(0, position_);
    position_ = 0;
  }
}

RespParser::Status RespParser::next(std::vector<std::string>& command) {
  if (!error_.empty()) return Status::malformed;
  while (true) {
    Status status;
    if (array_remaining_ < 0) {
      if (position_ == buffer_.size()) {
        compact();
        return Status::need_more;
      }
      status = buffer_[position_] == '*' ? parse_array(command) : parse_inline(command);
    } else {
      status = parse_array(command);
    }
    compact();
    if (status != Status::command) {
      if (status == Status::need_more && buffered_bytes() > limits_.query_buffer_bytes_max) {
        return fail("query buffer exceeds " + std::to_string(limits_.query_buffer_bytes_max) + " bytes");
      }
      return status;
    }
    if (!command.empty()) return Status::command;  // empty lines and arrays are skipped
  }
}

RespParser::Status RespParser::parse_inline(std::vector<std::string>& command) {
  const size_t newline = buffer_.find('\n', position_);
  if (newline == std::string::npos) {
    if (buffer_.size() - position_ > limits_.inline_bytes_max) return fail("too big inline request");
    return Status::need_more;
  }
  if (newline - position_ > limits_.inline_bytes_max) return fail("too big inline request");
  std::string_view line(buffer_.data() + position_, newline - position_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!split_inline_arguments(line, command)) return fail("unbalanced quotes in request");
  position_ = newline + 1;
  return Status::command;
}

RespParser::Status RespParser::read_length_line(char prefix, long long& value) {
  KEEL_ASSERT(position_ < buffer_.size());
  const size_t end = buffer_.find('\r', position_);
  if (end == std::string::npos || end + 1 >= buffer_.size()) {
    if (buffer_.size() - position_ > RespLimits::length_line_bytes_max) {
      return fail(prefix == '*' ? "too big mbulk count string" : "too big bulk count string");
    }
    return Status::need_more;
  }
  if (buffer_[position_] != prefix) {
    return fail(std::string("expected '") + prefix + "', got '" + buffer_[position_] + "'");
  }
  const std::string_view digits(buffer_.data() + position_ + 1, end - position_ - 1);
  if (buffer_[end + 1] != '\n' || !parse_length(digits, value)) {
    return fail(prefix == '*' ? "invalid multibulk length" : "invalid bulk length");
  }
  position_ = end + 2;
  return Status::command;
}

RespParser::Status RespParser::parse_array(std::vector<std::string>& command) {
  if (array_remaining_ < 0) {
    long long count = 0;
    const size_t header_begin = position_;
    const Status status = read_length_line('*', count);
    if (status != Status::command) return status;
    if (count > static_cast<long long>(limits_.array_length_max)) return fail("invalid multibulk length");
    if (count <= 0) {
      command.clear();
      return Status::command;
    }
    array_remaining_ = count;
    partial_.clear();
    partial_.reserve(static_cast<size_t>(std::min<long long>(count, 1024)));
    partial_bytes_ = position_ - header_begin;
  }
  while (array_remaining_ > 0) {
    if (position_ == buffer_.size()) return Status::need_more;
    if (bulk_length_ < 0) {
      long long length = 0;
      const size_t header_begin = position_;
      const Status status = read_length_line('$', length);
      if (status != Status::command) return status;
      partial_bytes_ += position_ - header_begin;
      if (length < 0) return fail("invalid bulk length");
      if (length > static_cast<long long>(limits_.bulk_bytes_max)) {
        return fail("invalid bulk length (the limit is " + std::to_string(limits_.bulk_bytes_max) +
                    " bytes, the knob resp_bulk_bytes_max)");
      }
      bulk_length_ = length;
    }
    const size_t needed = static_cast<size_t>(bulk_length_) + 2;
    if (buffer_.size() - position_ < needed) return Status::need_more;
    if (buffer_[position_ + needed - 2] != '\r' || buffer_[position_ + needed - 1] != '\n') {
      return fail("invalid bulk terminator");
    }
    partial_.emplace_back(buffer_, position_, static_cast<size_t>(bulk_length_));
    partial_bytes_ += needed;
    position_ += needed;
    bulk_length_ = -1;
    --array_remaining_;
  }
  array_remaining_ = -1;
  partial_bytes_ = 0;
  command = std::move(partial_);
  partial_ = {};
  return Status::command;
}

}  // namespace keel
