// WriteOverlay: writes not yet in the RocksDB database, as a layer that reads merge over it.
//
// A layer holds point writes (a value, or a tombstone for a cleared key) and cleared ranges. Its
// meaning is "first clear the ranges, then apply the point writes": a range clear erases the
// point writes it covers, and a later point write overrides any range clear. Layers stack in
// commit order (apply(newer)) and become one RocksDB WriteBatch: DeleteRange for each cleared
// range, then Put/Delete for each point write.
//
// The point writes are a KeyTable (storage/key_table.h): a write or a lookup is a hash lookup
// and one allocation, where an ordered tree paid a cache miss and a key comparison at each level
// of tens of thousands of keys on the event loop (a storage server hands every key it makes
// durable to the engine here). Key order, which range reads and range clears need, is a list of
// the entries sorted when first asked for after new keys came (the new ones sorted, then merged);
// a range read (slice) looks through the new keys one by one instead, while that has cost less
// than sorting them.
//
// Pure data: no I/O, no RocksDB. Not thread-safe. A layer nobody modifies any more may be read
// from several threads at once through lookup, for_each_write, writes_key and the cleared
// ranges. ordered_writes sorts the order list (never the entries), so one thread at a time may
// ask for the order (the engine does so only on its event loop, or in a range read's own copy).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/types.h"
#include "storage/cleared_ranges.h"
#include "storage/key_table.h"

namespace keel {

class WriteOverlay {
 public:
  // What a layer says about one key.
  enum class Lookup { unknown, absent, present };
  using Writes = KeyTable<std::optional<Value>>;
  // One point write: key() and value (nullopt: the key is cleared).
  using Write = Writes::Entry;

  WriteOverlay() = default;
  // Moves keep the entries where they are, so the order list stays valid, and leave the source
  // empty; there is no copy.
  WriteOverlay(WriteOverlay&& other)
      : writes_(std::move(other.writes_)),
        order_(std::exchange(other.order_, {})),
        sorted_(std::exchange(other.sorted_, 0)),
        looked_through_(std::exchange(other.looked_through_, 0)),
        cleared_(std::exchange(other.cleared_, {})),
        bytes_(std::exchange(other.bytes_, 0)) {}
  WriteOverlay& operator=(WriteOverlay&& other) {
    WriteOverlay taken(std::move(other));
    writes_.swap(taken.writes_);
    order_.swap(taken.order_);
    std::swap(sorted_, taken.sorted_);
    std::swap(looked_through_, taken.looked_through_);
    cleared_.swap(taken.cleared_);
    std::swap(bytes_, taken.bytes_);
    return *this;
  }
  WriteOverlay(const WriteOverlay&) = delete;
  WriteOverlay& operator=(const WriteOverlay&) = delete;

  void set(const Key& key, Value value);
  void clear(const Key& key);
  void clear_range(const KeyRange& range);
  // Applies every write of `newer` on top of this layer, as if made here after the rest.
  void apply(const WriteOverlay& newer);
  // A copy of the part of this layer inside `range` (what a range read needs).
  WriteOverlay slice(const KeyRange& range) const;

  // `unknown` when the layer leaves `key` as the layers beneath have it; `value` is set when present.
  Lookup lookup(const Key& key, Value* value) const;
  // The cleared range holding `key`, if any.
  std::optional<KeyRange> cleared_range_containing(const Key& key) const;

  bool empty() const { return writes_.size() == 0 && cleared_.empty(); }
  size_t write_count() const { return writes_.size(); }
  // Whether the layer has a point write (a value or a tombstone) at `key`.
  bool writes_key(std::string_view key) const { return writes_.find(key) != nullptr; }
  // Calls `visit(write)` for every point write, in no particular order.
  template <class Visit>
  void for_each_write(Visit visit) const {
    writes_.for_each(visit);
  }
  // The point writes in bytewise key order (sorting them first if keys came since last asked).
  std::span<const Write* const> ordered_writes() const;
  // Disjoint, non-adjacent cleared ranges as begin -> end, ordered.
  const ClearedRanges& cleared() const { return cleared_; }
  // About how much memory the layer's keys and values take.
  int64_t bytes() const { return bytes_; }

 private:
  // The entry of `key`, new ones listed for ordering (the value then is nullopt).
  Write* entry_of(const Key& key);
  void erase_writes(const KeyRange& range);

  Writes writes_;
  // Every entry of writes_ once; [0, sorted_) in key order, the rest in arrival order.
  mutable std::vector<const Write*> order_;
  mutable size_t sorted_ = 0;
  // Entries slice() looked through one by one, unsorted, since the list was last sorted.
  mutable size_t looked_through_ = 0;
  ClearedRanges cleared_;
  int64_t bytes_ = 0;
};

}  // namespace keel
