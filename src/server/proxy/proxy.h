// The proxy: read versions and commits for clients, shard locations for their caches.
//
// GRV: requests are batched; each batch asks the sequencer for the live committed version (so
// an answer is never older than an acknowledged commit) and answers them all.
// Commit: requests are batched; each batch gets (version, prev_version) from the sequencer, is
// resolved by every resolver (each sees the conflict ranges within its key range), has its
// committed mutations tagged with the storage servers that own their keys, is pushed to every
// log, and is reported to the sequencer before any client hears back. Batches pipeline: the
// next one starts as soon as the previous one got its version.
// Shard map: it lives in the system keyspace (\xff/keyServers/<begin> = tags). On the cluster's
// first start proxy 0 writes it there from the configuration; on every start each proxy reads
// it back before answering location requests, and stops with shard_map_mismatch if the
// configuration would place data elsewhere. Proxy 0's first commit (\xff/lastStart) also
// settles what the logs kept across a restart.
#pragma once

#include "protocol/cluster_config.h"
#include "protocol/proxy_interface.h"
#include "runtime/future.h"

namespace keel {

Future<Void> run_proxy(ProxyInterface interface, ClusterConfig cluster, int index);

// The system key holding the storage tags of the shard that begins at `shard_begin`.
Key key_servers_key(const Key& shard_begin);

}  // namespace keel
