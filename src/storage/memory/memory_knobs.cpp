#include "storage/memory/memory_knobs.h"

#include "runtime/knobs.h"

namespace keel {

MemoryKVStoreKnobs::MemoryKVStoreKnobs() {
  KnobRegistry& registry = knob_registry();
  registry.declare("memory_snapshot_log_ratio", &snapshot_log_ratio, {0.1, 0.5, 8.0});
  registry.declare("memory_snapshot_log_bytes_min", &snapshot_log_bytes_min, {0.0, 4096.0});
  registry.declare("memory_commit_group_bytes_max", &commit_group_bytes_max, {1.0, 65536.0});
}

MemoryKVStoreKnobs& memory_kv_store_knobs() {
  static MemoryKVStoreKnobs knobs;
  return knobs;
}

}  // namespace keel
