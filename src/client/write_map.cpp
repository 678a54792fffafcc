#include "client/write_map.h"

#include "protocol/atomic_ops.h"

namespace keel {

void WriteMap::set(const Key& key, const Value& value) {
  Entry& entry = entries_[key];
  entry.independent = true;
  entry.value = value;
  entry.pending.clear();
}

void WriteMap::clear(const KeyRange& range) {
  if (range.empty()) return;
  entries_.erase(entries_.lower_bound(range.begin), entries_.lower_bound(range.end));
  Key begin = range.begin;
  Key end = range.end;
  // Merge with every cleared range that overlaps or touches [begin, end).
  auto it = cleared_.upper_bound(begin);
  if (it != cleared_.begin() && std::prev(it)->second >= begin) --it;
  while (it != cleared_.end() && it->first <= end) {
    begin = std::min(begin, it->first);
    end = std::max(end, it->second);
    it = cleared_.erase(it);
  }
  cleared_[begin] = end;
}

void WriteMap::atomic(MutationType type, const Key& key, const Value& operand) {
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& entry = it->second;
  if (inserted && cleared(key)) {
    entry.independent = true;  // cleared earlier in this transaction: the base is known absent
  }
  if (entry.independent) {
    entry.value = apply_atomic(type, entry.value, operand);
  } else {
    entry.pending.emplace_back(type, operand);
  }
}

bool WriteMap::needs_stored(const Key& key) const {
  auto it = entries_.find(key);
  if (it != entries_.end()) return !it->second.independent;
  return !cleared(key);
}

std::optional<Value> WriteMap::read(const Key& key, std::optional<Value> stored) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return cleared(key) ? std::nullopt : std::move(stored);
  const Entry& entry = it->second;
  if (entry.independent) return entry.value;
  std::optional<Value> value = std::move(stored);
  for (const auto& [type, operand] : entry.pending) value = apply_atomic(type, value, operand);
  return value;
}

std::vector<Key> WriteMap::keys_in(const KeyRange& range) const {
  std::vector<Key> keys;
  for (auto it = entries_.lower_bound(range.begin); it != entries_.end() && it->first < range.end; ++it) {
    keys.push_back(it->first);
  }
  return keys;
}

bool WriteMap::cleared(const Key& key) const {
  auto it = cleared_.upper_bound(key);
  if (it == cleared_.begin()) return false;
  --it;
  return key < it->second;
}

void WriteMap::reset() {
  entries_.clear();
  cleared_.clear();
}

}  // namespace keel
