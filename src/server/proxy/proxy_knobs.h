// Tunable settings of the proxy's side of admission control (randomized in simulation; see
// runtime/knobs.h).
#pragma once

namespace keel {

struct ProxyKnobs {
  // How often a proxy asks the ratekeeper for its rate. A proxy that heard nothing for the lease
  // admits without a limit: a ratekeeper that failed ends the generation anyway, and admission
  // control must never be what stops a cluster.
  double proxy_rate_update_seconds = 0.1;
  double proxy_rate_lease_seconds = 2.0;
  // A limited proxy may start this much of its rate at once after being idle.
  double proxy_rate_burst_seconds = 0.1;

  ProxyKnobs();
};

ProxyKnobs& proxy_knobs();

}  // namespace keel
