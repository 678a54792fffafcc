// ClearedRanges: the range clears of a layer of buffered writes (the ssd engine's Overlay, the
// rocksdb engine's WriteOverlay), kept as disjoint, non-touching ranges [begin, end) mapped
// begin -> end, in key order. Pure functions on the map; header-only, so each engine's library
// uses it without linking another.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>
#include <optional>

#include "protocol/types.h"

namespace keel {

using ClearedRanges = std::map<Key, Key>;

// Adds `range`, merged with every range of `ranges` it overlaps or touches; nothing if it is
// empty. Returns how the bytes of the stored begin and end keys changed (for memory accounting).
inline int64_t add_cleared_range(ClearedRanges& ranges, const KeyRange& range) {
  if (range.empty()) return 0;
  int64_t bytes_change = 0;
  Key begin = range.begin;
  Key end = range.end;
  auto it = ranges.upper_bound(begin);
  if (it != ranges.begin() && std::prev(it)->second >= begin) --it;
  while (it != ranges.end() && it->first <= end) {
    if (it->first < begin) begin = it->first;
    if (it->second > end) end = it->second;
    bytes_change -= static_cast<int64_t>(it->first.size() + it->second.size());
    it = ranges.erase(it);
  }
  bytes_change += static_cast<int64_t>(begin.size() + end.size());
  ranges.emplace(std::move(begin), std::move(end));
  return bytes_change;
}

// The range of `ranges` that holds `key`, if any.
inline std::optional<KeyRange> cleared_range_holding(const ClearedRanges& ranges, const Key& key) {
  auto it = ranges.upper_bound(key);
  if (it == ranges.begin()) return std::nullopt;
  --it;
  if (key < it->second) return KeyRange{it->first, it->second};
  return std::nullopt;
}

}  // namespace keel
