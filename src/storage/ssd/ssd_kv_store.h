// The `ssd` storage engine: a B+tree on disk (LMDB), so data sets far larger than memory, with
// fast point reads. Formats: ssd_format.h; LMDB use: lmdb_store.h; docs/storage_engines.md.
//
// Contract (beyond IKeyValueStore's, see storage/kv_store.h):
// - Writes go to an in-memory overlay, visible to reads at once. commit() seals the overlay;
//   one actor, the committer, applies sealed overlays in order, each commit (or a group of
//   commits queued together) in ONE LMDB write transaction with the meta record, and completes
//   them when that transaction is durable (LMDB syncs at commit). A crash keeps or loses a
//   transaction whole.
// - Every LMDB call runs on the world's blocking-work pool; the event loop never waits on the
//   disk. Reads take an LMDB read snapshot and merge over it every overlay not yet acknowledged
//   plus the buffered writes as of the call (merging a committed overlay again is harmless).
// - Real disk only: LMDB reaches files directly, not through the world, so open refuses (with
//   invalid_option_value and the trace event SsdKVStoreNeedsRealDisk) a world whose files are
//   not the real file system, such as the simulator's. Simulation uses the memory engine.
// - logical_bytes() and disk_bytes() are as of the last completed commit (the sizes of
//   buffered writes' predecessors are on disk, not known on the event loop).
// - metrics(): device_bytes_written is the Linux per-thread I/O accounting (write_bytes of
//   /proc/thread-self/io) read before and after each write transaction on the pool thread that
//   runs it: the pages LMDB wrote (B+tree pages and the meta page), not the file system's own
//   journal; -1 when the kernel or file system does not account writes.
// - Fail-stop: after a failed commit every later commit fails (io_error, or checksum_failed
//   when the commit found corrupt data); reads keep trying.
// - Lifetime: destroying the store cancels its actors; a transaction already on the pool still
//   completes and closes the environment after it. Reopen a directory in the same process only
//   once every commit and read of the store that had it open has completed.
#pragma once

#include <memory>
#include <string>

#include "storage/kv_store.h"

namespace keel {

// Opens (creating if missing) the ssd engine in `directory`. Throws checksum_failed for corrupt
// or truncated data, io_error when LMDB cannot open or read it, invalid_option_value outside the
// real world.
Future<std::unique_ptr<IKeyValueStore>> open_ssd_kv_store(std::string directory);

}  // namespace keel
