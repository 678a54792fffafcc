// The resolver's interface: conflict detection for one key range, batch by batch in version order.
#pragma once

#include <vector>

#include "protocol/types.h"
#include "protocol/wait_failure.h"
#include "rpc/request_stream.h"

namespace keel {

// What a resolver decides for one transaction; numbers are on the wire.
enum class ResolveOutcome : uint8_t { committed = 0, conflict = 1, too_old = 2 };

struct ResolveTransaction {
  Version read_version = 0;
  std::vector<KeyRange> reads;
  std::vector<KeyRange> writes;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(read_version, reads, writes);
  }
};

struct ResolveReply {
  std::vector<ResolveOutcome> outcomes;  // one per transaction, in batch order
  template <class Archive>
  void serialize(Archive& archive) {
    archive(outcomes);
  }
};
template <>
inline constexpr bool sent_locally_as_object<ResolveReply> = true;

struct ResolveRequest {
  uint64_t generation = 0;
  Version prev_version = 0;
  Version version = 0;
  std::vector<ResolveTransaction> transactions;
  ReplyPromise<ResolveReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, prev_version, version, transactions, reply);
  }
};
template <>
inline constexpr bool sent_locally_as_object<ResolveRequest> = true;

struct ResolverInterface {
  RequestStream<ResolveRequest> resolve;
  RequestStream<WaitFailureRequest> wait_failure;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(resolve, wait_failure);
  }
};

}  // namespace keel
