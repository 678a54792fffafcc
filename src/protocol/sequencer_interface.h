// The sequencer's interface: commit versions, the live committed version.
//
// Every commit batch gets (version, prev_version) from the sequencer, so all batches of a
// generation form one chain that resolvers and logs process strictly in order. Versions
// advance about versions_per_second per second of time. `generation` names the epoch (one per
// recovery; a sequencer serves one). Requests carry the generation they expect, or 0 for "the
// current one"; replies say which it is.
#pragma once

#include "protocol/types.h"
#include "protocol/wait_failure.h"
#include "rpc/request_stream.h"

namespace keel {

struct GetCommitVersionReply {
  Version version = 0;
  Version prev_version = 0;
  uint64_t generation = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(version, prev_version, generation);
  }
};
template <>
inline constexpr bool sent_locally_as_object<GetCommitVersionReply> = true;

struct GetCommitVersionRequest {
  uint64_t generation = 0;
  ReplyPromise<GetCommitVersionReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, reply);
  }
};
template <>
inline constexpr bool sent_locally_as_object<GetCommitVersionRequest> = true;

struct ReportCommittedRequest {
  uint64_t generation = 0;
  Version version = 0;
  ReplyPromise<Void> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, version, reply);
  }
};
template <>
inline constexpr bool sent_locally_as_object<ReportCommittedRequest> = true;

struct LiveCommittedVersionReply {
  Version version = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(version);
  }
};
template <>
inline constexpr bool sent_locally_as_object<LiveCommittedVersionReply> = true;

struct GetLiveCommittedVersionRequest {
  uint64_t generation = 0;
  ReplyPromise<LiveCommittedVersionReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, reply);
  }
};
template <>
inline constexpr bool sent_locally_as_object<GetLiveCommittedVersionRequest> = true;

struct SequencerInterface {
  RequestStream<GetCommitVersionRequest> get_commit_version;
  RequestStream<ReportCommittedRequest> report_committed;
  RequestStream<GetLiveCommittedVersionRequest> get_live_committed_version;
  RequestStream<WaitFailureRequest> wait_failure;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(get_commit_version, report_committed, get_live_committed_version, wait_failure);
  }
};

}  // namespace keel
