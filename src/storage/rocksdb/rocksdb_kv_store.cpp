// The rocksdb engine (rocksdb_kv_store.h). Writes go to `pending_`, a WriteOverlay; commit()
// freezes it and queues it; one actor, the committer, writes the queue in order on the blocking
// pool, several queued commits as one batch. A read resolves what it can from the overlays in
// memory (the batch being written, the queued ones, the pending one, oldest first), then reads
// RocksDB at the snapshot the last completed commit took: snapshot plus overlays is exactly the
// store at the moment of the call, whatever the committer does meanwhile. Point reads left to
// RocksDB are gathered per turn of the event loop; what the memtables and the block cache hold is
// read there on the loop (no I/O, and no hand-off to a thread and back), the rest on the pool.
// A point read of a key the store never held is answered by its key filter (key_filter.h),
// filled at open by a scan on the pool and by every write since.
#include "storage/rocksdb/rocksdb_kv_store.h"

#include <algorithm>
#include <vector>

#include <rocksdb/utilities/checkpoint.h>

#include "runtime/assert.h"
#include "runtime/async_queue.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "storage/key_filter.h"
#include "storage/key_table.h"
#include "storage/rocksdb/rocksdb_commit.h"
#include "storage/rocksdb/rocksdb_database.h"
#include "storage/rocksdb/rocksdb_key_scan.h"
#include "storage/rocksdb/rocksdb_knobs.h"
#include "storage/rocksdb/rocksdb_overlay.h"
#include "storage/rocksdb/rocksdb_range_read.h"
#include "storage/rocksdb/value_sizes.h"
#include "storage/row_cache.h"
#include "world/world.h"

namespace keel {
namespace {

using Snapshot = std::shared_ptr<const rocksdb::Snapshot>;
using FrozenOverlay = std::shared_ptr<const WriteOverlay>;

class RocksDBKVStore final : public IKeyValueStore {
 public:
  RocksDBKVStore(std::shared_ptr<RocksDBDatabase> database, Snapshot snapshot, int64_t logical_bytes,
                 int64_t row_cache_bytes, int64_t key_filter_bytes)
      : database_(std::move(database)),
        directory_(database_->directory()),
        snapshot_(std::move(snapshot)),
        logical_bytes_(logical_bytes),
        cached_reads_on_loop_(rocksdb_kv_store_knobs().cached_reads_on_loop != 0),
        row_cache_(row_cache_bytes),
        key_filter_bytes_max_(key_filter_bytes),
        key_filter_bits_per_key_(rocksdb_kv_store_knobs().key_filter_bits_per_key),
        key_filter_keys_max_(key_filter_bits_per_key_ > 0
                                 ? static_cast<uint64_t>(static_cast<double>(key_filter_bytes) * 8 / key_filter_bits_per_key_)
                                 : 0) {
    if (key_filter_bits_per_key_ > 0 && key_filter_bytes_max_ > 0) {
      start_key_filter();  // at the snapshot of the open: later writes come through set()
    }
    committer_ = run_committer();
  }
  // A scan's piece under way stops before the store is gone, so it does not hold the database
  // open past it (a store opened again right away would find it locked).
  ~RocksDBKVStore() override {
    if (key_scan_state_) key_scan_state_->stop();
  }

  void set(const Key& key, Value value) override {
    metrics_.logical_bytes_written += static_cast<int64_t>(key.size() + value.size());
    pending_.set(key, std::move(value));
    if (key_filter_) add_to_key_filter(key);  // after: a filter started over takes the overlays' keys
  }
  void clear(const Key& key) override {
    pending_.clear(key);
    metrics_.logical_bytes_written += static_cast<int64_t>(key.size());
  }
  void clear_range(const KeyRange& range) override {
    if (range.empty()) return;
    // A storage server hands each deleted key over as its one-key range. As a point delete it
    // keeps the row cache (which a range clear empties) and adds no range tombstone to RocksDB.
    if (is_single_key_range(range)) {
      clear(range.begin);
      return;
    }
    pending_.clear_range(range);
    metrics_.logical_bytes_written += static_cast<int64_t>(range.begin.size() + range.end.size());
  }
  Future<Void> commit() override;

  Future<std::optional<Value>> get(Key key) override;
  void prefetch(const Key& key, int stage) const override { row_cache_.prefetch(key, stage); }
  Future<std::vector<KeyValue>> get_range(KeyRange range, int limit, bool reverse, size_t bytes_limit) override;

  int64_t logical_bytes() const override { return logical_bytes_; }
  int64_t disk_bytes() const override { return disk_bytes_; }
  EngineMetrics metrics() const override {
    EngineMetrics metrics = metrics_;
    if (row_cache_.capacity_bytes() > 0) {
      metrics.cache_hits = row_cache_.hits();
      metrics.cache_misses = row_cache_.misses();
    }
    if (key_filter_ || filtered_reads_ > 0) metrics.filtered_reads = filtered_reads_;
    return metrics;
  }

  Future<Void> checkpoint(std::string directory) override;

  void set_disk_state(int64_t disk_bytes, int64_t device_bytes_written) {
    disk_bytes_ = disk_bytes;
    metrics_.device_bytes_written = device_bytes_written;
  }

 private:
  struct QueuedCommit {
    FrozenOverlay writes;
    Promise<Void> durable;
  };
  struct BatchedGet {
    Key key;
    Promise<std::optional<Value>> value;
  };

  // The overlays not yet in snapshot_, oldest first.
  std::vector<const WriteOverlay*> overlays() const;
  void send_get_batch();
  Future<Void> send_get_batch_after_this_turn();
  Future<Void> read_get_batch(Snapshot snapshot, std::vector<BatchedGet> gets);
  Future<Void> run_committer();
  Future<Void> write_group();
  void fail(const Error& error);
  // Caches a result read at `snapshot`, unless a commit has moved snapshot_ since.
  void cache_result(const Snapshot& snapshot, const Key& key, const std::optional<Value>& value) {
    if (snapshot == snapshot_ && !refreshing_) row_cache_.insert(key, value);
  }
  // The point writes of `writes`, each with its key's old value size when the row cache holds it.
  std::vector<CommitWrite> commit_writes(const WriteOverlay& writes) const;
  // Before snapshot_ moves past `written`: its keys' cached results take its values.
  Future<Void> refresh_cached_results(const WriteOverlay& written);
  // A new key filter: the keys of the overlays now, and a scan of the keys at snapshot_.
  void start_key_filter();
  // Fills the key filter with the keys the database holds at the scan's snapshot, then trusts it.
  Future<Void> scan_keys(std::shared_ptr<KeyScan> scan);
  // A key new to a trusted filter was never held: it is absent at snapshot_, which the row cache
  // takes at once, so the commit that writes it knows its old size without a read (as the
  // refresh after that commit would, the entry counts no hit).
  void add_to_key_filter(std::string_view key) {
    if (key_filter_->add(key) && key_filter_trusted_) row_cache_.refresh(key, std::nullopt);
    if (key_filter_->bytes() > key_filter_bytes_max_) key_filter_full();
  }
  void key_filter_full();
  void drop_key_filter(const char* reason);

  std::shared_ptr<RocksDBDatabase> database_;
  std::string directory_;
  Snapshot snapshot_;  // the database as of the last completed commit
  WriteOverlay pending_;  // writes since the last commit()
  AsyncQueue<QueuedCommit> queue_;  // commits not yet picked up by the committer
  FrozenOverlay writing_;  // the commits being written, as one overlay
  std::vector<Promise<Void>> writing_commits_;
  Future<Void> last_commit_;  // durable when every commit so far is
  std::optional<Error> failed_;
  int64_t logical_bytes_ = 0;
  int64_t disk_bytes_ = 0;
  const bool cached_reads_on_loop_;
  // Point-read results at snapshot_: filled by reads made at snapshot_, and by every key a
  // commit writes, with the written value, when snapshot_ moves past that commit. (Leaving
  // written keys out would send the next read of each to the memtables' skip lists or the
  // files, and a Redis SET reads the record it replaces.)
  RowCache row_cache_;
  bool refreshing_ = false;  // refresh_cached_results is under way: cache no results
  EngineMetrics metrics_;
  // Point reads the overlays left to RocksDB, gathered until the end of this turn of the event
  // loop and read with one MultiGet at `get_batch_snapshot_` (at most one trip to the pool).
  std::vector<BatchedGet> get_batch_;
  Snapshot get_batch_snapshot_;
  ActorCollection readers_;
  // Every key the store holds (and some it no longer does): get() answers a key the filter has
  // never seen without RocksDB or the row cache, once the scan at open has added the keys the
  // database held then (key_filter_trusted_). Keys written since are added by set(). None when
  // turned off, or dropped for passing key_filter_bytes_max_ (key_filter_full()).
  std::optional<KeyFilter> key_filter_;
  bool key_filter_trusted_ = false;
  int64_t key_filter_bytes_max_;
  double key_filter_bits_per_key_;
  uint64_t key_filter_keys_max_;  // the most keys a filter within key_filter_bytes_max_ holds
  uint64_t key_filter_scanned_keys_ = 0;  // by the last scan that finished
  std::shared_ptr<KeyScan> key_scan_state_;
  int64_t filtered_reads_ = 0;
  Future<Void> key_scan_;

  Future<Void> committer_;  // last member: destroyed (so cancelled) first
};

std::vector<const WriteOverlay*> RocksDBKVStore::overlays() const {
  std::vector<const WriteOverlay*> layers;
  if (writing_) layers.push_back(writing_.get());
  for (const QueuedCommit& queued : queue_) layers.push_back(queued.writes.get());
  if (!pending_.empty()) layers.push_back(&pending_);
  return layers;
}

// ---- Reads ----

Future<std::optional<Value>> RocksDBKVStore::get(Key key) {
  std::vector<const WriteOverlay*> layers = overlays();
  for (auto layer = layers.rbegin(); layer != layers.rend(); ++layer) {
    Value value;
    const WriteOverlay::Lookup found = (*layer)->lookup(key, &value);
    if (found == WriteOverlay::Lookup::present) co_return std::optional<Value>(std::move(value));
    if (found == WriteOverlay::Lookup::absent) co_return std::nullopt;
  }
  if (key_filter_trusted_ && !key_filter_->may_contain(key)) {
    ++filtered_reads_;
    co_return std::nullopt;
  }
  std::optional<Value> cached;
  if (row_cache_.find(key, &cached)) co_return cached;
  if (!get_batch_.empty() && get_batch_snapshot_ != snapshot_) send_get_batch();  // a commit landed
  if (get_batch_.empty()) {
    get_batch_snapshot_ = snapshot_;
    readers_.add(send_get_batch_after_this_turn());
  }
  BatchedGet batched{std::move(key), Promise<std::optional<Value>>()};
  Future<std::optional<Value>> value = batched.value.get_future();
  get_batch_.push_back(std::move(batched));
  co_return co_await value;
}

void RocksDBKVStore::send_get_batch() {
  if (get_batch_.empty()) return;
  std::vector<BatchedGet> gets = std::move(get_batch_);
  get_batch_.clear();
  readers_.add(read_get_batch(std::move(get_batch_snapshot_), std::move(gets)));
  get_batch_snapshot_.reset();
}

Future<Void> RocksDBKVStore::send_get_batch_after_this_turn() {
  co_await yield();
  send_get_batch();  // an earlier send may have taken the batch: then this sends a later one, or none
  co_return Void{};
}

// Reads `keys` at `snapshot` with one MultiGet (which may read the disk: call on the pool).
rocksdb::Status multi_get(RocksDBDatabase& database, const rocksdb::Snapshot* snapshot, const std::vector<Key>& keys,
                          std::vector<std::optional<Value>>* values) {
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> found(slices.size());
  std::vector<rocksdb::Status> statuses(slices.size());
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  database.db().MultiGet(options, database.data(), slices.size(), slices.data(), found.data(), statuses.data());
  for (size_t i = 0; i < slices.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return statuses[i];
    (*values)[i] = found[i].ToString();
  }
  return rocksdb::Status::OK();
}

// Reads `keys` at `snapshot` from memory only (memtables and the block cache), so it is safe on
// the event loop; the index of a key memory cannot decide goes to `undecided`. One Get per key:
// RocksDB 7.8's MultiGet reads the disk even when told not to.
rocksdb::Status get_cached(RocksDBDatabase& database, const rocksdb::Snapshot* snapshot, const std::vector<Key>& keys,
                           std::vector<std::optional<Value>>* values, std::vector<size_t>* undecided) {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  options.read_tier = rocksdb::kBlockCacheTier;
  rocksdb::PinnableSlice found;
  for (size_t i = 0; i < keys.size(); ++i) {
    found.Reset();
    const rocksdb::Status status = database.db().Get(options, database.data(), keys[i], &found);
    if (status.IsNotFound()) continue;
    if (status.IsIncomplete()) {
      undecided->push_back(i);
      continue;
    }
    if (!status.ok()) return status;
    (*values)[i] = found.ToString();
  }
  return rocksdb::Status::OK();
}

Future<Void> RocksDBKVStore::read_get_batch(Snapshot snapshot, std::vector<BatchedGet> gets) {
  std::vector<Key> keys;
  keys.reserve(gets.size());
  for (const BatchedGet& get : gets) keys.push_back(get.key);
  if (cached_reads_on_loop_) {
    // Memory first, here; only what it could not decide goes to the pool.
    std::vector<std::optional<Value>> values(gets.size());
    std::vector<size_t> undecided;
    const rocksdb::Status status = get_cached(*database_, snapshot.get(), keys, &values, &undecided);
    if (!status.ok()) {
      const Error error = rocksdb_failure("Get", directory_, status);
      for (const BatchedGet& get : gets) get.value.send_error(error);
      co_return Void{};
    }
    std::vector<BatchedGet> left;
    std::vector<Key> left_keys;
    size_t next_undecided = 0;
    for (size_t i = 0; i < gets.size(); ++i) {
      if (next_undecided < undecided.size() && undecided[next_undecided] == i) {
        ++next_undecided;
        left_keys.push_back(std::move(keys[i]));
        left.push_back(std::move(gets[i]));
      } else {
        cache_result(snapshot, keys[i], values[i]);
        gets[i].value.send(std::move(values[i]));
      }
    }
    if (left.empty()) co_return Void{};
    gets = std::move(left);
    keys = std::move(left_keys);
  }
  auto shared_keys = std::make_shared<std::vector<Key>>(std::move(keys));
  auto values = std::make_shared<std::vector<std::optional<Value>>>(gets.size());
  std::function<rocksdb::Status()> work = [database = database_, snapshot, shared_keys, values] {
    return multi_get(*database, snapshot.get(), *shared_keys, values.get());
  };
  std::optional<Error> failed;
  try {
    co_await run_rocksdb("Get", directory_, std::move(work));
  } catch (const Error& error) {
    failed = error;
  }
  for (size_t i = 0; i < gets.size(); ++i) {
    if (failed) {
      gets[i].value.send_error(*failed);
    } else {
      cache_result(snapshot, (*shared_keys)[i], (*values)[i]);
      gets[i].value.send(std::move((*values)[i]));
    }
  }
  co_return Void{};
}

Future<std::vector<KeyValue>> RocksDBKVStore::get_range(KeyRange range, int limit, bool reverse,
                                                            size_t bytes_limit) {
  if (limit <= 0 || range.empty()) co_return std::vector<KeyValue>();
  // The overlays' writes in the range, merged into one (a copy: the pending one keeps changing).
  auto merged = std::make_shared<WriteOverlay>();
  for (const WriteOverlay* layer : overlays()) merged->apply(layer->slice(range));
  auto result = std::make_shared<std::vector<KeyValue>>();
  RangeReadRequest request{std::move(range), limit, reverse, bytes_limit};
  std::function<rocksdb::Status()> work = [database = database_, snapshot = snapshot_, merged, request, result] {
    return read_merged_range(database->db(), database->data(), snapshot.get(), *merged, request, result.get());
  };
  co_await run_rocksdb("GetRange", directory_, std::move(work));
  co_return std::move(*result);
}

// ---- The key filter ----

void RocksDBKVStore::start_key_filter() {
  // A first layer well within the limit, so that a small limit still holds a few layers.
  const uint64_t first_capacity = std::min<uint64_t>(KeyFilter::first_capacity_default, key_filter_keys_max_ / 8);
  key_filter_.emplace(first_capacity, key_filter_bits_per_key_);
  key_filter_trusted_ = false;
  // snapshot_ and the overlays are the store now; writes from now on come through set().
  for (const WriteOverlay* layer : overlays()) {
    layer->for_each_write([this](const WriteOverlay::Write& write) { key_filter_->add(write.key()); });
  }
  if (key_scan_state_) key_scan_state_->stop();
  key_scan_state_ = std::make_shared<KeyScan>(database_, snapshot_);
  key_scan_ = scan_keys(key_scan_state_);
}

// The keys written since the last scan filled the filter. If most of them are gone again (the
// last scan found fewer than half what the limit holds: a keyspace whose keys come and go, such
// as a cache's with expiry), a new filter is scanned from the keys the store holds now.
// Otherwise (the keys are there, or the scan still runs) it is dropped until the next open.
void RocksDBKVStore::key_filter_full() {
  if (!key_filter_trusted_ || 2 * key_filter_scanned_keys_ >= key_filter_keys_max_) {
    drop_key_filter("the keys pass rocksdb_key_filter_bytes");
    return;
  }
  TraceEvent("RocksDBKeyFilterRebuilt")
      .detail("Directory", directory_)
      .detail("Keys", key_filter_->keys())
      .detail("ScannedKeys", key_filter_scanned_keys_)
      .detail("BytesMax", key_filter_bytes_max_);
  start_key_filter();
}

Future<Void> RocksDBKVStore::scan_keys(std::shared_ptr<KeyScan> scan) {
  const double started = now();
  const auto piece_keys = static_cast<size_t>(std::max(1.0, rocksdb_kv_store_knobs().key_scan_piece_keys));
  std::function<rocksdb::Status()> sized = [scan, bits_per_key = key_filter_bits_per_key_,
                                             keys_max = key_filter_keys_max_] {
    return start_key_scan(scan.get(), keys_max / 2, bits_per_key);
  };
  std::optional<Error> failed;
  try {
    co_await run_rocksdb("KeyScan", directory_, std::move(sized));
    while (!scan->done && key_filter_) {
      if (scan->filter->bytes() + key_filter_->bytes() > key_filter_bytes_max_) {
        drop_key_filter("the keys pass rocksdb_key_filter_bytes");
        break;
      }
      std::function<rocksdb::Status()> piece = [scan, piece_keys] { return scan_key_piece(scan.get(), piece_keys); };
      co_await run_rocksdb("KeyScan", directory_, std::move(piece));
    }
  } catch (const Error& error) {
    if (error.code() == errc::operation_cancelled) throw;
    failed = error;  // reads go on to RocksDB, as with no filter
  }
  scan->stop();  // lets go of its snapshot
  if (failed || !key_filter_) {
    if (failed) {
      TraceEvent(Severity::warn, "RocksDBKeyFilterScanFailed").detail("Directory", directory_).error(*failed);
      drop_key_filter("the scan of the keys failed");
    }
    co_return Void{};
  }
  const uint64_t scanned = scan->filter->keys();
  key_filter_->merge(std::move(*scan->filter));
  key_filter_trusted_ = true;
  key_filter_scanned_keys_ = scanned;
  TraceEvent("RocksDBKeyFilterReady")
      .detail("Directory", directory_)
      .detail("Keys", scanned)
      .detail("Bytes", key_filter_->bytes())
      .detail("Seconds", now() - started);
  co_return Void{};
}

void RocksDBKVStore::drop_key_filter(const char* reason) {
  if (!key_filter_) return;
  TraceEvent(Severity::warn, "RocksDBKeyFilterDropped")
      .detail("Directory", directory_)
      .detail("Keys", key_filter_->keys())
      .detail("BytesMax", key_filter_bytes_max_)
      .detail("Reason", reason)
      .detail("Effect", "point reads go to RocksDB until the next open");
  key_filter_.reset();
  key_filter_trusted_ = false;
}

// ---- Commits ----

Future<Void> RocksDBKVStore::commit() {
  if (failed_) return *failed_;
  if (pending_.empty()) return last_commit_.is_valid() ? last_commit_ : Future<Void>(Void{});
  QueuedCommit queued;
  queued.writes = std::make_shared<const WriteOverlay>(std::move(pending_));
  pending_ = WriteOverlay();
  last_commit_ = queued.durable.get_future();
  queue_.push(std::move(queued));
  return last_commit_;
}

Future<Void> RocksDBKVStore::run_committer() {
  try {
    while (true) {
      co_await queue_.when_not_empty();
      co_await write_group();
      std::vector<Promise<Void>> durable = std::move(writing_commits_);
      writing_commits_.clear();
      for (const Promise<Void>& commit : durable) commit.send(Void{});
    }
  } catch (const Error& error) {
    fail(error);
  }
  co_return Void{};
}

// Writes every queued commit as one batch, then makes the database the reads' base.
Future<Void> RocksDBKVStore::write_group() {
  KEEL_ASSERT(!writing_ && writing_commits_.empty() && !queue_.empty());
  if (queue_.size() == 1) {
    writing_ = queue_.front().writes;
  } else {
    auto group = std::make_shared<WriteOverlay>();
    for (const QueuedCommit& queued : queue_) group->apply(*queued.writes);
    writing_ = std::move(group);
  }
  for (QueuedCommit& queued : queue_) writing_commits_.push_back(std::move(queued.durable));
  queue_.clear();

  auto outcome = std::make_shared<CommitOutcome>();
  std::function<rocksdb::Status()> work = [database = database_, writes = writing_, point_writes = commit_writes(*writing_),
                                           before = logical_bytes_, outcome]() mutable {
    return write_commit(*database, *writes, std::move(point_writes), before, outcome.get());
  };
  co_await run_rocksdb("Commit", directory_, std::move(work));
  co_await refresh_cached_results(*writing_);
  snapshot_ = std::move(outcome->snapshot);
  // A commit's overlay can hold tens of thousands of keys: free them on the pool, not the loop.
  world().run_blocking([written = std::move(writing_)]() mutable { written.reset(); });
  logical_bytes_ = outcome->logical_bytes;
  set_disk_state(outcome->disk_bytes, outcome->device_bytes_written);
  metrics_.commits += static_cast<int64_t>(writing_commits_.size());
  co_return Void{};
}

// The row cache holds the database as of snapshot_ (the previous group's refresh has finished),
// which is what the commit is written on: the old sizes it knows spare the commit reading them.
// A Redis SET or MSET reads each record it replaces first, and keys never held are cached as
// absent when written (add_to_key_filter), so nearly every key of such loads is known.
std::vector<CommitWrite> RocksDBKVStore::commit_writes(const WriteOverlay& writes) const {
  std::vector<CommitWrite> point_writes;
  point_writes.reserve(writes.write_count());
  writes.for_each_write(
      [&point_writes](const WriteOverlay::Write& write) { point_writes.push_back({&write, CommitWrite::unknown_old_size}); });
  if (row_cache_.size() == 0) return point_writes;
  for (size_t i = 0; i < point_writes.size(); ++i) {
    prefetch_ahead(
        i, point_writes.size(), [&](size_t j) { return point_writes[j].write->key(); },
        [this](std::string_view key, int stage) { row_cache_.prefetch(key, stage); });
    const std::optional<Value>* cached = row_cache_.peek(point_writes[i].write->key());
    if (cached != nullptr) point_writes[i].old_size = *cached ? static_cast<int64_t>((*cached)->size()) : ValueSizes::absent;
  }
  return point_writes;
}

// In pieces, yielding between them: `written` is still in overlays(), so reads find its keys
// there, not in the cache. Meanwhile no result is cached: a read begun before a key was written
// may finish now, with the key's old value.
Future<Void> RocksDBKVStore::refresh_cached_results(const WriteOverlay& written) {
  if (!written.cleared().empty()) {
    row_cache_.clear();  // a hash table cannot find a range's keys; range clears are rare
    co_return Void{};
  }
  refreshing_ = true;
  const auto piece_keys = static_cast<size_t>(std::max(1.0, rocksdb_kv_store_knobs().refresh_piece_keys));
  // A list of its own: a range read between pieces may sort the layer's order list.
  std::vector<const WriteOverlay::Write*> writes;
  writes.reserve(written.write_count());
  written.for_each_write([&writes](const WriteOverlay::Write& write) { writes.push_back(&write); });
  size_t piece = 0;
  for (size_t i = 0; i < writes.size(); ++i) {
    // The cache's slots and entries of the keys a few writes ahead come from memory meanwhile.
    prefetch_ahead(
        i, writes.size(), [&](size_t j) { return writes[j]->key(); },
        [this](std::string_view key, int stage) { row_cache_.prefetch(key, stage); });
    row_cache_.refresh(writes[i]->key(), writes[i]->value);
    if (++piece == piece_keys) {
      piece = 0;
      co_await yield();
    }
  }
  refreshing_ = false;
  co_return Void{};
}

void RocksDBKVStore::fail(const Error& error) {
  TraceEvent(Severity::warn_always, "RocksDBKVStoreCommitFailed").detail("Directory", directory_).error(error);
  failed_ = error.code() == errc::checksum_failed || error.code() == errc::disk_full ? error : Error(errc::io_error);
  for (const Promise<Void>& commit : writing_commits_) commit.send_error(*failed_);
  writing_commits_.clear();
  for (const QueuedCommit& queued : queue_) queued.durable.send_error(*failed_);
  queue_.clear();
  writing_.reset();  // what reached the database is in it; what did not is lost with the commit
}

// ---- Checkpoints ----

Future<Void> RocksDBKVStore::checkpoint(std::string directory) {
  std::function<rocksdb::Status()> work = [database = database_, directory] {
    rocksdb::Checkpoint* created = nullptr;
    rocksdb::Status status = rocksdb::Checkpoint::Create(&database->db(), &created);
    if (!status.ok()) return status;
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(created);
    // Flushes the memtables first, so the copy is SSTs plus an empty WAL.
    return checkpoint->CreateCheckpoint(directory, /*log_size_for_flush=*/0);
  };
  co_await run_rocksdb("Checkpoint", directory_, std::move(work));
  TraceEvent("RocksDBKVStoreCheckpoint").detail("Directory", directory_).detail("Checkpoint", directory);
  co_return Void{};
}

// ---- Opening ----

// One per thread: its address tells threads apart.
thread_local char thread_marker = 0;

// True if the world runs blocking work on another thread (false in simulation, where it runs inline).
Future<bool> blocking_work_leaves_the_loop() {
  const char* loop_marker = &thread_marker;
  auto ran_elsewhere = std::make_shared<bool>(false);
  std::function<void()> probe = [ran_elsewhere, loop_marker] { *ran_elsewhere = &thread_marker != loop_marker; };
  co_await world().run_blocking(std::move(probe));
  co_return *ran_elsewhere;
}

struct OpenedDatabase {
  std::shared_ptr<RocksDBDatabase> database;
  Snapshot snapshot;
  int64_t logical_bytes = 0;
  int64_t disk_bytes = 0;
};

}  // namespace

Future<std::unique_ptr<IKeyValueStore>> open_rocksdb_kv_store(std::string directory) {
  const bool threaded = co_await blocking_work_leaves_the_loop();
  if (!threaded) {
    TraceEvent(Severity::warn_always, "RocksDBKVStoreNeedsRealWorld")
        .detail("Directory", directory)
        .detail("Reason", "the rocksdb engine uses the real disk and blocking threads; simulation runs the memory engine");
    throw Error(errc::invalid_option_value);
  }
  auto opened = std::make_shared<OpenedDatabase>();
  const int64_t memory_budget_bytes = world().process_memory().budget_bytes;
  std::function<rocksdb::Status()> work = [directory, opened, memory_budget_bytes] {
    rocksdb::Status status = RocksDBDatabase::open(directory, memory_budget_bytes, &opened->database);
    if (status.ok()) status = read_logical_bytes(*opened->database, &opened->logical_bytes);
    if (!status.ok()) {
      opened->database.reset();  // closes it here, on the pool
      return status;
    }
    opened->snapshot = opened->database->snapshot();
    opened->disk_bytes = opened->database->disk_bytes();
    return status;
  };
  co_await run_rocksdb("Open", directory, std::move(work));
  double row_cache_bytes = rocksdb_kv_store_knobs().row_cache_bytes;
  if (memory_budget_bytes > 0) row_cache_bytes = std::min(row_cache_bytes, static_cast<double>(memory_budget_bytes) / 32);
  double key_filter_bytes = rocksdb_kv_store_knobs().key_filter_bytes;
  if (memory_budget_bytes > 0) key_filter_bytes = std::min(key_filter_bytes, static_cast<double>(memory_budget_bytes) / 64);
  auto store = std::make_unique<RocksDBKVStore>(opened->database, opened->snapshot, opened->logical_bytes,
                                                static_cast<int64_t>(row_cache_bytes),
                                                static_cast<int64_t>(key_filter_bytes));
  store->set_disk_state(opened->disk_bytes, 0);
  TraceEvent("RocksDBKVStoreOpened")
      .detail("Directory", directory)
      .detail("LogicalBytes", opened->logical_bytes)
      .detail("DiskBytes", opened->disk_bytes);
  co_return std::unique_ptr<IKeyValueStore>(std::move(store));
}

}  // namespace keel
