// The worker's interface: the cluster controller recruits roles into a process with these
// requests; each reply carries the new role's interface (random endpoint tokens, except logs,
// whose tokens derive from their id so they can be found again after a restart).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "protocol/server_db_info.h"
#include "protocol/wait_failure.h"
#include "world/network_address.h"

namespace keel {

// A new log of `generation` whose chain starts at recovery_version; seeded from `source` (a
// locked log of the previous generation) with every unpopped version up to recovery_version.
// Answered once the seed is durable.
struct InitializeTLogRequest {
  uint64_t id = 0;
  uint64_t generation = 0;
  Version recovery_version = 0;
  std::optional<TLogInterface> source;
  ReplyPromise<TLogInterface> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(id, generation, recovery_version, source, reply);
  }
};

// A sequencer whose chain starts at recovery_version and hands out versions above
// start_version (far enough ahead that no version of an older generation reaches it).
struct InitializeSequencerRequest {
  uint64_t generation = 0;
  Version recovery_version = 0;
  Version start_version = 0;
  ReplyPromise<SequencerInterface> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, recovery_version, start_version, reply);
  }
};

// A resolver for `range`; transactions that read below recovery_version are too old.
struct InitializeResolverRequest {
  uint64_t generation = 0;
  Version recovery_version = 0;
  KeyRange range;
  ReplyPromise<ResolverInterface> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, recovery_version, range, reply);
  }
};

// A proxy of the generation described by `info` (its sequencer, resolvers and logs). Proxy 0
// commits the generation's first transaction.
struct InitializeProxyRequest {
  int32_t index = 0;
  ServerDBInfo info;
  ReplyPromise<ProxyInterface> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(index, info, reply);
  }
};

// The ratekeeper of `generation`: it watches the storage servers the configuration names, and
// the generation's sequencer for the committed version they pull towards.
struct InitializeRatekeeperRequest {
  uint64_t generation = 0;
  SequencerInterface sequencer;
  ReplyPromise<RatekeeperInterface> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, sequencer, reply);
  }
};

struct WorkerInterface {
  NetworkAddress address;
  RequestStream<InitializeTLogRequest> initialize_tlog;
  RequestStream<InitializeSequencerRequest> initialize_sequencer;
  RequestStream<InitializeResolverRequest> initialize_resolver;
  RequestStream<InitializeProxyRequest> initialize_proxy;
  RequestStream<WaitFailureRequest> wait_failure;
  RequestStream<InitializeRatekeeperRequest> initialize_ratekeeper;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(address, initialize_tlog, initialize_sequencer, initialize_resolver, initialize_proxy, wait_failure,
            initialize_ratekeeper);
  }
};

}  // namespace keel
