#include "storage/rocksdb/rocksdb_key_scan.h"

#include <algorithm>

namespace keel {

void KeyScan::stop() {
  stopping = true;
  const std::lock_guard<std::mutex> lock(mutex);
  snapshot.reset();
  database.reset();
}

rocksdb::Status start_key_scan(KeyScan* scan, uint64_t keys_max, double bits_per_key) {
  const std::lock_guard<std::mutex> lock(scan->mutex);
  if (!scan->database) return rocksdb::Status::OK();
  uint64_t keys = 0;
  if (!scan->database->db().GetIntProperty(scan->database->data(), rocksdb::DB::Properties::kEstimateNumKeys, &keys)) {
    keys = 0;
  }
  // A first layer for every key there is, so the scan's keys take one layer, not a chain of
  // growing ones.
  scan->filter.emplace(std::min(keys / 4 * 5, keys_max), bits_per_key);
  return rocksdb::Status::OK();
}

rocksdb::Status scan_key_piece(KeyScan* scan, size_t piece_keys) {
  const std::lock_guard<std::mutex> lock(scan->mutex);
  if (!scan->database) return rocksdb::Status::OK();
  rocksdb::ReadOptions options;
  options.snapshot = scan->snapshot.get();
  options.fill_cache = false;  // a pass over everything once: keep the block cache for the reads
  options.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(scan->database->db().NewIterator(options, scan->database->data()));
  if (scan->started) it->Seek(scan->resume);
  else it->SeekToFirst();
  scan->started = true;
  for (size_t keys = 0; it->Valid() && keys < piece_keys && !scan->stopping; it->Next(), ++keys) {
    scan->filter->add(std::string_view(it->key().data(), it->key().size()));
  }
  if (!it->status().ok()) return it->status();
  if (it->Valid()) scan->resume.assign(it->key().data(), it->key().size());
  else scan->done = true;
  return rocksdb::Status::OK();
}

}  // namespace keel
