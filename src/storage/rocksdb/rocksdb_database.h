// RocksDBDatabase: one open RocksDB database as the `rocksdb` engine lays it out, and the rules for
// calling it from the event loop.
//
// Layout (the on-disk format; the names marked [fixed] must never change):
// - The default column family holds the user's keys and values, byte for byte, compared bytewise.
// - The column family "keel_meta" [fixed] holds the engine's own records:
//   - "format_version" [fixed]: 8 bytes little-endian, 1 for this layout; open refuses others.
//   - "logical_bytes" [fixed]: 8 bytes little-endian, the sum of key and value sizes of the live
//     pairs, written in the same WriteBatch as the commit it accounts for.
// - Everything else is RocksDB's own files (SSTs, WAL, MANIFEST, OPTIONS), with block checksums.
//
// Threads: every call that can touch the disk or wait on RocksDB's locks for long runs on the
// world's blocking pool through run_rocksdb(). The one exception is a point read restricted to
// memory (ReadTier kBlockCacheTier: memtables and the block cache, no I/O), which the engine may
// make on the event loop (knob rocksdb_cached_reads_on_loop). The database is owned through a shared_ptr so that work in
// flight on the pool keeps it open, and it is closed (on whichever thread drops the last owner)
// only when nothing uses it. RocksDB itself is thread-safe, so reads and a commit may run at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/statistics.h>

#include "runtime/error.h"
#include "runtime/future.h"
#include "storage/rocksdb/value_sizes.h"

namespace keel {

inline constexpr uint64_t rocksdb_format_version = 1;
inline constexpr const char* rocksdb_meta_column_family = "keel_meta";
inline constexpr const char* rocksdb_format_version_key = "format_version";
inline constexpr const char* rocksdb_logical_bytes_key = "logical_bytes";

std::string encode_fixed64(uint64_t value);
// Throws checksum_failed unless `bytes` is exactly 8 bytes.
uint64_t decode_fixed64(std::string_view bytes);

// checksum_failed for corruption found by RocksDB; io_error for everything else.
Error rocksdb_error(const rocksdb::Status& status);

class RocksDBDatabase : public std::enable_shared_from_this<RocksDBDatabase> {
 public:
  // Opens (creating if missing) the database in `directory`. Blocking: call on the pool.
  // `memory_budget_bytes`: the process's (0: none), which bounds the caches it shares with the
  // process's other stores.
  static rocksdb::Status open(const std::string& directory, int64_t memory_budget_bytes,
                              std::shared_ptr<RocksDBDatabase>* opened);
  ~RocksDBDatabase();  // releases retired snapshots, closes the database
  RocksDBDatabase(const RocksDBDatabase&) = delete;
  RocksDBDatabase& operator=(const RocksDBDatabase&) = delete;

  rocksdb::DB& db() { return *db_; }
  rocksdb::ColumnFamilyHandle* data() { return data_; }
  rocksdb::ColumnFamilyHandle* meta() { return meta_; }
  // What recent commits left at the keys they wrote; only the commit write may use it.
  ValueSizes& value_sizes() { return value_sizes_; }
  const std::string& directory() const { return directory_; }

  // A snapshot of the database as it is now, released (lazily) when the last copy is dropped:
  // dropping takes no RocksDB lock, so it may happen on the event loop. Blocking: call on the pool.
  std::shared_ptr<const rocksdb::Snapshot> snapshot();
  // Releases the snapshots dropped so far. Blocking: call on the pool.
  void release_retired_snapshots();

  // Bytes of live SST files and WAL files. Blocking: call on the pool.
  int64_t disk_bytes();
  // Bytes RocksDB wrote since open: WAL, flushes and compactions. Safe on any thread.
  int64_t device_bytes_written() const;

 private:
  RocksDBDatabase() = default;
  void retire(const rocksdb::Snapshot* snapshot);

  std::string directory_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* data_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  ValueSizes value_sizes_{0};
  std::mutex retired_mutex_;
  std::vector<const rocksdb::Snapshot*> retired_;  // guarded by retired_mutex_
};

// Runs `work` on the world's blocking pool. A failed status becomes rocksdb_error(status), thrown
// on the event loop after a trace event naming `operation`, the directory and RocksDB's message.
Future<Void> run_rocksdb(std::string operation, std::string directory, std::function<rocksdb::Status()> work);
// The error run_rocksdb() throws for a failed `status`, after the same trace event.
Error rocksdb_failure(const std::string& operation, const std::string& directory, const rocksdb::Status& status);

}  // namespace keel
