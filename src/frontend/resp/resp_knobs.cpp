#include "frontend/resp/resp_knobs.h"

#include "runtime/knobs.h"

namespace keel {

RespKnobs::RespKnobs() {
  KnobRegistry& registry = knob_registry();
  registry.declare("resp_bulk_bytes_max", &resp_bulk_bytes_max, {});
  registry.declare("resp_array_length_max", &resp_array_length_max, {});
  registry.declare("resp_query_buffer_bytes_max", &resp_query_buffer_bytes_max, {});
  registry.declare("resp_reply_bytes_unsent_max", &resp_reply_bytes_unsent_max, {1024});
  registry.declare("resp_batch_commands_max", &resp_batch_commands_max, {1, 4});
  registry.declare("resp_batch_bytes_max", &resp_batch_bytes_max, {1024});
  registry.declare("resp_groups_in_flight_max", &resp_groups_in_flight_max, {1, 8});
  registry.declare("resp_group_commands_max", &resp_group_commands_max, {1, 16});
  registry.declare("resp_group_gather_fraction", &resp_group_gather_fraction, {0.0, 2.0});
  registry.declare("resp_scan_cursors_max", &resp_scan_cursors_max, {2});
  registry.declare("resp_scan_cursor_bytes_max", &resp_scan_cursor_bytes_max, {});
  registry.declare("resp_multi_commands_max", &resp_multi_commands_max, {});
  registry.declare("resp_sweep_interval_seconds", &resp_sweep_interval_seconds, {0.01, 2.0});
  registry.declare("resp_sweep_keys_max", &resp_sweep_keys_max, {1, 10});
  registry.declare("resp_flush_watch_markers_max", &resp_flush_watch_markers_max, {0, 2});
  registry.declare("resp_flush_watch_marker_bytes_max", &resp_flush_watch_marker_bytes_max, {100});
  registry.declare("resp_watch_marker_seconds", &resp_watch_marker_seconds, {1});
}

RespKnobs& resp_knobs() {
  static RespKnobs knobs;
  return knobs;
}

}  // namespace keel
