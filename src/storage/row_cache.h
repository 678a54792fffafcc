// RowCache: a bounded cache of point-read results, a key's value or its absence, that an engine
// keeps in front of a lookup that costs cache misses (the rocksdb engine's memtable skip lists
// and block binary searches): a hit is one hash lookup.
//
// The cache knows nothing of the store: the engine inserts what it read and erases what it
// writes (or clears the whole cache), and must do so at the moment the write becomes what its
// reads see. Once the entries' bytes (keys, values and a fixed overhead each) pass the capacity,
// they are evicted by CLOCK, an approximation of least recently used: a hit only marks its entry
// (no list surgery on the read path); eviction takes the oldest entry, unless it was marked since
// it was last looked at, in which case the mark is cleared and the entry goes back to the
// newest end. Header-only, so any engine's library can use it.
// Not thread-safe: the event loop owns it.
#pragma once

#include <cstdint>
#include <iterator>
#include <list>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "protocol/types.h"

namespace keel {

class RowCache {
 public:
  // Bytes charged for an entry besides its key and value: list node, hash node, bookkeeping.
  static constexpr int64_t entry_overhead_bytes = 96;

  // capacity_bytes <= 0: the cache holds nothing.
  explicit RowCache(int64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  // True on a hit, with the cached result in `value` (nullopt: the key is absent).
  bool find(const Key& key, std::optional<Value>* value) {
    auto found = index_.find(std::string_view(key));
    if (found == index_.end()) {
      ++misses_;
      return false;
    }
    ++hits_;
    found->second->referenced = true;
    *value = found->second->value;
    return true;
  }

  // Caches `value` as the result for `key`, replacing any cached one. An entry larger than a
  // sixteenth of the capacity is not cached (it would push out many others).
  void insert(const Key& key, const std::optional<Value>& value) {
    const int64_t charge = charge_of(key, value);
    if (charge > capacity_bytes_ / 16) {
      erase(key);
      return;
    }
    auto found = index_.find(std::string_view(key));
    if (found != index_.end()) {
      bytes_ += charge - found->second->charge;
      found->second->value = value;
      found->second->charge = charge;
      found->second->referenced = true;
    } else {
      entries_.push_front(Entry{key, value, charge, false});
      index_.emplace(std::string_view(entries_.front().key), entries_.begin());
      bytes_ += charge;
    }
    while (bytes_ > capacity_bytes_) evict_one();
  }

  void erase(const Key& key) {
    auto found = index_.find(std::string_view(key));
    if (found == index_.end()) return;
    const auto entry = found->second;
    bytes_ -= entry->charge;
    index_.erase(found);
    entries_.erase(entry);
  }

  void clear() {
    index_.clear();
    entries_.clear();
    bytes_ = 0;
  }

  int64_t capacity_bytes() const { return capacity_bytes_; }
  int64_t bytes() const { return bytes_; }
  size_t size() const { return index_.size(); }
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  struct Entry {
    Key key;
    std::optional<Value> value;
    int64_t charge = 0;
    bool referenced = false;  // hit since eviction last looked at it
  };
  using Entries = std::list<Entry>;

  static int64_t charge_of(const Key& key, const std::optional<Value>& value) {
    return static_cast<int64_t>(key.size() + (value ? value->size() : 0)) + entry_overhead_bytes;
  }

  void evict_one() {
    // Every marked entry moved to the front loses its mark, so this ends within one pass.
    while (entries_.back().referenced) {
      entries_.back().referenced = false;
      entries_.splice(entries_.begin(), entries_, std::prev(entries_.end()));
    }
    const Entry& oldest = entries_.back();
    bytes_ -= oldest.charge;
    index_.erase(std::string_view(oldest.key));
    entries_.pop_back();
  }

  int64_t capacity_bytes_;
  int64_t bytes_ = 0;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
  Entries entries_;  // newest (or last given a second chance) first
  std::unordered_map<std::string_view, Entries::iterator> index_;  // views of the entries' keys
};

}  // namespace keel
