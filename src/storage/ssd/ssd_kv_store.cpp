// The ssd engine (ssd_kv_store.h): overlays of buffered writes on the event loop, LmdbStore on
// the blocking-work pool. Reads capture the overlays (immutable once shared: a write to the
// buffered overlay while a read holds it copies it first) and run the whole merged read on the
// pool; the committer applies sealed overlays in order.
#include "storage/ssd/ssd_kv_store.h"

#include <sys/stat.h>

#include <atomic>
#include <deque>

#include "runtime/async_queue.h"
#include "runtime/trace.h"
#include "storage/ssd/lmdb_store.h"
#include "storage/ssd/ssd_knobs.h"
#include "world/world.h"

namespace keel {
namespace {

using ssd::LmdbStore;
using ssd::Overlay;

// The overlays a read merges, newest first, kept alive by the read.
using Layers = std::vector<std::shared_ptr<const Overlay>>;

std::vector<const Overlay*> pointers(const Layers& layers) {
  std::vector<const Overlay*> result;
  for (const auto& layer : layers) result.push_back(layer.get());
  return result;
}

class SsdKVStore final : public IKeyValueStore {
 public:
  SsdKVStore(std::string directory, std::shared_ptr<LmdbStore> store)
      : directory_(std::move(directory)), store_(std::move(store)) {
    const ssd_format::Meta& meta = store_->opened_meta();
    logical_bytes_ = meta.logical_bytes;
    disk_bytes_ = store_->opened_file_bytes();
    committer_ = run_committer();
  }

  void set(const Key& key, Value value) override {
    logical_bytes_written_ += static_cast<int64_t>(key.size() + value.size());
    writable().set(key, std::move(value));
  }
  void clear(const Key& key) override {
    writable().clear(key);
    logical_bytes_written_ += static_cast<int64_t>(key.size());
  }
  void clear_range(const KeyRange& range) override {
    if (range.empty()) return;
    writable().clear_range(range);
    logical_bytes_written_ += static_cast<int64_t>(range.begin.size() + range.end.size());
  }
  Future<Void> commit() override;

  Future<std::optional<Value>> get(Key key) override;
  Future<std::vector<KeyValue>> get_range(KeyRange range, int limit, bool reverse, size_t bytes_limit) override;

  int64_t logical_bytes() const override { return logical_bytes_; }
  int64_t disk_bytes() const override { return disk_bytes_; }
  size_t preferred_commit_bytes() const override { return static_cast<size_t>(ssd_kv_store_knobs().commit_bytes); }
  EngineMetrics metrics() const override {
    EngineMetrics metrics;
    metrics.logical_bytes_written = logical_bytes_written_;
    metrics.device_bytes_written = device_bytes_known_ ? device_bytes_written_ : -1;
    metrics.commits = commits_;
    return metrics;
  }
  Future<Void> checkpoint(std::string directory) override;

 private:
  struct CommitItem {
    std::shared_ptr<const Overlay> overlay;
    Promise<Void> durable;
  };

  // The buffered overlay, copied first if a read still holds it.
  Overlay& writable() {
    if (pending_.use_count() > 1) {
      std::atomic_thread_fence(std::memory_order_acquire);  // pairs with the readers' release
      pending_ = std::make_shared<Overlay>(*pending_);
    }
    return *pending_;
  }
  Layers layers() const {
    Layers layers;
    if (!pending_->empty()) layers.push_back(pending_);
    for (auto it = unacknowledged_.rbegin(); it != unacknowledged_.rend(); ++it) layers.push_back(*it);
    return layers;
  }
  Future<Void> run_committer();
  Future<Void> commit_group(std::vector<CommitItem> group);
  void fail(const Error& error);
  [[noreturn]] void report(const Error& error, const char* type);

  std::string directory_;
  std::shared_ptr<LmdbStore> store_;
  std::shared_ptr<Overlay> pending_ = std::make_shared<Overlay>();
  std::deque<std::shared_ptr<const Overlay>> unacknowledged_;  // committed or queued, oldest first
  AsyncQueue<CommitItem> queue_;                               // not yet picked up by the committer
  Future<Void> last_commit_;
  std::optional<Error> failed_;

  int64_t logical_bytes_ = 0;
  int64_t disk_bytes_ = 0;
  int64_t logical_bytes_written_ = 0;
  int64_t device_bytes_written_ = 0;
  bool device_bytes_known_ = true;
  int64_t commits_ = 0;

  Future<Void> committer_;  // last member: destroyed (so cancelled) first
};

// Emits the failure LmdbStore kept (it runs off the event loop and cannot trace) and rethrows.
void SsdKVStore::report(const Error& error, const char* type) {
  TraceEvent(Severity::warn_always, type)
      .detail("Directory", directory_)
      .detail("What", store_->take_failure())
      .error(error);
  throw error;
}

// ---- Reads ----

Future<std::optional<Value>> SsdKVStore::get(Key key) {
  Layers captured = layers();
  const ssd::Resolution known = ssd::resolve(pointers(captured), key);
  if (known.state == ssd::Resolution::State::present) co_return *known.value;
  if (known.state == ssd::Resolution::State::absent) co_return std::nullopt;
  auto result = std::make_shared<std::optional<Value>>();
  // The work holds the store until it ends, on the pool thread, before its completion is posted.
  auto work = [store = store_, key, result]() mutable {
    const std::shared_ptr<LmdbStore> held = std::move(store);
    *result = held->get(key);
  };
  try {
    co_await world().run_blocking(std::move(work));
  } catch (const Error& error) {
    report(error, "SsdKVStoreReadFailed");
  }
  co_return std::move(*result);
}

Future<std::vector<KeyValue>> SsdKVStore::get_range(KeyRange range, int limit, bool reverse, size_t bytes_limit) {
  if (limit <= 0 || range.empty()) co_return std::vector<KeyValue>();
  auto result = std::make_shared<std::vector<KeyValue>>();
  auto work = [store = store_, layers = layers(), range, limit, reverse, bytes_limit, result]() mutable {
    const std::shared_ptr<LmdbStore> held = std::move(store);
    const Layers held_layers = std::move(layers);  // released here, before the completion is posted
    *result = held->get_range(pointers(held_layers), range, limit, reverse, bytes_limit);
  };
  try {
    co_await world().run_blocking(std::move(work));
  } catch (const Error& error) {
    report(error, "SsdKVStoreReadFailed");
  }
  co_return std::move(*result);
}

// ---- Commits ----

Future<Void> SsdKVStore::commit() {
  if (failed_) return *failed_;
  if (pending_->empty()) return last_commit_.is_valid() ? last_commit_ : Future<Void>(Void{});
  CommitItem item{std::move(pending_), Promise<Void>()};
  pending_ = std::make_shared<Overlay>();
  unacknowledged_.push_back(item.overlay);
  last_commit_ = item.durable.get_future();
  queue_.push(std::move(item));
  return last_commit_;
}

Future<Void> SsdKVStore::run_committer() {
  while (true) {
    co_await queue_.when_not_empty();
    std::vector<CommitItem> group(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    try {
      co_await commit_group(group);
    } catch (const Error& error) {
      for (const CommitItem& item : group) item.durable.send_error(error);
      fail(error);
      co_return Void{};
    }
    for (size_t i = 0; i < group.size(); ++i) unacknowledged_.pop_front();
    for (const CommitItem& item : group) item.durable.send(Void{});
  }
}

// Applies a group of sealed overlays in one write transaction and takes in its statistics.
Future<Void> SsdKVStore::commit_group(std::vector<CommitItem> group) {
  std::vector<std::shared_ptr<const Overlay>> overlays;
  for (const CommitItem& item : group) overlays.push_back(item.overlay);
  auto stats = std::make_shared<ssd::CommitStats>();
  auto work = [store = store_, overlays = std::move(overlays), stats]() mutable {
    const std::shared_ptr<LmdbStore> held = std::move(store);
    std::vector<const Overlay*> oldest_first;
    for (const auto& overlay : overlays) oldest_first.push_back(overlay.get());
    *stats = held->commit(oldest_first);
  };
  co_await world().run_blocking(std::move(work));
  logical_bytes_ = stats->meta.logical_bytes;
  disk_bytes_ = stats->file_bytes;
  ++commits_;
  // A write transaction always writes at least LMDB's meta page: zero means no accounting.
  if (stats->device_bytes_written <= 0) device_bytes_known_ = false;
  else device_bytes_written_ += stats->device_bytes_written;
  co_return Void{};
}

void SsdKVStore::fail(const Error& error) {
  TraceEvent(Severity::warn_always, "SsdKVStoreFailed")
      .detail("Directory", directory_)
      .detail("What", store_->take_failure())
      .error(error);
  failed_ = error.code() == errc::checksum_failed || error.code() == errc::disk_full ? error : Error(errc::io_error);
  for (const CommitItem& item : queue_) item.durable.send_error(*failed_);
  queue_.clear();
}

// ---- Checkpoint ----

Future<Void> SsdKVStore::checkpoint(std::string directory) {
  co_await world().create_directories(directory);
  auto work = [store = store_, directory]() mutable {
    const std::shared_ptr<LmdbStore> held = std::move(store);
    held->copy_to(directory);
  };
  try {
    co_await world().run_blocking(std::move(work));
  } catch (const Error& error) {
    report(error, "SsdKVStoreCheckpointFailed");
  }
  TraceEvent("SsdKVStoreCheckpoint").detail("Directory", directory_).detail("Checkpoint", directory);
  co_return Void{};
}

// ---- Open ----

// Refuses a world whose files are not the real file system (LMDB would write beside it): a file
// made through the world must be visible to a direct look at the disk.
Future<Void> check_real_disk(std::string directory) {
  const std::string probe = directory + "/ssd-open-probe";
  std::shared_ptr<IFile> file = co_await world().open_file(probe, open_flags::read_write | open_flags::create);
  auto seen = std::make_shared<bool>(false);
  auto look = [probe, seen] {
    struct stat info {};
    *seen = ::stat(probe.c_str(), &info) == 0;
  };
  co_await world().run_blocking(std::move(look));
  file.reset();
  co_await world().delete_file(probe);
  if (!*seen) {
    TraceEvent(Severity::warn_always, "SsdKVStoreNeedsRealDisk")
        .detail("Directory", directory)
        .detail("Reason", "the ssd engine (LMDB) keeps its files on the real disk; this world's files are elsewhere");
    throw Error(errc::invalid_option_value);
  }
  co_return Void{};
}

}  // namespace

Future<std::unique_ptr<IKeyValueStore>> open_ssd_kv_store(std::string directory) {
  while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
  co_await world().create_directories(directory);
  co_await check_real_disk(directory);
  const SsdKVStoreKnobs& knobs = ssd_kv_store_knobs();
  ssd::LmdbOptions options;
  options.map_bytes_initial = static_cast<int64_t>(knobs.map_bytes_initial);
  options.verify_bytes_max = static_cast<int64_t>(knobs.verify_at_open_bytes_max);
  options.reopen_after_dirty_bytes = static_cast<int64_t>(knobs.reopen_after_dirty_bytes);
  auto store = std::make_shared<LmdbStore>(directory, options);
  auto failure = std::make_shared<std::string>();
  auto work = [store, failure] {
    try {
      store->open();
    } catch (const Error&) {
      *failure = store->take_failure();
      throw;
    }
  };
  try {
    co_await world().run_blocking(std::move(work));
  } catch (const Error& error) {
    TraceEvent(Severity::warn_always, "SsdKVStoreOpenFailed")
        .detail("Directory", directory)
        .detail("What", *failure)
        .error(error);
    throw;
  }
  TraceEvent("SsdKVStoreOpened")
      .detail("Directory", directory)
      .detail("Entries", store->opened_meta().entry_count)
      .detail("LogicalBytes", store->opened_meta().logical_bytes)
      .detail("FileBytes", store->opened_file_bytes())
      .detail("MapBytes", store->map_bytes())
      .detail("Verified", store->verified_at_open());
  co_return std::unique_ptr<IKeyValueStore>(std::make_unique<SsdKVStore>(directory, std::move(store)));
}

}  // namespace keel
