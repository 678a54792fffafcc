// The memory engine: a std::map, an operation log and snapshots (memory_kv_store.h). Reads and
// writes touch only the map; commit() queues the writes made since the last commit, and one
// actor, the committer, makes the queue durable in order: consecutive log-bound commits as one
// record (write, then sync), a commit that is due a snapshot by installing a new generation.
// Recovery (recover) loads the newest snapshot and replays its log; see memory_format.h.
#include "storage/memory/memory_kv_store.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "runtime/async_queue.h"
#include "runtime/random.h"
#include "runtime/scheduler.h"
#include "runtime/trace.h"
#include "storage/memory/memory_format.h"
#include "storage/memory/memory_knobs.h"
#include "world/world.h"

namespace keel {
namespace {

namespace format = memory_format;

// Under buggify, a read's answer (taken when asked, as the other engines take theirs) arrives a
// little later, as it does from engines that read on another thread: callers must not assume
// nothing changed meanwhile.
template <class T>
Future<T> answer_later(T result) {
  co_await delay(deterministic_random().random01() * 0.005);
  co_return result;
}
using format::FileKind;

// Sizes of single file reads and writes, so no one call moves a whole data set.
constexpr int64_t file_read_bytes = 1 << 20;
constexpr size_t snapshot_write_bytes = 1 << 20;

Future<std::string> read_whole_file(std::shared_ptr<IFile> file) {
  const int64_t size = co_await file->size();
  std::string contents;
  contents.reserve(static_cast<size_t>(size));
  while (static_cast<int64_t>(contents.size()) < size) {
    const auto offset = static_cast<int64_t>(contents.size());
    std::string chunk = co_await file->read(offset, std::min(file_read_bytes, size - offset));
    if (chunk.empty()) break;  // the file shrank under us: read what is there
    contents += chunk;
  }
  co_return contents;
}

Future<Void> delete_if_present(std::string path) {
  try {
    co_await world().delete_file(path);
  } catch (const Error& error) {
    if (error.code() != errc::file_not_found) throw;
  }
  co_return Void{};
}

class MemoryKVStore final : public IKeyValueStore {
 public:
  explicit MemoryKVStore(std::string directory) : directory_(std::move(directory)) {
    while (directory_.size() > 1 && directory_.back() == '/') directory_.pop_back();
  }

  // Loads what a previous incarnation made durable and starts the committer. Called once.
  Future<Void> recover();

  void set(const Key& key, Value value) override {
    logical_bytes_written_ += static_cast<int64_t>(key.size() + value.size());
    format::write_mutation(pending_, MutationType::set_value, key, value);
    apply_set(key, value);
  }
  void clear(const Key& key) override { clear_range(single_key_range(key)); }
  void clear_range(const KeyRange& range) override {
    if (range.empty()) return;
    logical_bytes_written_ += static_cast<int64_t>(range.begin.size() + range.end.size());
    format::write_mutation(pending_, MutationType::clear_range, range.begin, range.end);
    apply_clear_range(range.begin, range.end);
  }
  Future<Void> commit() override;

  Future<std::optional<Value>> get(Key key) override {
    auto it = data_.find(key);
    std::optional<Value> value = it == data_.end() ? std::nullopt : std::optional<Value>(it->second);
    if (buggify()) return answer_later(std::move(value));
    return value;
  }
  Future<std::vector<KeyValue>> get_range(KeyRange range, int limit, bool reverse, size_t bytes_limit) override;

  int64_t logical_bytes() const override { return logical_bytes_; }
  int64_t disk_bytes() const override { return snapshot_bytes_ + log_bytes_; }
  // Exact: every byte this store wrote to its files (log records and snapshots).
  EngineMetrics metrics() const override {
    EngineMetrics metrics;
    metrics.logical_bytes_written = logical_bytes_written_;
    metrics.device_bytes_written = device_bytes_written_;
    metrics.commits = commits_;
    return metrics;
  }

 private:
  // A snapshot encoded by commit(), to become generation `generation`.
  struct PlannedSnapshot {
    uint64_t generation = 0;
    uint64_t log_salt = 0;
    std::string bytes;
  };
  // One commit on its way to disk: log record payload bytes, or a whole snapshot.
  struct CommitItem {
    std::string payload;
    std::optional<PlannedSnapshot> snapshot;
    Promise<Void> durable;
  };

  std::string path(FileKind kind, uint64_t generation) const {
    return directory_ + "/" + format::file_name(kind, generation);
  }
  void apply_set(const Key& key, const Value& value);
  void apply_clear_range(const Key& begin, const Key& end);
  void apply(const Mutation& mutation);
  bool snapshot_due(size_t payload_bytes);
  PlannedSnapshot plan_snapshot();

  Future<Void> load_snapshot(uint64_t generation);
  Future<Void> delete_leftovers(std::vector<format::FileName> files);
  Future<Void> recover_log();

  Future<Void> run_committer();
  std::string take_group();
  Future<Void> append_record(std::string payload);
  Future<Void> install_snapshot(const PlannedSnapshot& snapshot);
  void fail(const Error& error);

  std::string directory_;
  std::map<Key, Value> data_;  // every write so far, committed or not
  int64_t logical_bytes_ = 0;
  BinaryWriter pending_;  // the log payload of the writes since the last commit()

  AsyncQueue<CommitItem> queue_;        // commits not yet picked up by the committer
  std::vector<Promise<Void>> writing_;  // commits of the record or snapshot being written
  Future<Void> last_commit_;            // durable when every commit so far is
  std::optional<Error> failed_;

  uint64_t generation_ = 0;  // of the installed snapshot and the open log; 0 before any
  uint64_t log_salt_ = 0;
  uint64_t next_generation_ = 1;  // for the next planned snapshot
  std::shared_ptr<IFile> log_;
  int64_t log_bytes_ = 0;          // end of the last synced record
  int64_t log_bytes_planned_ = 0;  // about where the log will end once the queue is written
  int64_t snapshot_bytes_ = 0;
  int64_t logical_bytes_written_ = 0;
  int64_t device_bytes_written_ = 0;
  int64_t commits_ = 0;  // commits with writes made durable

  Future<Void> committer_;  // last member: destroyed (so cancelled) first
};

void MemoryKVStore::apply_set(const Key& key, const Value& value) {
  auto [it, inserted] = data_.try_emplace(key, value);
  if (inserted) {
    logical_bytes_ += static_cast<int64_t>(key.size() + value.size());
    return;
  }
  logical_bytes_ += static_cast<int64_t>(value.size()) - static_cast<int64_t>(it->second.size());
  it->second = value;
}

void MemoryKVStore::apply_clear_range(const Key& begin, const Key& end) {
  if (!(begin < end)) return;
  auto first = data_.lower_bound(begin);
  auto last = data_.lower_bound(end);
  for (auto it = first; it != last; ++it) logical_bytes_ -= static_cast<int64_t>(it->first.size() + it->second.size());
  data_.erase(first, last);
  KEEL_ASSERT(logical_bytes_ >= 0);
}

void MemoryKVStore::apply(const Mutation& mutation) {
  if (mutation.type == MutationType::set_value) {
    apply_set(mutation.param1, mutation.param2);
  } else {
    KEEL_ASSERT(mutation.type == MutationType::clear_range);  // decode_payload admits no other
    apply_clear_range(mutation.param1, mutation.param2);
  }
}

Future<std::vector<KeyValue>> MemoryKVStore::get_range(KeyRange range, int limit, bool reverse, size_t bytes_limit) {
  std::vector<KeyValue> result;
  if (limit <= 0 || range.empty()) return result;
  size_t bytes = 0;
  // Adds one pair; false once either limit is reached.
  auto add = [&](const std::pair<const Key, Value>& entry) {
    result.push_back(KeyValue{entry.first, entry.second});
    bytes += entry.first.size() + entry.second.size();
    return result.size() < static_cast<size_t>(limit) && bytes < bytes_limit;
  };
  auto first = data_.lower_bound(range.begin);
  auto last = data_.lower_bound(range.end);
  if (!reverse) {
    for (auto it = first; it != last && add(*it); ++it) {
    }
  } else {
    for (auto it = last; it != first && add(*std::prev(it)); --it) {
    }
  }
  if (buggify()) return answer_later(std::move(result));
  return result;
}

// ---- Commit path ----

Future<Void> MemoryKVStore::commit() {
  if (failed_) return *failed_;
  std::string payload = pending_.take();
  pending_ = BinaryWriter();
  if (payload.empty()) return last_commit_.is_valid() ? last_commit_ : Future<Void>(Void{});
  CommitItem item;
  if (snapshot_due(payload.size())) {
    item.snapshot = plan_snapshot();  // the data set now is exactly the state after this commit
  } else {
    log_bytes_planned_ += static_cast<int64_t>(format::log_record_header_bytes + payload.size());
    item.payload = std::move(payload);
  }
  last_commit_ = item.durable.get_future();
  queue_.push(std::move(item));
  return last_commit_;
}

bool MemoryKVStore::snapshot_due(size_t payload_bytes) {
  if (payload_bytes > format::log_record_payload_bytes_max) return true;
  const MemoryKVStoreKnobs& knobs = memory_kv_store_knobs();
  const auto log_bytes =
      static_cast<double>(log_bytes_planned_ + static_cast<int64_t>(format::log_record_header_bytes + payload_bytes));
  const double threshold =
      std::max(knobs.snapshot_log_bytes_min, knobs.snapshot_log_ratio * static_cast<double>(logical_bytes_));
  return log_bytes > threshold || buggify();
}

MemoryKVStore::PlannedSnapshot MemoryKVStore::plan_snapshot() {
  PlannedSnapshot snapshot;
  snapshot.generation = next_generation_++;
  snapshot.log_salt = deterministic_random().next_u64();
  snapshot.bytes = format::encode_snapshot(snapshot.generation, snapshot.log_salt, data_);
  log_bytes_planned_ = 0;  // the commits after this one go to the new, empty log
  return snapshot;
}

Future<Void> MemoryKVStore::run_committer() {
  try {
    while (true) {
      co_await queue_.when_not_empty();
      KEEL_ASSERT(writing_.empty() && !queue_.empty());
      if (queue_.front().snapshot) {
        CommitItem item = std::move(queue_.front());
        queue_.pop_front();
        writing_.push_back(item.durable);
        co_await install_snapshot(*item.snapshot);
      } else {
        std::string payload = take_group();
        co_await append_record(std::move(payload));
      }
      std::vector<Promise<Void>> durable = std::move(writing_);
      writing_.clear();
      commits_ += static_cast<int64_t>(durable.size());
      for (const Promise<Void>& commit : durable) commit.send(Void{});
    }
  } catch (const Error& error) {
    fail(error);
  }
  co_return Void{};
}

// Takes the log-bound commits at the front of the queue that fit one record together.
std::string MemoryKVStore::take_group() {
  const auto group_bytes_max = std::min(static_cast<double>(format::log_record_payload_bytes_max),
                                        memory_kv_store_knobs().commit_group_bytes_max);
  std::string payload;
  while (!queue_.empty() && !queue_.front().snapshot) {
    CommitItem& next = queue_.front();
    if (!writing_.empty() && static_cast<double>(payload.size() + next.payload.size()) > group_bytes_max) break;
    payload += next.payload;
    writing_.push_back(next.durable);
    queue_.pop_front();
  }
  KEEL_ASSERT(!writing_.empty() && payload.size() <= format::log_record_payload_bytes_max);
  return payload;
}

Future<Void> MemoryKVStore::append_record(std::string payload) {
  std::string record = format::encode_log_record(payload, log_salt_);
  const auto record_bytes = static_cast<int64_t>(record.size());
  co_await log_->write(log_bytes_, std::move(record));
  device_bytes_written_ += record_bytes;
  co_await log_->sync();
  log_bytes_ += record_bytes;
  co_return Void{};
}

// Makes `snapshot` the new generation: written aside and synced, renamed into place (from then
// on it is what recovery loads), a new empty log opened, the old generation's files deleted.
Future<Void> MemoryKVStore::install_snapshot(const PlannedSnapshot& snapshot) {
  const std::string temporary = path(FileKind::temporary_snapshot, snapshot.generation);
  std::shared_ptr<IFile> file = co_await world().open_file(temporary, open_flags::read_write | open_flags::create);
  co_await file->truncate(0);
  for (size_t offset = 0; offset < snapshot.bytes.size(); offset += snapshot_write_bytes) {
    co_await file->write(static_cast<int64_t>(offset), snapshot.bytes.substr(offset, snapshot_write_bytes));
  }
  device_bytes_written_ += static_cast<int64_t>(snapshot.bytes.size());
  co_await file->sync();
  co_await world().rename_file(temporary, path(FileKind::snapshot, snapshot.generation));
  std::shared_ptr<IFile> log =
      co_await world().open_file(path(FileKind::log, snapshot.generation), open_flags::read_write | open_flags::create);
  const uint64_t old_generation = generation_;
  generation_ = snapshot.generation;
  log_salt_ = snapshot.log_salt;
  log_ = log;
  log_bytes_ = 0;
  snapshot_bytes_ = static_cast<int64_t>(snapshot.bytes.size());
  TraceEvent("MemoryKVStoreSnapshotInstalled")
      .detail("Directory", directory_)
      .detail("Generation", generation_)
      .detail("Bytes", snapshot_bytes_);
  if (old_generation != 0) {
    co_await delete_if_present(path(FileKind::log, old_generation));
    co_await delete_if_present(path(FileKind::snapshot, old_generation));
  }
  co_return Void{};
}

void MemoryKVStore::fail(const Error& error) {
  TraceEvent(Severity::warn_always, "MemoryKVStoreFailed").detail("Directory", directory_).error(error);
  failed_ = Error(error.code() == errc::disk_full ? errc::disk_full : errc::io_error);
  for (const Promise<Void>& commit : writing_) commit.send_error(*failed_);
  writing_.clear();
  for (const CommitItem& item : queue_) item.durable.send_error(*failed_);
  queue_.clear();
}

// ---- Recovery ----

Future<Void> MemoryKVStore::recover() {
  co_await world().create_directories(directory_);
  std::vector<std::string> names = co_await world().list_directory(directory_);
  std::vector<format::FileName> files;
  std::optional<uint64_t> newest;
  for (const std::string& name : names) {
    std::optional<format::FileName> file = format::parse_file_name(name);
    if (!file) continue;
    files.push_back(*file);
    if (file->kind == FileKind::snapshot) newest = std::max(newest.value_or(0), file->generation);
  }
  for (const format::FileName& file : files) {
    // A log is created only after its snapshot is in place, and snapshots are never deleted
    // before a newer one is: a log without its snapshot means files were lost.
    if (file.kind == FileKind::log && (!newest || file.generation > *newest)) {
      TraceEvent(Severity::warn_always, "MemoryKVStoreSnapshotMissing")
          .detail("Directory", directory_)
          .detail("LogGeneration", file.generation);
      throw Error(errc::checksum_failed);
    }
  }
  if (newest) co_await load_snapshot(*newest);
  co_await delete_leftovers(files);
  if (newest) {
    co_await recover_log();
  } else {
    PlannedSnapshot empty = plan_snapshot();
    co_await install_snapshot(empty);
  }
  committer_ = run_committer();
  TraceEvent("MemoryKVStoreOpened")
      .detail("Directory", directory_)
      .detail("Generation", generation_)
      .detail("Keys", data_.size())
      .detail("LogicalBytes", logical_bytes_)
      .detail("DiskBytes", disk_bytes());
  co_return Void{};
}

Future<Void> MemoryKVStore::load_snapshot(uint64_t generation) {
  const std::string snapshot_path = path(FileKind::snapshot, generation);
  std::shared_ptr<IFile> file = co_await world().open_file(snapshot_path, open_flags::read_only);
  std::string bytes = co_await read_whole_file(file);
  format::Snapshot snapshot;
  try {
    snapshot = format::decode_snapshot(bytes);
    if (snapshot.generation != generation) throw Error(errc::checksum_failed);
  } catch (const Error& error) {
    TraceEvent(Severity::warn_always, "MemoryKVStoreSnapshotCorrupt").detail("Path", snapshot_path).error(error);
    throw;
  }
  generation_ = generation;
  next_generation_ = generation + 1;
  log_salt_ = snapshot.log_salt;
  snapshot_bytes_ = static_cast<int64_t>(bytes.size());
  data_ = std::move(snapshot.data);
  logical_bytes_ = 0;
  for (const auto& [key, value] : data_) logical_bytes_ += static_cast<int64_t>(key.size() + value.size());
  co_return Void{};
}

// Deletes what an interrupted snapshot switch left: temporaries, and other generations' files.
Future<Void> MemoryKVStore::delete_leftovers(std::vector<format::FileName> files) {
  for (const format::FileName& file : files) {
    if (file.kind == FileKind::temporary_snapshot || file.generation != generation_) {
      co_await delete_if_present(path(file.kind, file.generation));
    }
  }
  co_return Void{};
}

Future<Void> MemoryKVStore::recover_log() {
  // The log is missing if the crash came between the snapshot's rename and the log's creation.
  const std::string log_path = path(FileKind::log, generation_);
  std::shared_ptr<IFile> log = co_await world().open_file(log_path, open_flags::read_write | open_flags::create);
  std::string bytes = co_await read_whole_file(log);
  const format::LogScan scan = format::scan_log(bytes, log_salt_, [this](std::string_view payload) {
    for (const Mutation& mutation : format::decode_payload(payload)) apply(mutation);
  });
  if (scan.torn_tail) {
    // The tail of a commit that never completed: cut off before appending, so its bytes can
    // never reappear after later records.
    TraceEvent(Severity::warn, "MemoryKVStoreLogTornTail")
        .detail("Path", log_path)
        .detail("ValidBytes", scan.valid_bytes)
        .detail("DroppedBytes", bytes.size() - scan.valid_bytes);
    co_await log->truncate(static_cast<int64_t>(scan.valid_bytes));
  }
  // What was read may have been only in the page cache (the previous incarnation was killed
  // between a write and its sync); it is served as committed from now on, so make it durable.
  co_await log->sync();
  log_ = log;
  log_bytes_ = static_cast<int64_t>(scan.valid_bytes);
  log_bytes_planned_ = log_bytes_;
  co_return Void{};
}

}  // namespace

Future<std::unique_ptr<IKeyValueStore>> open_memory_kv_store(std::string directory) {
  auto store = std::make_unique<MemoryKVStore>(std::move(directory));
  Future<Void> recovered = store->recover();  // declared after `store`: cancelled before it dies
  co_await recovered;
  co_return std::unique_ptr<IKeyValueStore>(std::move(store));
}

}  // namespace keel
