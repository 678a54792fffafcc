// Tunable settings of the `rocksdb` storage engine (see runtime/knobs.h).
//
// The knobs are declared to the registry the first time rocksdb_kv_store_knobs() is called. They
// are read when a store is opened: changing one affects stores opened afterwards. The engine never
// runs in simulation (it touches the real disk), so the alternatives only serve `--knob` users.
#pragma once

namespace keel {

struct RocksDBKVStoreKnobs {
  // Size of the LRU cache of uncompressed data, index and filter blocks, shared by the process's
  // stores; at most a quarter of the process's memory budget (keel server --memory).
  double block_cache_bytes = 256.0 * 1024 * 1024;
  // Memtable size: a memtable this large is flushed to a new level-0 file. At most a 32nd of the
  // memory budget, and all the process's memtables together flush at a sixteenth of it.
  double write_buffer_bytes = 64.0 * 1024 * 1024;
  // Bloom filter bits per key (about 1% false positives at 10); 0 turns the filters off.
  double bloom_bits_per_key = 10.0;

  RocksDBKVStoreKnobs();
};

RocksDBKVStoreKnobs& rocksdb_kv_store_knobs();

}  // namespace keel
