// Tunable settings of the transaction log (randomized in simulation; see runtime/knobs.h).
#pragma once

#include <cstdint>

namespace keel {

struct TLogKnobs {
  // Above this many key and value bytes of mutations held in memory, a log spills the oldest
  // durable versions of the tags holding the most: they keep only where their record is in the
  // files, and peeks and copies read them back (tlog_state.h).
  double tlog_spill_bytes = 256.0 * 1024 * 1024;
  // ... and at most this fraction of the process's memory budget (keel server --memory).
  double tlog_spill_budget_fraction = 0.125;
  // A log extends its current segment by this many zero bytes at a time, ahead of its records:
  // a sync that does not change the file's length only has the data to make durable (0: off).
  double tlog_write_ahead_bytes = 1024.0 * 1024;
  // At most this many writes and syncs of a log at once: a write of the commits that came
  // while a sync runs is handed over at once instead of after it; versions still become durable
  // in chain order. In the real world the sync lane gathers the ones handed over while a sync
  // runs under the next one (world/sync_lane.h), so the disk never serves two syncs of the log.
  double tlog_syncs_in_flight_max = 8;
  // ... but a trip starts beside others only once the newest has run this fraction of the
  // smoothed trip duration: commits that come early in a sync share the next trip instead
  // (for a disk serving overlapping syncs, each of which costs about one sync's time); those
  // that come late do not wait it out. 0: every trip starts at once.
  double tlog_sync_overlap_after_fraction = 0;

  TLogKnobs();
};

TLogKnobs& tlog_knobs();

// The threshold above: tlog_spill_bytes, or less in a process whose memory budget is small.
int64_t tlog_spill_threshold_bytes();

}  // namespace keel
