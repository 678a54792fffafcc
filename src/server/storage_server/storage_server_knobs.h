// Tunable settings of the storage server (randomized in simulation; see runtime/knobs.h).
#pragma once

namespace keel {

struct StorageServerKnobs {
  // Most key and value bytes one engine commit takes from the MVCC window. When the engine falls
  // behind, the backlog goes in commits of about this size, back to back, not in one commit as
  // large as the backlog (whose write batch would need as much memory again).
  double storage_durable_batch_bytes = 8.0 * 1024 * 1024;

  StorageServerKnobs();
};

StorageServerKnobs& storage_server_knobs();

}  // namespace keel
