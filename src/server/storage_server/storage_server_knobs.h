// Tunable settings of the storage server (randomized in simulation; see runtime/knobs.h).
#pragma once

namespace keel {

struct StorageServerKnobs {
  // Most key and value bytes one engine commit takes from the MVCC window. When the engine falls
  // behind, the backlog goes in commits of about this size, back to back, not in one commit as
  // large as the backlog (whose write batch would need as much memory again).
  double storage_durable_batch_bytes = 8.0 * 1024 * 1024;
  // How many writes make_durable hands the engine between yields to the event loop (about a
  // quarter of a millisecond of work), so a large step does not stall the commits and reads
  // waiting behind it.
  double storage_durable_piece_writes = 250;
  // Most key and value bytes one read of a shard being fetched from another server returns;
  // each piece is read at its own version, so a large shard need not be read within the window.
  double storage_fetch_bytes = 1024.0 * 1024;
  // Most key and value bytes one round of a range read takes from the engine before it merges
  // them with the window (a round may pass it by one row).
  double storage_range_round_bytes = 1024.0 * 1024;

  StorageServerKnobs();
};

StorageServerKnobs& storage_server_knobs();

}  // namespace keel
