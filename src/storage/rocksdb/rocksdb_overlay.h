// WriteOverlay: writes not yet in the RocksDB database, as a layer that reads merge over it.
//
// A layer holds point writes (a value, or a tombstone for a cleared key) and cleared ranges. Its
// meaning is "first clear the ranges, then apply the point writes": a range clear erases the
// point writes it covers, and a later point write overrides any range clear. Layers stack in
// commit order (apply(newer)) and become one RocksDB WriteBatch: DeleteRange for each cleared
// range, then Put/Delete for each point write.
//
// Point lookups go through a hash index of the point writes; ordered access through the map.
// Pure data: no I/O, no RocksDB. Not thread-safe, but a layer that nobody modifies any more may be
// read from several threads at once (the engine hands frozen layers to its blocking work).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "protocol/types.h"
#include "storage/cleared_ranges.h"

namespace keel {

class WriteOverlay {
 public:
  // What a layer says about one key.
  enum class Lookup { unknown, absent, present };

  WriteOverlay() = default;
  // Moves keep the index valid (map nodes never move); a copy would not, so there is none.
  WriteOverlay(WriteOverlay&&) = default;
  WriteOverlay& operator=(WriteOverlay&&) = default;
  WriteOverlay(const WriteOverlay&) = delete;
  WriteOverlay& operator=(const WriteOverlay&) = delete;

  void set(const Key& key, const Value& value);
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

  bool empty() const { return writes_.empty() && cleared_.empty(); }
  // Point writes (nullopt: the key is cleared), ordered bytewise.
  const std::map<Key, std::optional<Value>>& writes() const { return writes_; }
  // Disjoint, non-adjacent cleared ranges as begin -> end, ordered.
  const ClearedRanges& cleared() const { return cleared_; }
  // About how much memory the layer's keys and values take.
  int64_t bytes() const { return bytes_; }

 private:
  void erase_writes(const KeyRange& range);

  using Writes = std::map<Key, std::optional<Value>>;
  // Adds the entry that `it` is to the index.
  void index(Writes::iterator it);

  Writes writes_;
  // The point writes by key, for lookup: a layer can hold tens of thousands of keys, where the
  // map's walk costs a cache miss and a key comparison at every level. Views of the map's keys.
  std::unordered_map<std::string_view, Writes::iterator> index_;
  ClearedRanges cleared_;
  int64_t bytes_ = 0;
};

}  // namespace keel
