// Tunable settings of the client library (randomized in simulation; see runtime/knobs.h).
#pragma once

namespace keel {

struct ClientKnobs {
  // A read-version request a proxy has not answered within this long is abandoned: the client
  // forgets the proxies, asks the coordinators again and retries. A proxy that lost its
  // generation (e.g. cut off from the recovery) may otherwise never answer.
  double grv_timeout_seconds = 5.0;
  // Read-version requests a client process has outstanding at once; transactions that ask
  // meanwhile share the next request (client/read_versions.h).
  double read_version_requests_in_flight_max = 4;
  // Pause between asks of the coordinators while no controller is elected or it publishes no
  // proxies (of a newer generation than the ones that failed) yet: a recovery is under way.
  double leader_retry_delay_seconds = 0.02;
  // After proxies failed, proxies of their generation are taken again only after this long
  // (they may have failed alone, without a recovery).
  double stale_generation_wait_seconds = 1.0;
  // Pause between read-version attempts after a proxy failed, doubling up to the max.
  double proxy_retry_delay_initial_seconds = 0.01;
  double proxy_retry_delay_max_seconds = 1.0;
  // A read sent to one member of a shard's team that has no answer within this long moves on
  // to the next member (client/load_balance.h); not for the last member tried.
  double storage_read_timeout_seconds = 1.5;
  // A storage server that failed a read is tried after the other members for this long.
  double storage_unavailable_penalty_seconds = 2.0;

  // A transaction's point reads in one shard, asked before the first is sent, go as one request
  // of at most this many keys (client/value_reads.h); 1: each read goes alone.
  double read_batch_keys_max = 100;
  // 1: a transaction's first point reads, when their shard's location is cached, ask the storage
  // server to get the read version (one round trip instead of two, client/value_reads.h);
  // 0: the transaction asks a proxy for it first.
  double fresh_version_reads = 1;

  ClientKnobs();
};

ClientKnobs& client_knobs();

}  // namespace keel
