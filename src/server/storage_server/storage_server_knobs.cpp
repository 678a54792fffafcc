#include "server/storage_server/storage_server_knobs.h"

#include "runtime/knobs.h"

namespace keel {

StorageServerKnobs::StorageServerKnobs() {
  knob_registry().declare("storage_durable_batch_bytes", &storage_durable_batch_bytes, {4.0 * 1024, 64.0 * 1024});
  knob_registry().declare("storage_durable_piece_writes", &storage_durable_piece_writes, {1.0, 10.0});
  knob_registry().declare("storage_fetch_bytes", &storage_fetch_bytes, {100.0, 4.0 * 1024});
  knob_registry().declare("storage_range_round_bytes", &storage_range_round_bytes, {1.0, 1024.0});
}

StorageServerKnobs& storage_server_knobs() {
  static StorageServerKnobs knobs;
  return knobs;
}

}  // namespace keel
