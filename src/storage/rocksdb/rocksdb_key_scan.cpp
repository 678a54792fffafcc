#include "storage/rocksdb/rocksdb_key_scan.h"

#include <memory>

namespace keel {

rocksdb::Status scan_key_piece(RocksDBDatabase& database, const rocksdb::Snapshot* snapshot, size_t piece_keys,
                               KeyScan* scan) {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  options.fill_cache = false;  // a pass over everything once: keep the block cache for the reads
  options.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(options, database.data()));
  if (scan->started) it->Seek(scan->resume);
  else it->SeekToFirst();
  scan->started = true;
  for (size_t keys = 0; it->Valid() && keys < piece_keys; it->Next(), ++keys) {
    scan->filter.add(std::string_view(it->key().data(), it->key().size()));
  }
  if (!it->status().ok()) return it->status();
  if (it->Valid()) scan->resume.assign(it->key().data(), it->key().size());
  else scan->done = true;
  return rocksdb::Status::OK();
}

uint64_t estimate_key_count(RocksDBDatabase& database) {
  uint64_t keys = 0;
  if (!database.db().GetIntProperty(database.data(), rocksdb::DB::Properties::kEstimateNumKeys, &keys)) return 0;
  return keys;
}

}  // namespace keel
