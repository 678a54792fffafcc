// The scan that fills a rocksdb store's key filter (storage/key_filter.h) with the keys the
// database held when the store opened: in pieces on the blocking pool, each one resuming where
// the last stopped, at the snapshot taken at open (keys written since reach the filter as they
// are written).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "storage/key_filter.h"
#include "storage/rocksdb/rocksdb_database.h"

namespace keel {

struct KeyScan {
  KeyScan(uint64_t expected_keys, double bits_per_key) : filter(expected_keys, bits_per_key) {}
  KeyFilter filter;    // the keys scanned so far
  std::string resume;  // the first key of the next piece
  bool started = false;
  bool done = false;
};

// Adds the next `piece_keys` keys of the data column family at `snapshot` to `scan` (sets done
// after the last). Blocking: call on the pool, one piece at a time.
rocksdb::Status scan_key_piece(RocksDBDatabase& database, const rocksdb::Snapshot* snapshot, size_t piece_keys,
                               KeyScan* scan);

// RocksDB's estimate of the keys in the data column family (0 if it has none). Blocking.
uint64_t estimate_key_count(RocksDBDatabase& database);

}  // namespace keel
