// Range reads of the rocksdb engine: a RocksDB iterator at a snapshot merged with a WriteOverlay
// of the writes not yet in that snapshot (the overlay wins for any key it decides).
#pragma once

#include <cstddef>
#include <vector>

#include <rocksdb/db.h>

#include "protocol/types.h"
#include "storage/rocksdb/rocksdb_overlay.h"

namespace keel {

struct RangeReadRequest {
  KeyRange range;
  int limit = 0;
  bool reverse = false;
  size_t bytes_limit = 0;
};

// Appends to `result` the pairs of `range` in order or in reverse order, until it has `limit`
// pairs or their bytes reach `bytes_limit` (IKeyValueStore::get_range's contract). Blocking:
// call on the pool. A failed status (corruption found, i/o error) leaves `result` unspecified.
rocksdb::Status read_merged_range(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                                  const rocksdb::Snapshot* snapshot, const WriteOverlay& overlay,
                                  const RangeReadRequest& request, std::vector<KeyValue>* result);

}  // namespace keel
