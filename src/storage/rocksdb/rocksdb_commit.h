// The commit write of the rocksdb engine: one WriteOverlay (a commit, or several grouped) turned
// into one RocksDB WriteBatch with the new logical byte count, written with sync=true.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "storage/rocksdb/rocksdb_database.h"
#include "storage/rocksdb/rocksdb_overlay.h"

namespace keel {

// What the engine learns from a completed commit write.
struct CommitOutcome {
  int64_t logical_bytes = 0;  // after the commit
  int64_t disk_bytes = 0;
  int64_t device_bytes_written = 0;
  std::shared_ptr<const rocksdb::Snapshot> snapshot;  // the database right after the commit
};

// One point write of a commit, with the size of the value its key held before the commit if
// the engine knew it (its row cache), ValueSizes::absent if the key was absent, or
// `unknown_old_size`: the commit then looks in the database's ValueSizes, and reads the rest.
struct CommitWrite {
  static constexpr int64_t unknown_old_size = -2;
  const WriteOverlay::Write* write;
  int64_t old_size;
};

// Writes `writes` atomically and durably on top of the database, whose logical byte count is
// `logical_bytes_before`. `point_writes` holds every point write of `writes` once, in any
// order. Commits must not run concurrently with each other (the byte count is computed against
// the database as it is), but may with reads. Blocking: call on the pool.
rocksdb::Status write_commit(RocksDBDatabase& database, const WriteOverlay& writes, std::vector<CommitWrite> point_writes,
                             int64_t logical_bytes_before, CommitOutcome* outcome);

// The logical byte count a database recorded with its last commit (0 for a new one). Blocking.
rocksdb::Status read_logical_bytes(RocksDBDatabase& database, int64_t* logical_bytes);

}  // namespace keel
