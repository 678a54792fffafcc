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

  SsdKVStoreKnobs();
};

SsdKVStoreKnobs& ssd_kv_store_knobs();

}  // namespace keel
