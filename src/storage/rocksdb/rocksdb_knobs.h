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
  // The memtables' whole-key Bloom filter, as a fraction of the memtable size: a point read of a
  // key the memtables do not hold skips their skip lists; 0 turns it off.
  double memtable_bloom_ratio = 0.02;
  // Per store: the row cache of point-read results in front of RocksDB (storage/row_cache.h), at
  // most a 32nd of the memory budget; 0 turns it off. 256 MiB holds about 1.8 million entries of
  // 40-byte keys and values (each entry is charged 96 bytes more).
  double row_cache_bytes = 256.0 * 1024 * 1024;
  // Per store: what recent commits left at the keys they wrote (value sizes), so that a commit
  // counts live bytes without reading those keys again (value_sizes.h), at most a 64th of the
  // memory budget; 0 turns it off.
  double value_sizes_bytes = 32.0 * 1024 * 1024;
  // 1: a batch of point reads first reads what memory holds (memtables, block cache) on the event
  // loop, and sends only the rest to the blocking pool; 0: every batch goes to the pool.
  double cached_reads_on_loop = 1.0;
  // How many keys a finished commit refreshes in the row cache between yields to the event loop.
  double refresh_piece_keys = 1024;
  // Per store: bits a key gets in the filter of every key the store holds (storage/key_filter.h;
  // a point read of a key it never held then skips RocksDB and the row cache); 0 turns it off.
  double key_filter_bits_per_key = 10.0;
  // Per store: the filter's largest size, at most a 64th of the memory budget. A filter that
  // would grow past it starts over from a new scan when most of its keys are gone again, else
  // is dropped (reads then go to RocksDB, as with no filter) until the next open. 64 MiB holds
  // about 50 million keys at 10 bits.
  double key_filter_bytes = 64.0 * 1024 * 1024;
  // Keys the filter's scan at open reads per piece on the blocking pool (other work of the pool
  // runs between pieces).
  double key_scan_piece_keys = 65536;

  RocksDBKVStoreKnobs();
};

RocksDBKVStoreKnobs& rocksdb_kv_store_knobs();

}  // namespace keel
