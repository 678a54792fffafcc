#include "frontend/resp/resp_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace keel {

void ReplyWriter::header(char type, int64_t count) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), count);
  buffer_.push_back(type);
  buffer_.append(digits, result.ptr);
  buffer_.append("\r\n");
}

void ReplyWriter::simple(std::string_view text) {
  buffer_.push_back('+');
  buffer_.append(text);
  buffer_.append("\r\n");
}

void ReplyWriter::error(std::string_view text) {
  error_codes_.emplace_back(text.substr(0, std::min(text.find(' '), size_t{64})));
  buffer_.push_back('-');
  for (char c : text) buffer_.push_back(c == '\r' || c == '\n' ? ' ' : c);
  buffer_.append("\r\n");
}

void ReplyWriter::integer(int64_t value) { header(':', value); }

void ReplyWriter::bulk(std::string_view bytes) {
  header('$', static_cast<int64_t>(bytes.size()));
  buffer_.append(bytes);
  buffer_.append("\r\n");
}

void ReplyWriter::null() {
  if (protocol_ >= 3) {
    buffer_.append("_\r\n");
  } else {
    buffer_.append("$-1\r\n");
  }
}

void ReplyWriter::null_array() {
  if (protocol_ >= 3) {
    buffer_.append("_\r\n");
  } else {
    buffer_.append("*-1\r\n");
  }
}

void ReplyWriter::array(size_t count) { header('*', static_cast<int64_t>(count)); }

void ReplyWriter::map(size_t pairs) {
  if (protocol_ >= 3) {
    header('%', static_cast<int64_t>(pairs));
  } else {
    header('*', static_cast<int64_t>(pairs * 2));
  }
}

void ReplyWriter::set(size_t count) { header(protocol_ >= 3 ? '~' : '*', static_cast<int64_t>(count)); }

void ReplyWriter::double_value(double value) {
  const std::string text = format_double(value);
  if (protocol_ >= 3) {
    buffer_.push_back(',');
    buffer_.append(text);
    buffer_.append("\r\n");
  } else {
    bulk(text);
  }
}

void ReplyWriter::boolean(bool value) {
  if (protocol_ >= 3) {
    buffer_.append(value ? "#t\r\n" : "#f\r\n");
  } else {
    integer(value ? 1 : 0);
  }
}

void ReplyWriter::verbatim(std::string_view text) {
  if (protocol_ < 3) {
    bulk(text);
    return;
  }
  header('=', static_cast<int64_t>(text.size() + 4));
  buffer_.append("txt:");
  buffer_.append(text);
  buffer_.append("\r\n");
}

std::string format_long_double(long double value) {
  char text[5 * 1024];
  const int length = std::snprintf(text, sizeof(text), "%.17Lf", value);
  if (length <= 0 || static_cast<size_t>(length) >= sizeof(text)) {
    const int general = std::snprintf(text, sizeof(text), "%.17Lg", value);
    return std::string(text, static_cast<size_t>(general));
  }
  std::string result(text, static_cast<size_t>(length));
  if (result.find('.') != std::string::npos) {
    while (!result.empty() && result.back() == '0') result.pop_back();
    if (!result.empty() && result.back() == '.') result.pop_back();
  }
  if (result == "-0") result = "0";
  return result;
}

std::string format_double(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (std::isnan(value)) return "nan";
  char text[64];
  const auto result = std::to_chars(text, text + sizeof(text), value);
  return std::string(text, result.ptr);
}

}  // namespace keel
