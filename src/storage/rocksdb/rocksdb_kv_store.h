// The `rocksdb` storage engine: the data in a RocksDB database (an LSM tree with a write-ahead
// log, block checksums, bloom filters and a block cache), for data sets larger than memory.
// Layout and on-disk format: rocksdb_database.h; the choices and their reasons: docs/storage_engines.md.
//
// Contract (beyond IKeyValueStore's, see storage/kv_store.h):
// - Writes are buffered in memory (a WriteOverlay) and visible to reads at once. A read sees the
//   store as it was when it was called: the database at the last completed commit, with the
//   commits in flight and the buffered writes merged on top. Point reads that reach RocksDB in the
//   same turn of the event loop are answered by one MultiGet.
// - commit() is durable when its Future is ready: its writes, with the new logical byte count,
//   are one RocksDB WriteBatch written with sync=true to the WAL. Commits become durable in call
//   order; commits made while one is being written are written together as one batch (group
//   commit). A commit with no writes is durable when the one before it is.
// - Every RocksDB call that can block runs on the world's blocking pool, so the event loop never
//   waits on the disk; a commit may be on the pool while reads run. The engine therefore needs a
//   world with real threads: it refuses to open where blocking work runs inline (simulation),
//   since it would also touch the real disk there.
// - logical_bytes() is exact as of the last completed commit (buffered writes count once their
//   commit completes): computing it costs one read per written key and a scan of cleared ranges.
//   disk_bytes() and metrics() are also as of the last completed commit.
// - Fail-stop: after a failed write, that commit and every later one fail with io_error (or
//   checksum_failed for corruption); reads keep being tried. Corruption found by a read fails the
//   read with checksum_failed, never returns data.
// - checkpoint(directory) writes a RocksDB checkpoint (SSTs hard-linked, so `directory` must not
//   exist and must be on the same file system): the state after some commit, including at least
//   every commit completed before the call, each commit all or nothing; buffered writes are not
//   in it. The copy opens as a rocksdb store.
// - Lifetime: destroying the store cancels nothing already handed to RocksDB; the database closes
//   when the last work in flight on the pool finishes (at once, on the event loop, when none is).
//   Reopen a directory in the same process only once every commit and read of the store that had
//   it open has completed.
#pragma once

#include <memory>
#include <string>

#include "storage/kv_store.h"

namespace keel {

// Opens (creating if missing) the rocksdb engine in `directory`. Throws checksum_failed for
// corruption RocksDB finds at open, io_error when the database cannot be opened, and
// invalid_option_value in a world without a blocking thread pool (simulation).
Future<std::unique_ptr<IKeyValueStore>> open_rocksdb_kv_store(std::string directory);

}  // namespace keel
