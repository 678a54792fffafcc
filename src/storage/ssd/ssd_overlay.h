// Writes of the `ssd` engine not yet in LMDB, and reads that merge them over an LMDB snapshot.
//
// An Overlay is the writes made between two commits. Applied to any earlier state S it gives
// (S without its cleared ranges) with its point writes on top, so applying it twice is the same
// as once: a read may merge the overlay of a commit over a snapshot that already holds that
// commit, which is what makes reads during an in-flight commit simple (ssd_kv_store.cpp).
//
// Layers are given newest first. Nothing here does I/O or is shared between threads by itself;
// the engine hands reads immutable overlays (see SsdKVStore).
#pragma once

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "protocol/types.h"
#include "storage/cleared_ranges.h"

namespace keel::ssd {

struct Overlay {
  std::map<Key, std::optional<Value>> points;  // nullopt: cleared after the last range clear
  ClearedRanges clears;                        // begin -> end: disjoint, non-touching ranges

  void set(const Key& key, Value value) { points[key] = std::move(value); }
  void clear(const Key& key) { points[key] = std::nullopt; }
  void clear_range(const KeyRange& range);
  bool empty() const { return points.empty() && clears.empty(); }
  // The cleared range holding `key`, if any.
  std::optional<KeyRange> clear_holding(const Key& key) const;
};

// What the layers (newest first) say about one key.
struct Resolution {
  enum class State { unknown, present, absent };
  State state = State::unknown;
  const Value* value = nullptr;           // when present
  std::optional<KeyRange> cleared_range;  // when absent because of a range clear
};
Resolution resolve(const std::vector<const Overlay*>& newest_first, const Key& key);

// The stored entries under the layers, read in one direction.
class EntrySource {
 public:
  virtual ~EntrySource() = default;
  // Positions at the first entry >= key (forward source) or the last entry < key (reverse).
  virtual void seek(const Key& key) = 0;
  virtual bool valid() const = 0;
  virtual const Key& key() const = 0;
  virtual const Value& value() const = 0;
  virtual void next() = 0;  // one entry on in the source's direction
};

// get_range (storage/kv_store.h) of the layers over `stored`, whose direction must be `reverse`.
std::vector<KeyValue> merged_range(const std::vector<const Overlay*>& newest_first, EntrySource& stored,
                                   const KeyRange& range, int limit, bool reverse, size_t bytes_limit);

}  // namespace keel::ssd
