// The transaction log's interface: durable pushes of commit batches (in version order), peeks
// of one tag's mutations from a version on, and pops once a storage server made them durable.
//
// Across generations (docs/fault_tolerance.md): every log of a generation holds every tag. A
// recovery locks the previous generation's logs (`lock`: no more pushes; peeks still served),
// chooses the recovery version from their durable ends, and seeds the new generation's logs
// from a locked one (`copy`). A log accepts pushes only in the incarnation it was recruited in:
// restarted from disk it is locked. `confirm_running` lets a proxy prove its generation is
// still live before it hands out a read version.
#pragma once

#include <memory>
#include <vector>

#include "protocol/types.h"
#include "protocol/wait_failure.h"
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
template <>
inline constexpr bool sent_locally_as_object<TLogCommitRequest> = true;

// One version's mutations for a peeked tag. The list is shared, never changed once made: a log
// keeps one list for all the tags that carry every mutation of a version (each shard on every
// server of its team), and a reply within the process hands the log's own list over. So a
// receiver takes the mutations from a list only it holds (one read off the wire) and copies
// them from one it shares. On the wire: the version, then the list.
struct PeekedVersion {
  Version version = 0;
  std::shared_ptr<std::vector<Mutation>> mutations;  // never null
  template <class Archive>
  void serialize(Archive& archive) {
    if constexpr (Archive::is_reader) mutations = std::make_shared<std::vector<Mutation>>();
    archive(version, *mutations);
  }
};

struct TLogPeekReply {
  std::vector<PeekedVersion> messages;  // versions >= begin with mutations for the tag
  Version end = 0;                           // every version below `end` was included
  Version known_committed_version = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(messages, end, known_committed_version);
  }
};
template <>
inline constexpr bool sent_locally_as_object<TLogPeekReply> = true;

struct TLogPeekRequest {
  Tag tag = 0;
  Version begin = 0;
  ReplyPromise<TLogPeekReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(tag, begin, reply);
  }
};
template <>
inline constexpr bool sent_locally_as_object<TLogPeekRequest> = true;

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

// Locks the log: from now on it rejects pushes (tlog_stopped) but still serves peeks. Replies
// with the last durable version + 1 and the generation the log was written in. Idempotent.
struct TLogLockReply {
  Version end = 0;
  uint64_t generation = 0;
  Version known_committed_version = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(end, generation, known_committed_version);
  }
};

struct TLogLockRequest {
  ReplyPromise<TLogLockReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(reply);
  }
};

// One version's mutations of every tag, as a new log is seeded with them.
struct TLogCopyEntry {
  Version version = 0;
  std::vector<TaggedMutation> mutations;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(version, mutations);
  }
};

// Every unpopped version in [begin, last] with its mutations of every tag, oldest first, up to
// about bytes_limit bytes; `next` is where to continue (last + 1 when done).
struct TLogCopyReply {
  std::vector<TLogCopyEntry> entries;
  Version next = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(entries, next);
  }
};

struct TLogCopyRequest {
  Version begin = 0;
  Version last = 0;
  int64_t bytes_limit = 0;
  ReplyPromise<TLogCopyReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(begin, last, bytes_limit, reply);
  }
};

// Answered while the log accepts pushes of `generation`; tlog_stopped once it is locked.
struct TLogConfirmRunningRequest {
  uint64_t generation = 0;
  ReplyPromise<Void> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, reply);
  }
};
template <>
inline constexpr bool sent_locally_as_object<TLogConfirmRunningRequest> = true;

struct TLogInterface {
  uint64_t id = 0;  // names the log's data directory; its endpoints' tokens derive from it
  RequestStream<TLogCommitRequest> commit;
  RequestStream<TLogPeekRequest> peek;
  RequestStream<TLogPopRequest> pop;
  RequestStream<TLogEndRequest> durable_end;
  RequestStream<TLogLockRequest> lock;
  RequestStream<TLogCopyRequest> copy;
  RequestStream<TLogConfirmRunningRequest> confirm_running;
  RequestStream<WaitFailureRequest> wait_failure;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(id, commit, peek, pop, durable_end, lock, copy, confirm_running, wait_failure);
  }
};

}  // namespace keel
