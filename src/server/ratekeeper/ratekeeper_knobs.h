// Tunable settings of the ratekeeper (randomized in simulation; see runtime/knobs.h). The
// proxies' side of admission control has its own (server/proxy/proxy_knobs.h).
#pragma once

namespace keel {

struct RatekeeperKnobs {
  // How often the ratekeeper asks every storage server for its queue.
  double ratekeeper_poll_seconds = 0.25;
  // A storage server's in-memory MVCC window (the versions not yet in its engine; key and value
  // bytes) settles at about this many bytes when it limits the rate; above target - spring
  // (spring = the fraction of the target) the ratekeeper starts to lower the transaction rate.
  double ratekeeper_storage_window_target_bytes = 256.0 * 1024 * 1024;
  double ratekeeper_storage_window_spring_fraction = 0.25;
  // A storage server's process holding more than target - spring of its memory budget (keel
  // server --memory; fractions of it) lowers the rate, to the minimum at the target.
  double ratekeeper_memory_target_fraction = 0.7;
  double ratekeeper_memory_spring_fraction = 0.1;
  // The lowest limit it sets (transactions per second, the whole cluster), so a cluster whose
  // storage is stuck still runs small transactions. Low, as one transaction may carry 10 MB: at
  // 10 per second, a load of 1,000-key transactions outran an ssd engine under a 512 MiB memory
  // cap, held there by this minimum, until the process ran out of memory.
  double ratekeeper_transactions_per_second_min = 1;
  // Time constant of the smoothed rates (released transactions, bytes in and made durable).
  double ratekeeper_smoothing_seconds = 1.0;

  RatekeeperKnobs();
};

RatekeeperKnobs& ratekeeper_knobs();

}  // namespace keel
