#include "frontend/resp/scan_cursor.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace keel {
namespace {

constexpr size_t cursor_digits_max = 30'000;  // keys are at most 10,000 bytes

}  // namespace

std::string encode_scan_cursor(std::string_view last_key) {
  // Base-256 digits, most significant first, repeatedly divided by 10^9.
  std::vector<uint8_t> number;
  number.reserve(last_key.size() + 1);
  number.push_back(1);
  number.insert(number.end(), last_key.begin(), last_key.end());
  std::vector<uint32_t> chunks;  // base 10^9, least significant first
  size_t first = 0;
  while (first < number.size()) {
    uint64_t remainder = 0;
    for (size_t i = first; i < number.size(); ++i) {
      const uint64_t current = (remainder << 8) | number[i];
      number[i] = static_cast<uint8_t>(current / 1'000'000'000);
      remainder = current % 1'000'000'000;
    }
    chunks.push_back(static_cast<uint32_t>(remainder));
    while (first < number.size() && number[first] == 0) ++first;
  }
  std::string text = std::to_string(chunks.back());
  for (size_t i = chunks.size() - 1; i-- > 0;) {
    std::string part = std::to_string(chunks[i]);
    text.append(9 - part.size(), '0');
    text += part;
  }
  return text;
}

std::optional<ScanPosition> decode_scan_cursor(std::string_view cursor) {
  if (cursor == "0") return ScanPosition{};
  if (cursor.empty() || cursor.size() > cursor_digits_max || cursor[0] == '0') return std::nullopt;
  std::vector<uint8_t> number;  // base 256, least significant first
  for (char c : cursor) {
    if (c < '0' || c > '9') return std::nullopt;
    uint32_t carry = static_cast<uint32_t>(c - '0');
    for (uint8_t& digit : number) {
      const uint32_t current = digit * 10u + carry;
      digit = static_cast<uint8_t>(current & 0xff);
      carry = current >> 8;
    }
    while (carry != 0) {
      number.push_back(static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  if (number.empty() || number.back() != 1) return std::nullopt;
  number.pop_back();
  ScanPosition position;
  position.start = false;
  position.last_key.assign(number.rbegin(), number.rend());
  return position;
}

std::string glob_literal_prefix(std::string_view pattern) {
  const size_t special = pattern.find_first_of("*?[\\");
  return std::string(pattern.substr(0, special));
}

}  // namespace keel
