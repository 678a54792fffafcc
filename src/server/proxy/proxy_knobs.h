// Tunable settings of the proxy: commit batching and its side of admission control (randomized
// in simulation; see runtime/knobs.h).
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
  // A commit batch closes once its transactions hold this many bytes (one more transaction may
  // pass it). The batch is one version, which a storage server makes durable in one engine
  // commit however large: the ssd engine holds about 4 KiB of dirty pages per key it writes
  // until that commit ends (36 MiB for 1 MiB of random 116-byte pairs).
  double proxy_commit_batch_bytes_max = 1024.0 * 1024;
  // When no batch committed for this long, proxy 0 commits an empty transaction, so the logs'
  // known committed version reaches the last commit and storage servers can make it durable
  // (a fetched shard is reported complete only once durable).
  double proxy_idle_commit_seconds = 0.5;

  ProxyKnobs();
};

ProxyKnobs& proxy_knobs();

}  // namespace keel
