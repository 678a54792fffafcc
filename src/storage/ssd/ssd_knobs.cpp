#include "storage/ssd/ssd_knobs.h"

#include "runtime/knobs.h"

namespace keel {

SsdKVStoreKnobs::SsdKVStoreKnobs() {
  KnobRegistry& registry = knob_registry();
  registry.declare("ssd_map_bytes_initial", &map_bytes_initial, {1024.0 * 1024});
  registry.declare("ssd_verify_at_open_bytes_max", &verify_at_open_bytes_max, {0.0});
  registry.declare("ssd_commit_bytes", &commit_bytes, {64.0 * 1024});
  registry.declare("ssd_reopen_after_dirty_bytes", &reopen_after_dirty_bytes, {0.0});
}

SsdKVStoreKnobs& ssd_kv_store_knobs() {
  static SsdKVStoreKnobs knobs;
  return knobs;
}

}  // namespace keel
