// Tunable settings of the `ssd` storage engine (see runtime/knobs.h). The engine runs only in the
// real world, so simulation never picks the alternatives; tests set them directly.
#pragma once

namespace keel {

struct SsdKVStoreKnobs {
  // The LMDB map (address space, not disk) a new or small environment starts with; it doubles
  // whenever a commit finds it full.
  double map_bytes_initial = 64.0 * 1024 * 1024;
  // Open reads and verifies every record when the data file is at most this large.
  double verify_at_open_bytes_max = 1024.0 * 1024 * 1024;
  // Key and value bytes a storage server puts in one commit when it has more (preferred_commit_
  // bytes). An LMDB write transaction holds a copy of every page it dirties in memory until it
  // commits: with random keys about one 4 KiB page per key, so about 36 MiB for 1 MiB of
  // 116-byte pairs, 280 MiB for 8 MiB (with 8 MiB commits a 10 M-key load killed a server capped
  // at 512 MiB; with 1 MiB its memory stayed near 300 MiB).
  double commit_bytes = 1024.0 * 1024;
  // LMDB keeps the buffers of the pages a write transaction dirtied until the environment
  // closes; after a commit that may have dirtied more than this (a page per record), the engine
  // closes and opens its environment to give them back (lmdb_store.h).
  double reopen_after_dirty_bytes = 64.0 * 1024 * 1024;

  SsdKVStoreKnobs();
};

SsdKVStoreKnobs& ssd_kv_store_knobs();

}  // namespace keel
