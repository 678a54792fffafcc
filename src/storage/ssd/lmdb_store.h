// LmdbStore: the `ssd` engine's LMDB environment (ssd_format.h has what is stored in it). Every
// method blocks on the disk: call them only inside world().run_blocking, never on the event loop.
//
// Concurrency: any number of reads at once, on any threads (read transactions are MDB_NOTLS, so
// they are not tied to a thread); one commit at a time (the engine's committer), which may run
// while reads do. Growing the map needs no transaction open in the process: a shared_mutex is
// held shared by every transaction and exclusively by the resize.
//
// Map growth: the map starts at max(map_bytes_initial, 2 x the file) and doubles whenever a
// commit finds it full (MDB_MAP_FULL): the write transaction is aborted, the map grown, and the
// whole commit applied again. The map is address space only: the file grows as pages are written.
//
// Memory: LMDB copies every page a write transaction dirties into a buffer of its own and keeps
// those buffers for later transactions until the environment closes. A commit that may have
// dirtied more than reopen_after_dirty_bytes closes and opens the environment after it (under the
// same exclusive lock as a resize), so the peak of one large commit is not held for good.
//
// Errors (thrown as Error, with what went wrong kept for take_failure()): checksum_failed for
// corrupt data (a record or the meta record does not verify, LMDB finds its pages inconsistent,
// the file is shorter than LMDB's last page, keys out of order); io_error for everything else.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "storage/ssd/ssd_format.h"
#include "storage/ssd/ssd_overlay.h"

struct MDB_env;
struct MDB_txn;

namespace keel::ssd {

struct LmdbOptions {
  int64_t map_bytes_initial = 64 << 20;
  // Open verifies every record (checksums, order, counts against the meta record) when the
  // data file is at most this large.
  int64_t verify_bytes_max = int64_t{1} << 30;
  // After a commit that may have dirtied more page bytes than this (a page per record put), the
  // environment is closed and opened again: LMDB keeps the buffers of a write transaction's
  // dirty pages until then, so a large commit would otherwise hold its peak memory for good.
  int64_t reopen_after_dirty_bytes = int64_t{64} << 20;
};

struct CommitStats {
  ssd_format::Meta meta;              // after the commit
  int64_t device_bytes_written = -1;  // by this thread during the commit; -1 when unknown
  int64_t file_bytes = 0;
  int environment_reopens = 0;  // 1 when the commit closed and opened the environment after it
};

class LmdbStore {
 public:
  LmdbStore(std::string directory, LmdbOptions options) : directory_(std::move(directory)), options_(options) {}
  // Opens, creating if missing, the environment in the directory (which must exist). Once.
  void open();
  ~LmdbStore();
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

  // The meta record as of open.
  const ssd_format::Meta& opened_meta() const { return opened_meta_; }
  bool verified_at_open() const { return verified_at_open_; }
  int64_t opened_file_bytes() const { return opened_file_bytes_; }

  std::optional<Value> get(const Key& key);
  std::vector<KeyValue> get_range(const std::vector<const Overlay*>& newest_first, const KeyRange& range, int limit,
                                  bool reverse, size_t bytes_limit);
  // Applies `oldest_first` in order in one write transaction, with the meta record, and commits
  // it durably (LMDB's default sync).
  CommitStats commit(const std::vector<const Overlay*>& oldest_first);
  // A compacted copy of the latest committed state in `directory` (which must exist and hold no
  // data.mdb), made from one read transaction, so consistent.
  void copy_to(const std::string& directory);
  int64_t file_bytes() const;
  int64_t map_bytes() const;

  // What the last failure was, for the trace event the engine emits on the event loop.
  std::string take_failure();

 private:
  struct Txn;
  void fail(int rc, const char* call);  // throws
  [[noreturn]] void fail_corrupt(const std::string& what);
  void verify_all(MDB_txn* txn);
  [[noreturn]] void fail_closed();
  void open_environment();
  void reopen_environment();
  void read_meta();
  void grow_map();
  CommitStats try_commit(const std::vector<const Overlay*>& oldest_first);

  std::string directory_;
  LmdbOptions options_;
  MDB_env* env_ = nullptr;
  unsigned data_dbi_ = 0;
  unsigned meta_dbi_ = 0;
  std::atomic<int64_t> map_bytes_ = 0;
  int64_t page_bytes_ = 4096;
  ssd_format::Meta meta_;  // as of the last commit; touched only by open and commit
  ssd_format::Meta opened_meta_;
  bool verified_at_open_ = false;
  int64_t opened_file_bytes_ = 0;
  std::shared_mutex resize_;
  std::mutex failure_mutex_;
  std::string failure_;
};

}  // namespace keel::ssd
