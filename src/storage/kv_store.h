// IKeyValueStore: the durable engine under a storage server (and the interface every engine
// implements: memory, ssd, rocksdb).
//
// Contract:
// - set / clear / clear_range buffer writes in call order; they are visible to reads at once
//   (reads see the latest buffered state) and become durable together when the Future of the
//   next commit() is ready. A crash loses every write after the last completed commit, never
//   part of a commit: a commit is atomic.
// - Single user: calls come from one actor; a commit may be in flight while reads continue.
// - Errors: io_error (the engine is unusable, fail-stop), checksum_failed (corrupt data found
//   at open or read: never returned as data).
// - Keys are ordered bytewise; get_range returns the range's pairs in order (in reverse order if
//   `reverse`) until it has `limit` pairs or its keys' and values' bytes reach `bytes_limit` (the
//   last pair may pass it). So an answer with fewer than `limit` pairs and fewer than
//   `bytes_limit` bytes holds the rest of the range: the caller can tell the end from a cut.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/types.h"
#include "runtime/future.h"

namespace keel {

// What an engine has written, for write amplification (device / logical) in status.
struct EngineMetrics {
  int64_t logical_bytes_written = 0;  // key and value bytes handed to set(), keys of clears
  int64_t device_bytes_written = -1;  // bytes the engine wrote to its files; -1 when unknown
  int64_t commits = 0;
  // Point reads its row cache (storage/row_cache.h) answered, and those it passed on; -1 for an
  // engine without one.
  int64_t cache_hits = -1;
  int64_t cache_misses = -1;
  // Point reads of keys the engine never held that its key filter (storage/key_filter.h)
  // answered without a lookup; -1 for an engine without one.
  int64_t filtered_reads = -1;
};

class IKeyValueStore {
 public:
  virtual ~IKeyValueStore() = default;

  // `value` by value: a caller done with it moves it in, and an engine that keeps it saves a copy.
  virtual void set(const Key& key, Value value) = 0;
  virtual void clear(const Key& key) = 0;
  virtual void clear_range(const KeyRange& range) = 0;
  // Makes every buffered write durable, atomically.
  virtual Future<Void> commit() = 0;

  virtual Future<std::optional<Value>> get(Key key) = 0;
  // A hint that get(key) follows soon (KeyTable::prefetch's stages); engines may ignore it.
  virtual void prefetch(const Key& /*key*/, int /*stage*/) const {}
  virtual Future<std::vector<KeyValue>> get_range(KeyRange range, int limit, bool reverse = false,
                                                  size_t bytes_limit = 1 << 20) = 0;

  // Bytes of live keys and values, and bytes the engine occupies on disk. An engine may report
  // them as of its last completed commit (ssd does: the sizes its buffered writes replace are on
  // disk); the memory engine includes buffered writes.
  virtual int64_t logical_bytes() const = 0;
  virtual int64_t disk_bytes() const = 0;
  virtual EngineMetrics metrics() const { return {}; }
  // The most key and value bytes one commit should carry, for callers that can split their
  // writes over several commits (a storage server catching up); more still works.
  virtual size_t preferred_commit_bytes() const { return SIZE_MAX; }
  // A consistent copy of the last completed commit (so of the durable version the caller
  // committed with it) in `directory`, openable as the same engine; for backups. Engines that
  // cannot make one fail with client_invalid_operation.
  virtual Future<Void> checkpoint(std::string /*directory*/) { return Error(errc::client_invalid_operation); }
};

// Opens (creating if missing) the engine named `engine` ("memory", "ssd", "rocksdb") in `directory`,
// recovering whatever was committed before a crash. The memory engine works through the world's
// files; ssd reaches the real disk directly and fails with invalid_option_value in a world whose
// files are simulated. Throws invalid_option_value for an unknown engine name, and
// engine_mismatch when the directory holds another engine's files (opened empty, that engine's data
// would be lost to the cluster).
Future<std::unique_ptr<IKeyValueStore>> open_kv_store(std::string engine, std::string directory);

// The engine whose files a directory listing (file names) shows, or "" when it shows none.
std::string engine_of_files(const std::vector<std::string>& names);

}  // namespace keel
