#include "storage/rocksdb/rocksdb_overlay.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace keel {
namespace {

int64_t entry_bytes(std::string_view key, const std::optional<Value>& value) {
  return static_cast<int64_t>(key.size() + (value ? value->size() : 0));
}

bool key_less(const WriteOverlay::Write* a, const WriteOverlay::Write* b) { return a->key() < b->key(); }

}  // namespace

WriteOverlay::Write* WriteOverlay::entry_of(const Key& key) {
  auto [entry, inserted] = writes_.try_emplace(key);
  if (inserted) {
    // Keys that come in order (a slice, a sorted batch) keep the list sorted as they come.
    const bool in_order = sorted_ == order_.size() && (order_.empty() || order_.back()->key() < entry->key());
    order_.push_back(entry);
    if (in_order) sorted_ = order_.size();
  } else {
    bytes_ -= entry_bytes(entry->key(), entry->value);
  }
  return entry;
}

void WriteOverlay::set(const Key& key, Value value) {
  Write* entry = entry_of(key);
  entry->value = std::move(value);
  bytes_ += entry_bytes(entry->key(), entry->value);
}

void WriteOverlay::clear(const Key& key) {
  Write* entry = entry_of(key);
  entry->value.reset();
  bytes_ += entry_bytes(entry->key(), entry->value);
}

std::span<const WriteOverlay::Write* const> WriteOverlay::ordered_writes() const {
  if (sorted_ < order_.size()) {
    const auto middle = order_.begin() + static_cast<std::ptrdiff_t>(sorted_);
    std::sort(middle, order_.end(), key_less);
    std::inplace_merge(order_.begin(), middle, order_.end(), key_less);
    sorted_ = order_.size();
    looked_through_ = 0;
  }
  return order_;
}

void WriteOverlay::erase_writes(const KeyRange& range) {
  const std::span<const Write* const> ordered = ordered_writes();
  auto below = [](const Write* write, const Key& key) { return write->key() < std::string_view(key); };
  const auto first = std::lower_bound(ordered.begin(), ordered.end(), range.begin, below);
  const auto last = std::lower_bound(first, ordered.end(), range.end, below);
  if (first == last) return;
  for (auto it = first; it != last; ++it) {
    bytes_ -= entry_bytes((*it)->key(), (*it)->value);
    writes_.erase((*it)->key());  // frees the entry, whose key it reads only before that
  }
  order_.erase(order_.begin() + (first - ordered.begin()), order_.begin() + (last - ordered.begin()));
  sorted_ = order_.size();
}

void WriteOverlay::clear_range(const KeyRange& range) {
  if (range.empty()) return;
  erase_writes(range);
  bytes_ += add_cleared_range(cleared_, range);
}

void WriteOverlay::apply(const WriteOverlay& newer) {
  for (const auto& [begin, end] : newer.cleared_) clear_range(KeyRange{begin, end});
  // Each key once, so their order does not matter.
  newer.for_each_write([this](const Write& write) {
    const Key key(write.key());
    if (write.value) set(key, *write.value);
    else clear(key);
  });
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
  auto below = [](const Write* write, const Key& key) { return write->key() < std::string_view(key); };
  auto copy = [&part](const Write* write) {
    const Key key(write->key());
    if (write->value) part.set(key, *write->value);
    else part.clear(key);
  };
  // The keys that came since the last sort are looked through one by one rather than sorted
  // while that costs less than the sort would have: a few range reads over a layer that keeps
  // growing (the expiry sweeper's, against writes made durable by the thousand) need no sort.
  const size_t unsorted = order_.size() - sorted_;
  const double sort_comparisons = static_cast<double>(unsorted) * std::log2(static_cast<double>(unsorted) + 1);
  const bool look_through = static_cast<double>(looked_through_ + unsorted) <= sort_comparisons;
  if (look_through) looked_through_ += unsorted;
  const std::span<const Write* const> sorted =
      look_through ? std::span<const Write* const>(order_).first(sorted_) : ordered_writes();
  const auto last = std::lower_bound(sorted.begin(), sorted.end(), range.end, below);
  for (auto write = std::lower_bound(sorted.begin(), last, range.begin, below); write != last; ++write) copy(*write);
  if (look_through) {
    for (size_t i = sorted_; i < order_.size(); ++i) {
      const std::string_view key = order_[i]->key();
      if (key >= std::string_view(range.begin) && key < std::string_view(range.end)) copy(order_[i]);
    }
  }
  return part;
}

WriteOverlay::Lookup WriteOverlay::lookup(const Key& key, Value* value) const {
  if (const Write* found = writes_.find(key); found != nullptr) {
    if (!found->value) return Lookup::absent;
    *value = *found->value;
    return Lookup::present;
  }
  return cleared_range_containing(key) ? Lookup::absent : Lookup::unknown;
}

std::optional<KeyRange> WriteOverlay::cleared_range_containing(const Key& key) const {
  return cleared_range_holding(cleared_, key);
}

}  // namespace keel
