#include "frontend/resp/scan_cursor.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/assert.h"

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

std::string ScanCursorTable::encode(std::string_view last_key) {
  if (last_key.size() <= stateless_key_bytes_max) return encode_scan_cursor(last_key);
  KEEL_ASSERT(next_id_ < (uint64_t{1} << 63));  // 2^62 cursors: centuries at any rate
  const uint64_t id = next_id_++;
  entries_.push_front(Entry{id, std::string(last_key)});
  by_id_[id] = entries_.begin();
  bytes_ += last_key.size();
  evict_beyond_limits();
  return std::to_string(id);
}

void ScanCursorTable::evict_beyond_limits() {
  while (entries_.size() > 1 && (entries_.size() > entries_max_ || bytes_ > bytes_max_)) {
    const Entry& oldest = entries_.back();
    bytes_ -= oldest.last_key.size();
    by_id_.erase(oldest.id);
    entries_.pop_back();
  }
}

ScanCursorLookup ScanCursorTable::decode(std::string_view cursor) {
  ScanCursorLookup lookup;
  uint64_t id = 0;
  bool table_id = cursor.size() == 19 && cursor[0] != '0';  // ids are 19-digit numbers in [2^62, 2^63)
  for (size_t i = 0; table_id && i < cursor.size(); ++i) {
    table_id = cursor[i] >= '0' && cursor[i] <= '9';
    if (table_id) id = id * 10 + static_cast<uint64_t>(cursor[i] - '0');
  }
  if (table_id && id >= first_id && id < (uint64_t{1} << 63)) {
    const auto found = by_id_.find(id);
    if (found == by_id_.end()) {
      lookup.status = id < next_id_ ? ScanCursorLookup::Status::expired : ScanCursorLookup::Status::invalid;
      return lookup;
    }
    entries_.splice(entries_.begin(), entries_, found->second);  // now the most recently used
    lookup.status = ScanCursorLookup::Status::ok;
    lookup.position.start = false;
    lookup.position.last_key = found->second->last_key;
    return lookup;
  }
  std::optional<ScanPosition> position = decode_scan_cursor(cursor);
  if (position) {
    lookup.status = ScanCursorLookup::Status::ok;
    lookup.position = std::move(*position);
  }
  return lookup;
}

std::string glob_literal_prefix(std::string_view pattern) {
  const size_t special = pattern.find_first_of("*?[\\");
  return std::string(pattern.substr(0, special));
}

}  // namespace keel
