// WriteMap: a transaction's own writes, for read-your-writes.
//
// For every key it knows either the key's whole new state (set or cleared, after which atomic
// operations fold in at once) or a list of atomic operations still to apply to whatever the
// database holds. Range clears are kept as disjoint ranges: any key inside one (and not set
// again) reads as absent. Pure data structure; reads combine it with what storage returned.
#pragma once

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "protocol/types.h"

namespace keel {

class WriteMap {
 public:
  void set(const Key& key, const Value& value);
  void clear(const KeyRange& range);
  void atomic(MutationType type, const Key& key, const Value& operand);

  // The key's state as the transaction sees it, given what storage holds (`stored`, only
  // consulted when needed: call needs_stored first).
  bool needs_stored(const Key& key) const;
  std::optional<Value> read(const Key& key, std::optional<Value> stored) const;

  // Keys with entries in `range`, in order.
  std::vector<Key> keys_in(const KeyRange& range) const;
  // True if `key` lies in a range this transaction cleared (and storage is irrelevant for it).
  bool cleared(const Key& key) const;
  bool empty() const { return entries_.empty() && cleared_.empty(); }
  void reset();

 private:
  struct Entry {
    bool independent = false;  // value is the whole truth, storage does not matter
    std::optional<Value> value;
    std::vector<std::pair<MutationType, Value>> pending;  // atomic ops on the stored value
  };
  std::map<Key, Entry> entries_;
  std::map<Key, Key> cleared_;  // disjoint, non-adjacent ranges: begin -> end
};

}  // namespace keel
