#include "server/proxy/proxy_knobs.h"

#include "runtime/knobs.h"

namespace keel {

ProxyKnobs::ProxyKnobs() {
  KnobRegistry& registry = knob_registry();
  registry.declare("proxy_rate_update_seconds", &proxy_rate_update_seconds, {0.02, 0.5});
  registry.declare("proxy_rate_lease_seconds", &proxy_rate_lease_seconds, {1.0, 5.0});
  registry.declare("proxy_rate_burst_seconds", &proxy_rate_burst_seconds, {0.01, 0.5});
  registry.declare("proxy_idle_commit_seconds", &proxy_idle_commit_seconds, {0.1, 2.0});
  registry.declare("proxy_commit_batch_bytes_max", &proxy_commit_batch_bytes_max, {1.0, 16.0 * 1024, 8.0 * 1024 * 1024});
}

ProxyKnobs& proxy_knobs() {
  static ProxyKnobs knobs;
  return knobs;
}

}  // namespace keel
