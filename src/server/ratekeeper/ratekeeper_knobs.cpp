#include "server/ratekeeper/ratekeeper_knobs.h"

#include "runtime/knobs.h"

namespace keel {

RatekeeperKnobs::RatekeeperKnobs() {
  KnobRegistry& registry = knob_registry();
  registry.declare("ratekeeper_poll_seconds", &ratekeeper_poll_seconds, {0.1, 1.0});
  registry.declare("ratekeeper_storage_window_target_bytes", &ratekeeper_storage_window_target_bytes,
                   {4.0 * 1024 * 1024, 1024.0 * 1024 * 1024});
  registry.declare("ratekeeper_storage_window_spring_fraction", &ratekeeper_storage_window_spring_fraction, {0.05, 0.5});
  registry.declare("ratekeeper_memory_target_fraction", &ratekeeper_memory_target_fraction, {0.5, 0.9});
  registry.declare("ratekeeper_memory_spring_fraction", &ratekeeper_memory_spring_fraction, {0.05, 0.2});
  registry.declare("ratekeeper_transactions_per_second_min", &ratekeeper_transactions_per_second_min, {10, 100});
  registry.declare("ratekeeper_smoothing_seconds", &ratekeeper_smoothing_seconds, {0.3, 3.0});
}

RatekeeperKnobs& ratekeeper_knobs() {
  static RatekeeperKnobs knobs;
  return knobs;
}

}  // namespace keel
