// RowCache: a bounded cache of point-read results, a key's value or its absence, that an engine
// keeps in front of a lookup that costs cache misses (the rocksdb engine's memtable skip lists
// and block binary searches): a hit is one lookup in a KeyTable (storage/key_table.h), the slot
// and the entry.
//
// The cache knows nothing of the store: the engine inserts what it read and refreshes (or
// erases) what it writes, or clears the whole cache, and must do so at the moment the write
// becomes what its reads see. Once the entries' bytes (keys, values and a fixed overhead each) pass the capacity,
// they are evicted by CLOCK, an approximation of least recently used: a hit only marks its entry
// (no list surgery on the read path); eviction takes the oldest entry, unless it was marked since
// it was last looked at, in which case the mark is cleared and the entry goes back to the
// newest end. The order is a list linked through the entries themselves (they never move).
// Header-only, so any engine's library can use it.
// Not thread-safe: the event loop owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/types.h"
#include "storage/key_table.h"

namespace keel {

class RowCache {
 public:
  // Bytes charged for an entry besides its key and value: table slots, entry, bookkeeping.
  static constexpr int64_t entry_overhead_bytes = 96;

  // capacity_bytes <= 0: the cache holds nothing.
  explicit RowCache(int64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  // True on a hit, with the cached result in `value` (nullopt: the key is absent).
  bool find(std::string_view key, std::optional<Value>* value) {
    Entry* entry = table_.find(key);
    if (entry == nullptr) {
      ++misses_;
      return false;
    }
    ++hits_;
    entry->value.referenced = true;
    *value = entry->value.value;
    return true;
  }

  // The cached result for `key` without counting a lookup or marking the entry: nullptr on a
  // miss (valid until the cache next changes).
  const std::optional<Value>* peek(std::string_view key) const {
    const Entry* entry = table_.find(key);
    return entry == nullptr ? nullptr : &entry->value.value;
  }

  void prefetch(std::string_view key, int stage) const { table_.prefetch(key, stage); }

  // Caches `value` as the result for `key` (a read's), replacing any cached one (a replaced
  // entry counts as hit). An entry larger than a sixteenth of the capacity is not cached (it
  // would push out many others).
  void insert(std::string_view key, const std::optional<Value>& value) { store(key, value, true); }

  // A write of `key` became what reads see: the cache takes the written result (nullopt: the
  // key was cleared), whether or not a read cached the key before. Written keys are read back
  // soon (a Redis SET reads the record it replaces; later commands read what earlier ones
  // wrote); a write does not count as a hit, so written keys nobody reads go first.
  void refresh(std::string_view key, const std::optional<Value>& value) { store(key, value, false); }

  void erase(std::string_view key) {
    Entry* entry = table_.find(key);
    if (entry == nullptr) return;
    bytes_ -= entry->value.charge;
    unlink(entry);
    table_.erase(key);
  }

  void clear() {
    table_ = Table();
    newest_ = oldest_ = nullptr;
    bytes_ = 0;
  }

  int64_t capacity_bytes() const { return capacity_bytes_; }
  int64_t bytes() const { return bytes_; }
  size_t size() const { return table_.size(); }
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  struct Cached;
  using Table = KeyTable<Cached>;
  using Entry = Table::Entry;
  struct Cached {
    std::optional<Value> value;
    int64_t charge = 0;
    bool referenced = false;  // hit since eviction last looked at it
    Entry* newer = nullptr;   // towards newest_
    Entry* older = nullptr;   // towards oldest_
  };

  void store(std::string_view key, const std::optional<Value>& value, bool replacing_is_a_hit) {
    const int64_t charge = charge_of(key, value);
    if (charge > capacity_bytes_ / 16) {
      erase(key);
      return;
    }
    auto [entry, inserted] = table_.try_emplace(key);
    Cached& cached = entry->value;
    if (inserted) {
      link_newest(entry);
    } else {
      bytes_ -= cached.charge;
      cached.referenced = cached.referenced || replacing_is_a_hit;
    }
    cached.value = value;
    cached.charge = charge;
    bytes_ += charge;
    while (bytes_ > capacity_bytes_) evict_one();
  }

  static int64_t charge_of(std::string_view key, const std::optional<Value>& value) {
    return static_cast<int64_t>(key.size() + (value ? value->size() : 0)) + entry_overhead_bytes;
  }

  void link_newest(Entry* entry) {
    entry->value.newer = nullptr;
    entry->value.older = newest_;
    if (newest_ != nullptr) newest_->value.newer = entry;
    newest_ = entry;
    if (oldest_ == nullptr) oldest_ = entry;
  }

  void unlink(Entry* entry) {
    Cached& cached = entry->value;
    (cached.newer != nullptr ? cached.newer->value.older : newest_) = cached.older;
    (cached.older != nullptr ? cached.older->value.newer : oldest_) = cached.newer;
    cached.newer = cached.older = nullptr;
  }

  void evict_one() {
    // Every marked entry moved to the newest end loses its mark, so this ends within one pass.
    while (oldest_->value.referenced) {
      Entry* entry = oldest_;
      entry->value.referenced = false;
      unlink(entry);
      link_newest(entry);
    }
    Entry* entry = oldest_;
    bytes_ -= entry->value.charge;
    unlink(entry);
    table_.erase(entry->key());
  }

  int64_t capacity_bytes_;
  int64_t bytes_ = 0;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
  Table table_;
  Entry* newest_ = nullptr;  // newest (or last given a second chance) first
  Entry* oldest_ = nullptr;
};

}  // namespace keel
