#include "storage/rocksdb/rocksdb_knobs.h"

#include "runtime/knobs.h"

namespace keel {

RocksDBKVStoreKnobs::RocksDBKVStoreKnobs() {
  KnobRegistry& registry = knob_registry();
  registry.declare("rocksdb_block_cache_bytes", &block_cache_bytes, {1024.0 * 1024, 8.0 * 1024 * 1024});
  registry.declare("rocksdb_write_buffer_bytes", &write_buffer_bytes, {64.0 * 1024, 4.0 * 1024 * 1024});
  registry.declare("rocksdb_bloom_bits_per_key", &bloom_bits_per_key, {0.0, 20.0});
  registry.declare("rocksdb_memtable_bloom_ratio", &memtable_bloom_ratio, {0.0, 0.2});
  registry.declare("rocksdb_row_cache_bytes", &row_cache_bytes, {0.0, 64.0 * 1024});
  registry.declare("rocksdb_value_sizes_bytes", &value_sizes_bytes, {0.0, 4.0 * 1024});
  registry.declare("rocksdb_cached_reads_on_loop", &cached_reads_on_loop, {0.0});
  registry.declare("rocksdb_refresh_piece_keys", &refresh_piece_keys, {1.0, 16.0});
  registry.declare("rocksdb_key_filter_bits_per_key", &key_filter_bits_per_key, {0.0, 4.0});
  registry.declare("rocksdb_key_filter_bytes", &key_filter_bytes, {0.0, 64.0 * 1024});
  registry.declare("rocksdb_key_scan_piece_keys", &key_scan_piece_keys, {1.0, 100.0});
}

RocksDBKVStoreKnobs& rocksdb_kv_store_knobs() {
  static RocksDBKVStoreKnobs knobs;
  return knobs;
}

}  // namespace keel
