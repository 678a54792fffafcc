// The `memory` storage engine: the whole data set in a std::map, made durable by an operation log
// and periodic snapshots written through the world's files, so it runs (and crashes) in
// simulation exactly as on a real disk. File formats and the recovery rules: memory_format.h.
//
// Contract (beyond IKeyValueStore's, see storage/kv_store.h):
// - Reads are served from memory and are ready at once; writes are visible to reads at once.
// - commit() is durable when its Future is ready: its mutations are in a synced log record, or in
//   a snapshot renamed into place. Commits become durable in call order. Commits made while the
//   log is busy are written together as one record (group commit) with one sync. A commit with
//   no writes is durable when the one before it is.
// - The log grows until it passes memory_snapshot_log_ratio × the data size (and at least
//   memory_snapshot_log_bytes_min); the commit that passes it is made durable by a new snapshot
//   of the whole data set instead, and a new empty log begins (memory_knobs.h).
// - Fail-stop: after a failed write, sync, rename or open, that commit and every later one fail
//   with io_error (reads keep being served from memory).
// - Lifetime: destroying the store cancels any write in progress; the commits still pending then
//   fail with broken_promise and are durable or not, atomically, like any interrupted commit.
//   A real file write already handed to the thread pool still lands after its cancellation, so
//   reopen a directory in the same process only once every commit of the store that had it open
//   has completed (a new process may reopen it at any time).
// - Memory: about twice the data set while a snapshot is encoded and written.
// - metrics(): exact; device_bytes_written counts every log record and snapshot byte written.
#pragma once

#include <memory>
#include <string>

#include "storage/kv_store.h"

namespace keel {

// Opens (creating if missing) the memory engine in `directory`: loads the newest snapshot,
// replays its log, and drops a torn tail left by a crash. Throws checksum_failed for corrupt
// files, io_error when the files cannot be read or written.
Future<std::unique_ptr<IKeyValueStore>> open_memory_kv_store(std::string directory);

}  // namespace keel
