#include "server/tlog/tlog_knobs.h"

#include <algorithm>

#include "runtime/knobs.h"
#include "world/world.h"

namespace keel {

TLogKnobs::TLogKnobs() {
  knob_registry().declare("tlog_spill_bytes", &tlog_spill_bytes, {16.0 * 1024, 1024.0 * 1024});
  knob_registry().declare("tlog_spill_budget_fraction", &tlog_spill_budget_fraction, {});
  knob_registry().declare("tlog_write_ahead_bytes", &tlog_write_ahead_bytes, {0.0, 700.0, 4096.0});
  knob_registry().declare("tlog_syncs_in_flight_max", &tlog_syncs_in_flight_max, {1.0, 2.0});
  knob_registry().declare("tlog_sync_overlap_after_fraction", &tlog_sync_overlap_after_fraction, {0.5, 1.0});
}

TLogKnobs& tlog_knobs() {
  static TLogKnobs knobs;
  return knobs;
}

int64_t tlog_spill_threshold_bytes() {
  const TLogKnobs& knobs = tlog_knobs();
  double threshold = knobs.tlog_spill_bytes;
  const int64_t budget = world().memory_budget_bytes();
  if (budget > 0) threshold = std::min(threshold, static_cast<double>(budget) * knobs.tlog_spill_budget_fraction);
  return static_cast<int64_t>(threshold);
}

}  // namespace keel
