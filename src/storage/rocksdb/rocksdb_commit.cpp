#include "storage/rocksdb/rocksdb_commit.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <rocksdb/write_batch.h>

namespace keel {
namespace {

int64_t pair_bytes(size_t key_bytes, size_t value_bytes) { return static_cast<int64_t>(key_bytes + value_bytes); }

// The commit's point writes sorted into key order here on the pool. A batch in key order lets
// the memtable's skip list insert each key beside the one before (it keeps where its last
// insert went) instead of searching down from its top level for each: over random keys, most
// of a commit's memtable time.
void sort_by_key(std::vector<CommitWrite>& writes) {
  std::sort(writes.begin(), writes.end(),
            [](const CommitWrite& a, const CommitWrite& b) { return a.write->key() < b.write->key(); });
}

// Change in live key and value bytes made by the commit's point writes. Old sizes the engine
// did not know come from the database's ValueSizes (keys recent commits wrote); the rest are
// read.
rocksdb::Status point_writes_delta(RocksDBDatabase& database, const std::vector<CommitWrite>& writes, int64_t* delta) {
  const ValueSizes& sizes = database.value_sizes();
  std::vector<rocksdb::Slice> unknown;  // in key order, as MultiGet's sorted_input says
  for (const CommitWrite& commit_write : writes) {
    const std::string_view key = commit_write.write->key();
    if (commit_write.write->value) *delta += pair_bytes(key.size(), commit_write.write->value->size());
    std::optional<int64_t> size;
    if (commit_write.old_size != CommitWrite::unknown_old_size) size = commit_write.old_size;
    else size = sizes.find(key);
    if (!size) unknown.emplace_back(key.data(), key.size());
    else if (*size != ValueSizes::absent) *delta -= pair_bytes(key.size(), static_cast<size_t>(*size));
  }
  if (unknown.empty()) return rocksdb::Status::OK();
  std::vector<rocksdb::PinnableSlice> old_values(unknown.size());
  std::vector<rocksdb::Status> statuses(unknown.size());
  // Only sizes are wanted: the blocks read stay out of the block cache, which keeps the blocks
  // reads need (a load would otherwise fill it with blocks of the keys it writes).
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  database.db().MultiGet(options, database.data(), unknown.size(), unknown.data(), old_values.data(), statuses.data(),
                         /*sorted_input=*/true);
  for (size_t i = 0; i < unknown.size(); ++i) {
    if (statuses[i].ok()) *delta -= pair_bytes(unknown[i].size(), old_values[i].size());
    else if (!statuses[i].IsNotFound()) return statuses[i];
  }
  return rocksdb::Status::OK();
}

// Records in the database's ValueSizes what a written commit left at the keys it wrote.
void record_value_sizes(RocksDBDatabase& database, const WriteOverlay& writes) {
  ValueSizes& sizes = database.value_sizes();
  if (!writes.cleared().empty()) sizes.clear();
  writes.for_each_write([&sizes](const WriteOverlay::Write& write) {
    sizes.record(write.key(), write.value ? static_cast<int64_t>(write.value->size()) : ValueSizes::absent);
  });
}

// Change in live bytes made by the overlay's cleared ranges (keys it also writes are counted by
// point_writes_delta).
rocksdb::Status cleared_ranges_delta(RocksDBDatabase& database, const WriteOverlay& writes, int64_t* delta) {
  for (const auto& [begin, end] : writes.cleared()) {
    const rocksdb::Slice lower(begin);
    const rocksdb::Slice upper(end);
    rocksdb::ReadOptions options;
    options.iterate_lower_bound = &lower;
    options.iterate_upper_bound = &upper;
    options.fill_cache = false;  // the keys are about to go
    std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(options, database.data()));
    for (it->Seek(lower); it->Valid(); it->Next()) {
      if (writes.writes_key(std::string_view(it->key().data(), it->key().size()))) continue;
      *delta -= pair_bytes(it->key().size(), it->value().size());
    }
    if (!it->status().ok()) return it->status();
  }
  return rocksdb::Status::OK();
}

}  // namespace

rocksdb::Status write_commit(RocksDBDatabase& database, const WriteOverlay& writes, std::vector<CommitWrite> point_writes,
                             int64_t logical_bytes_before, CommitOutcome* outcome) {
  database.release_retired_snapshots();
  int64_t delta = 0;
  sort_by_key(point_writes);
  rocksdb::Status status = point_writes_delta(database, point_writes, &delta);
  if (status.ok()) status = cleared_ranges_delta(database, writes, &delta);
  if (!status.ok()) return status;
  const int64_t logical_bytes = logical_bytes_before + delta;
  if (logical_bytes < 0) return rocksdb::Status::Corruption("keel logical_bytes would become negative");

  rocksdb::WriteBatch batch;
  for (const auto& [begin, end] : writes.cleared()) {
    status = batch.DeleteRange(database.data(), begin, end);
    if (!status.ok()) return status;
  }
  for (const CommitWrite& commit_write : point_writes) {
    const WriteOverlay::Write* write = commit_write.write;
    const rocksdb::Slice key(write->key().data(), write->key().size());
    status = write->value ? batch.Put(database.data(), key, *write->value) : batch.Delete(database.data(), key);
    if (!status.ok()) return status;
  }
  status = batch.Put(database.meta(), rocksdb_logical_bytes_key, encode_fixed64(static_cast<uint64_t>(logical_bytes)));
  if (!status.ok()) return status;
  rocksdb::WriteOptions options;
  options.sync = true;
  status = database.db().Write(options, &batch);
  if (!status.ok()) return status;
  record_value_sizes(database, writes);

  outcome->logical_bytes = logical_bytes;
  outcome->snapshot = database.snapshot();
  outcome->disk_bytes = database.disk_bytes();
  outcome->device_bytes_written = database.device_bytes_written();
  return rocksdb::Status::OK();
}

rocksdb::Status read_logical_bytes(RocksDBDatabase& database, int64_t* logical_bytes) {
  std::string stored;
  rocksdb::Status status = database.db().Get(rocksdb::ReadOptions(), database.meta(), rocksdb_logical_bytes_key, &stored);
  if (status.IsNotFound()) {
    *logical_bytes = 0;
    return rocksdb::Status::OK();
  }
  if (!status.ok()) return status;
  if (stored.size() != 8) return rocksdb::Status::Corruption("keel logical_bytes is not 8 bytes");
  *logical_bytes = static_cast<int64_t>(decode_fixed64(stored));
  return rocksdb::Status::OK();
}

}  // namespace keel
