#include "frontend/resp/bit_string.h"

#include <algorithm>
#include <bit>

#include "runtime/assert.h"

namespace keel {
namespace {

// The bits of byte `index` that lie in `span`, as a mask (0x80 is the byte's first bit).
uint8_t byte_mask(int64_t index, BitSpan span) {
  const int64_t low = std::max(span.first_bit, index * 8) - index * 8;
  const int64_t high = std::min(span.last_bit, index * 8 + 7) - index * 8;
  KEEL_ASSERT(low >= 0 && low <= high && high <= 7);
  return static_cast<uint8_t>((0xffu >> low) & (0xffu << (7 - high)));
}

void check_inside(std::string_view value, BitSpan span) {
  KEEL_ASSERT(span.empty() || (span.first_bit >= 0 && span.last_bit < static_cast<int64_t>(value.size()) * 8));
}

}  // namespace

BitSpan resolve_bit_span(int64_t value_bytes, int64_t start, int64_t end, BitUnit unit) {
  KEEL_ASSERT(value_bytes >= 0 && value_bytes <= INT64_MAX / 8);
  const int64_t total = unit == BitUnit::bit ? value_bytes * 8 : value_bytes;
  if (total == 0) return BitSpan{};
  if (start < 0) start += total;
  if (end < 0) end += total;
  start = std::max<int64_t>(start, 0);
  end = std::clamp<int64_t>(end, 0, total - 1);
  if (start > end) return BitSpan{};
  if (unit == BitUnit::bit) return BitSpan{start, end};
  return BitSpan{start * 8, end * 8 + 7};
}

bool get_bit(std::string_view value, uint64_t offset) {
  const uint64_t index = offset / 8;
  if (index >= value.size()) return false;
  return (static_cast<uint8_t>(value[index]) & (0x80u >> (offset % 8))) != 0;
}

void put_bit(std::string& value, uint64_t offset, bool bit) {
  const uint64_t index = offset / 8;
  KEEL_ASSERT(index < value.size());
  const auto mask = static_cast<uint8_t>(0x80u >> (offset % 8));
  auto byte = static_cast<uint8_t>(value[index]);
  byte = bit ? static_cast<uint8_t>(byte | mask) : static_cast<uint8_t>(byte & ~mask);
  value[index] = static_cast<char>(byte);
  KEEL_ASSERT(get_bit(value, offset) == bit);
}

int64_t count_bits(std::string_view value, BitSpan span) {
  check_inside(value, span);
  if (span.empty()) return 0;
  int64_t count = 0;
  for (int64_t index = span.first_bit / 8; index <= span.last_bit / 8; ++index) {
    count += std::popcount(static_cast<uint8_t>(static_cast<uint8_t>(value[index]) & byte_mask(index, span)));
  }
  return count;
}

int64_t find_bit(std::string_view value, BitSpan span, bool bit) {
  check_inside(value, span);
  if (span.empty()) return -1;
  for (int64_t index = span.first_bit / 8; index <= span.last_bit / 8; ++index) {
    const auto byte = static_cast<uint8_t>(value[index]);
    const auto wanted = static_cast<uint8_t>((bit ? byte : ~byte) & byte_mask(index, span));
    if (wanted != 0) return index * 8 + std::countl_zero(wanted);
  }
  return -1;
}

std::string bit_operation(BitOperation operation, const std::vector<std::string_view>& values) {
  size_t length = 0;
  for (std::string_view value : values) length = std::max(length, value.size());
  auto byte_of = [](std::string_view value, size_t index) -> unsigned char {
    return index < value.size() ? static_cast<unsigned char>(value[index]) : 0;
  };
  std::string result(length, '\0');
  for (size_t i = 0; i < length; ++i) {
    unsigned char byte = values.empty() ? 0 : byte_of(values.front(), i);
    for (size_t k = 1; k < values.size(); ++k) {
      const unsigned char next = byte_of(values[k], i);
      if (operation == BitOperation::bit_and) byte &= next;
      else if (operation == BitOperation::bit_or) byte |= next;
      else byte ^= next;
    }
    if (operation == BitOperation::bit_not) byte = static_cast<unsigned char>(~byte);
    result[i] = static_cast<char>(byte);
  }
  return result;
}

}  // namespace keel
