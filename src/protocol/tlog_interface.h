// The transaction log's interface: durable pushes of commit batches (in version order), peeks
// of one tag's mutations from a version on, and pops once a storage server made them durable.
#pragma once

#include <vector>

#include "protocol/types.h"
#include "rpc/request_stream.h"

namespace keel {

// A tag names the storage server a mutation is for.
using Tag = uint16_t;

struct TaggedMutation {
  std::vector<Tag> tags;
  Mutation mutation;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(tags, mutation);
  }
};

struct TLogCommitRequest {
  uint64_t generation = 0;
  Version prev_version = 0;
  Version version = 0;
  // Every version at or below this is durable on all logs (storage may make it durable).
  Version known_committed_version = 0;
  std::vector<TaggedMutation> mutations;
  ReplyPromise<Void> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, prev_version, version, known_committed_version, mutations, reply);
  }
};

struct VersionedMutations {
  Version version = 0;
  std::vector<Mutation> mutations;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(version, mutations);
  }
};

struct TLogPeekReply {
  std::vector<VersionedMutations> messages;  // versions >= begin with mutations for the tag
  Version end = 0;                           // every version below `end` was included
  Version known_committed_version = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(messages, end, known_committed_version);
  }
};

struct TLogPeekRequest {
  Tag tag = 0;
  Version begin = 0;
  ReplyPromise<TLogPeekReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(tag, begin, reply);
  }
};

struct TLogPopRequest {
  Tag tag = 0;
  Version up_to = 0;  // the storage server has made every version <= up_to durable
  ReplyPromise<Void> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(tag, up_to, reply);
  }
};

struct TLogEndReply {
  Version end = 0;  // the last durable version + 1
  template <class Archive>
  void serialize(Archive& archive) {
    archive(end);
  }
};

struct TLogEndRequest {
  ReplyPromise<TLogEndReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(reply);
  }
};

struct TLogInterface {
  RequestStream<TLogCommitRequest> commit;
  RequestStream<TLogPeekRequest> peek;
  RequestStream<TLogPopRequest> pop;
  RequestStream<TLogEndRequest> durable_end;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(commit, peek, pop, durable_end);
  }
};

}  // namespace keel
