// Tunable settings of the `memory` storage engine (randomized in simulation; see runtime/knobs.h).
//
// The knobs are declared to the registry the first time memory_kv_store_knobs() is called; a
// harness that wants them randomized or settable by name calls it before resetting the registry.
#pragma once

namespace keel {

struct MemoryKVStoreKnobs {
  // A snapshot replaces the log once the log would grow past this multiple of the data size...
  double snapshot_log_ratio = 2.0;
  // ...and past this many bytes (so a small store does not snapshot on every commit).
  double snapshot_log_bytes_min = 1024.0 * 1024;
  // Commits queued while the log is busy are written as one record of at most this many
  // payload bytes (a single larger commit still goes alone).
  double commit_group_bytes_max = 4.0 * 1024 * 1024;

  MemoryKVStoreKnobs();
};

MemoryKVStoreKnobs& memory_kv_store_knobs();

}  // namespace keel
