#include "storage/rocksdb/rocksdb_overlay.h"

#include <algorithm>


namespace keel {
namespace {

int64_t entry_bytes(const Key& key, const std::optional<Value>& value) {
  return static_cast<int64_t>(key.size() + (value ? value->size() : 0));
}

}  // namespace

void WriteOverlay::index(Writes::iterator it) { index_.emplace(std::string_view(it->first), it); }

void WriteOverlay::set(const Key& key, const Value& value) {
  if (auto found = index_.find(key); found != index_.end()) {
    const Writes::iterator it = found->second;
    bytes_ -= entry_bytes(it->first, it->second);
    it->second = value;
    bytes_ += entry_bytes(it->first, it->second);
    return;
  }
  const Writes::iterator it = writes_.try_emplace(key, value).first;
  index(it);
  bytes_ += entry_bytes(it->first, it->second);
}

void WriteOverlay::clear(const Key& key) {
  if (auto found = index_.find(key); found != index_.end()) {
    const Writes::iterator it = found->second;
    bytes_ -= entry_bytes(it->first, it->second);
    it->second.reset();
    bytes_ += entry_bytes(it->first, it->second);
    return;
  }
  const Writes::iterator it = writes_.try_emplace(key, std::nullopt).first;
  index(it);
  bytes_ += entry_bytes(it->first, it->second);
}

void WriteOverlay::erase_writes(const KeyRange& range) {
  auto first = writes_.lower_bound(range.begin);
  auto last = writes_.lower_bound(range.end);
  for (auto it = first; it != last; ++it) {
    bytes_ -= entry_bytes(it->first, it->second);
    index_.erase(std::string_view(it->first));
  }
  writes_.erase(first, last);
}

void WriteOverlay::clear_range(const KeyRange& range) {
  if (range.empty()) return;
  erase_writes(range);
  bytes_ += add_cleared_range(cleared_, range);
}

void WriteOverlay::apply(const WriteOverlay& newer) {
  for (const auto& [begin, end] : newer.cleared_) clear_range(KeyRange{begin, end});
  for (const auto& [key, value] : newer.writes_) {
    if (value) set(key, *value);
    else clear(key);
  }
}

WriteOverlay WriteOverlay::slice(const KeyRange& range) const {
  WriteOverlay part;
  if (range.empty()) return part;
  auto it = cleared_.upper_bound(range.begin);
  if (it != cleared_.begin()) --it;
  for (; it != cleared_.end() && it->first < range.end; ++it) {
    KeyRange overlap{std::max(it->first, range.begin), std::min(it->second, range.end)};
    part.clear_range(overlap);  // empty overlaps are ignored
  }
  auto last = writes_.lower_bound(range.end);
  for (auto write = writes_.lower_bound(range.begin); write != last; ++write) {
    if (write->second) part.set(write->first, *write->second);
    else part.clear(write->first);
  }
  return part;
}

WriteOverlay::Lookup WriteOverlay::lookup(const Key& key, Value* value) const {
  if (auto found = index_.find(key); found != index_.end()) {
    const std::optional<Value>& written = found->second->second;
    if (!written) return Lookup::absent;
    *value = *written;
    return Lookup::present;
  }
  return cleared_range_containing(key) ? Lookup::absent : Lookup::unknown;
}

std::optional<KeyRange> WriteOverlay::cleared_range_containing(const Key& key) const {
  return cleared_range_holding(cleared_, key);
}

}  // namespace keel
