// The scan that fills a rocksdb store's key filter (storage/key_filter.h) with the keys the
// database held when the filter started (at open, or when it starts over): in pieces on the
// blocking pool, each one resuming where the last stopped, at the snapshot taken then (keys
// written since reach the filter as they are written).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "storage/key_filter.h"
#include "storage/rocksdb/rocksdb_database.h"

namespace keel {

// A scan's state, shared by the store and its pieces on the pool. The pieces reach the database
// only through it, so that stop() (the store's destructor) leaves no piece holding the database
// open: a store opened again on the same directory right after finds it closed.
struct KeyScan {
  KeyScan(std::shared_ptr<RocksDBDatabase> database, std::shared_ptr<const rocksdb::Snapshot> snapshot)
      : database(std::move(database)), snapshot(std::move(snapshot)) {}

  // Waits for a piece under way to stop (within a few keys), then lets go of the database.
  void stop();

  std::mutex mutex;  // held by a piece while it runs, and by stop()
  std::atomic<bool> stopping = false;
  std::shared_ptr<RocksDBDatabase> database;            // null once stopped
  std::shared_ptr<const rocksdb::Snapshot> snapshot;    // the scan's view
  std::optional<KeyFilter> filter;  // the keys scanned so far
  std::string resume;               // the first key of the next piece
  bool started = false;
  bool done = false;
};

// Sizes `scan`'s filter for about the keys the database holds (RocksDB's estimate, with room),
// at most `keys_max`. Blocking: call on the pool.
rocksdb::Status start_key_scan(KeyScan* scan, uint64_t keys_max, double bits_per_key);

// Adds the next `piece_keys` keys of the data column family at the scan's snapshot to its filter
// (sets done after the last). Blocking: call on the pool, one piece at a time.
rocksdb::Status scan_key_piece(KeyScan* scan, size_t piece_keys);

}  // namespace keel
