#include "storage/rocksdb/rocksdb_database.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include "runtime/trace.h"
#include "storage/rocksdb/rocksdb_knobs.h"
#include "world/world.h"

namespace keel {
namespace {

// Bytes of the WAL files (NNNNNN.log) in `directory`, read from the directory itself, not with
// DB::GetSortedWalFiles: in RocksDB 7.8 that call can wait forever for a purge that never
// signals it is done (fixed upstream in facebook/rocksdb#14069); a commit that asked for the
// size then never finished. A file that goes while it is listed is left out.
uint64_t wal_bytes(const std::string& directory) {
  uint64_t bytes = 0;
  std::error_code error;
  for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    if (it->path().extension() != ".log") continue;
    std::error_code size_error;
    const uintmax_t size = it->file_size(size_error);
    if (!size_error) bytes += size;
  }
  return bytes;
}

// Every rocksdb store of the process shares one block cache and one memtable budget, sized by
// the first store opened: the knobs, within a quarter (cache) and a sixteenth (all memtables) of
// the process's memory budget when it has one.
struct SharedMemory {
  std::shared_ptr<rocksdb::Cache> block_cache;
  std::shared_ptr<rocksdb::WriteBufferManager> memtables;  // null: no budget
};

const SharedMemory& shared_memory(const RocksDBKVStoreKnobs& knobs, int64_t memory_budget_bytes) {
  static const SharedMemory shared = [&] {
    double cache_bytes = knobs.block_cache_bytes;
    SharedMemory made;
    if (memory_budget_bytes > 0) {
      const auto budget = static_cast<double>(memory_budget_bytes);
      cache_bytes = std::min(cache_bytes, budget / 4);
      made.memtables = std::make_shared<rocksdb::WriteBufferManager>(static_cast<size_t>(budget / 16));
    }
    made.block_cache = rocksdb::NewLRUCache(static_cast<size_t>(cache_bytes));
    return made;
  }();
  return shared;
}

rocksdb::Options make_options(const RocksDBKVStoreKnobs& knobs, int64_t memory_budget_bytes) {
  const SharedMemory& shared = shared_memory(knobs, memory_budget_bytes);
  rocksdb::Options options;
  options.write_buffer_manager = shared.memtables;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.paranoid_checks = true;  // stop on corruption found in the WAL, MANIFEST or SSTs
  // A crash mid-write may leave an incomplete record at the WAL's end: it was never acknowledged
  // (every commit is synced before it completes), so it is dropped. A checksum mismatch anywhere
  // else fails the open: point-in-time recovery would instead silently drop every commit after
  // the damage, acknowledged ones included (docs/storage_engines.md).
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  double write_buffer_bytes = knobs.write_buffer_bytes;
  if (memory_budget_bytes > 0) write_buffer_bytes = std::min(write_buffer_bytes, static_cast<double>(memory_budget_bytes) / 32);
  options.write_buffer_size = static_cast<size_t>(write_buffer_bytes);
  if (knobs.memtable_bloom_ratio > 0) {
    options.memtable_prefix_bloom_size_ratio = knobs.memtable_bloom_ratio;
    options.memtable_whole_key_filtering = true;  // no prefix extractor: whole keys only
  }
  options.level_compaction_dynamic_level_bytes = true;  // bounds space amplification near 1.1
  options.bytes_per_sync = 1 << 20;                     // smooth out flush and compaction writes
  options.max_log_file_size = 16 << 20;                 // RocksDB's LOG (text) files, bounded
  options.keep_log_file_num = 4;
  options.statistics = rocksdb::CreateDBStatistics();

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = shared.block_cache;
  if (knobs.bloom_bits_per_key > 0) table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(knobs.bloom_bits_per_key));
  // Index and filter blocks live in the block cache (bounded memory for data sets beyond RAM);
  // level 0's stay pinned since every read consults them.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.checksum = rocksdb::kXXH3;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

// Writes the format version into a new database, or checks an existing one's.
rocksdb::Status check_format(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* meta) {
  std::string stored;
  rocksdb::Status status = db.Get(rocksdb::ReadOptions(), meta, rocksdb_format_version_key, &stored);
  if (status.IsNotFound()) {
    rocksdb::WriteOptions write;
    write.sync = true;
    return db.Put(write, meta, rocksdb_format_version_key, encode_fixed64(rocksdb_format_version));
  }
  if (!status.ok()) return status;
  if (stored.size() != 8) return rocksdb::Status::Corruption("keel format_version is not 8 bytes");
  if (decode_fixed64(stored) != rocksdb_format_version) {
    return rocksdb::Status::NotSupported("unknown keel format_version " + std::to_string(decode_fixed64(stored)));
  }
  return rocksdb::Status::OK();
}

}  // namespace

std::string encode_fixed64(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[static_cast<size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

uint64_t decode_fixed64(std::string_view bytes) {
  if (bytes.size() != 8) throw Error(errc::checksum_failed);
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  return value;
}

Error rocksdb_error(const rocksdb::Status& status) {
  if (status.IsCorruption()) return Error(errc::checksum_failed);
  if (status.IsNoSpace() || status.ToString().find("No space left") != std::string::npos) return Error(errc::disk_full);
  return Error(errc::io_error);
}

rocksdb::Status RocksDBDatabase::open(const std::string& directory, int64_t memory_budget_bytes,
                                      std::shared_ptr<RocksDBDatabase>* opened) {
  std::error_code created;
  std::filesystem::create_directories(directory, created);
  if (created) return rocksdb::Status::IOError("cannot create " + directory + ": " + created.message());

  const rocksdb::Options options = make_options(rocksdb_kv_store_knobs(), memory_budget_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> families{
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(options)},
      {rocksdb_meta_column_family, rocksdb::ColumnFamilyOptions(options)}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(rocksdb::DBOptions(options), directory, families, &handles, &db);
  if (!status.ok()) return status;

  std::shared_ptr<RocksDBDatabase> database(new RocksDBDatabase());
  database->directory_ = directory;
  database->db_.reset(db);
  database->data_ = handles.at(0);
  database->meta_ = handles.at(1);
  database->statistics_ = options.statistics;
  double value_sizes_bytes = rocksdb_kv_store_knobs().value_sizes_bytes;
  if (memory_budget_bytes > 0) value_sizes_bytes = std::min(value_sizes_bytes, static_cast<double>(memory_budget_bytes) / 64);
  database->value_sizes_ = ValueSizes(static_cast<int64_t>(value_sizes_bytes));
  status = check_format(*db, database->meta_);
  if (!status.ok()) return status;  // `database` closes it
  *opened = std::move(database);
  return rocksdb::Status::OK();
}

RocksDBDatabase::~RocksDBDatabase() {
  if (!db_) return;
  release_retired_snapshots();
  for (rocksdb::ColumnFamilyHandle* handle : {data_, meta_}) {
    if (handle != nullptr) db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();  // every commit was synced: nothing is lost by a failed close
}

std::shared_ptr<const rocksdb::Snapshot> RocksDBDatabase::snapshot() {
  std::shared_ptr<RocksDBDatabase> self = shared_from_this();
  return std::shared_ptr<const rocksdb::Snapshot>(db_->GetSnapshot(),
                                                  [self](const rocksdb::Snapshot* taken) { self->retire(taken); });
}

void RocksDBDatabase::retire(const rocksdb::Snapshot* snapshot) {
  std::lock_guard<std::mutex> lock(retired_mutex_);
  retired_.push_back(snapshot);
}

void RocksDBDatabase::release_retired_snapshots() {
  std::vector<const rocksdb::Snapshot*> retired;
  {
    std::lock_guard<std::mutex> lock(retired_mutex_);
    retired.swap(retired_);
  }
  for (const rocksdb::Snapshot* snapshot : retired) db_->ReleaseSnapshot(snapshot);
}

int64_t RocksDBDatabase::disk_bytes() {
  uint64_t bytes = 0;
  for (rocksdb::ColumnFamilyHandle* family : {data_, meta_}) {
    uint64_t family_bytes = 0;
    if (db_->GetIntProperty(family, rocksdb::DB::Properties::kLiveSstFilesSize, &family_bytes)) bytes += family_bytes;
  }
  return static_cast<int64_t>(bytes + wal_bytes(directory_));
}

int64_t RocksDBDatabase::device_bytes_written() const {
  const uint64_t bytes = statistics_->getTickerCount(rocksdb::WAL_FILE_BYTES) +
                         statistics_->getTickerCount(rocksdb::FLUSH_WRITE_BYTES) +
                         statistics_->getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
  return static_cast<int64_t>(bytes);
}

Future<Void> run_rocksdb(std::string operation, std::string directory, std::function<rocksdb::Status()> work) {
  auto status = std::make_shared<rocksdb::Status>();
  // Drops `work` (and the database references it holds) before the loop hears of completion,
  // so that once the last caller lets go the database is closed.
  std::function<void()> task = [status, work = std::move(work)]() mutable {
    *status = work();
    work = nullptr;
  };
  co_await world().run_blocking(std::move(task));
  if (status->ok()) co_return Void{};
  throw rocksdb_failure(operation, directory, *status);
}

Error rocksdb_failure(const std::string& operation, const std::string& directory, const rocksdb::Status& status) {
  const Error error = rocksdb_error(status);
  TraceEvent(Severity::warn_always, "RocksDBKVStoreFailed")
      .detail("Operation", operation)
      .detail("Directory", directory)
      .detail("Status", status.ToString())
      .error(error);
  return error;
}

}  // namespace keel
