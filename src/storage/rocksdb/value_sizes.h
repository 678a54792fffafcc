// ValueSizes: what the rocksdb engine's commits left at some keys, a value's size or the key's
// absence, so that counting live bytes need not read the old value of a key written recently.
// Without it every commit reads each key it writes (a MultiGet), and for keys overwritten within
// a memtable's life that walk of the memtable's skip list costs about as much as writing the key.
//
// Only the commit write uses it (commits never run concurrently, see rocksdb_commit.h): it looks
// up the keys a commit writes, and records what the commit left once the commit is written. It
// is bounded: once its entries pass the capacity it forgets them all, which keeps it simple and
// cheap; a set of hot keys larger than the capacity only loses the saving. A range clear forgets
// them all too (a hash table cannot find a range's keys; range clears are rare).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/types.h"
#include "storage/key_table.h"

namespace keel {

class ValueSizes {
 public:
  // Recorded for a key the database does not hold.
  static constexpr int64_t absent = -1;
  // Bytes charged for an entry besides its key: table slot, entry, allocation.
  static constexpr int64_t entry_overhead_bytes = 64;

  // capacity_bytes <= 0: it records nothing.
  explicit ValueSizes(int64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  // The size of the value `key` holds, `absent`, or nullopt when not known.
  std::optional<int64_t> find(std::string_view key) const {
    const auto* entry = table_.find(key);
    if (entry == nullptr) return std::nullopt;
    return entry->value;
  }

  // Records that `key` now holds a value of `size` bytes, or is `absent`.
  void record(std::string_view key, int64_t size) {
    if (capacity_bytes_ <= 0) return;
    auto [entry, inserted] = table_.try_emplace(key);
    entry->value = size;
    if (!inserted) return;
    bytes_ += static_cast<int64_t>(key.size()) + entry_overhead_bytes;
    if (bytes_ > capacity_bytes_) clear();
  }

  void clear() {
    KeyTable<int64_t> empty;
    table_.swap(empty);
    bytes_ = 0;
  }

  size_t size() const { return table_.size(); }

 private:
  KeyTable<int64_t> table_;
  int64_t bytes_ = 0;  // keys and overheads of the entries
  int64_t capacity_bytes_;
};

}  // namespace keel
