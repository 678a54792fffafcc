// The proxy's interface: read versions, commits, and shard locations for clients.
#pragma once

#include <vector>

#include "protocol/storage_interface.h"
#include "protocol/types.h"
#include "protocol/wait_failure.h"
#include "rpc/request_stream.h"

namespace keel {

struct GetReadVersionReply {
  Version version = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(version);
  }
};
template <>
inline constexpr bool sent_locally_as_object<GetReadVersionReply> = true;

struct GetReadVersionRequest {
  uint32_t transactions = 1;  // the client's transactions this one read version serves
  // At or above 0: if admission control would make the transactions wait longer than this,
  // the proxy answers read_version_unavailable at once and admits nothing (a storage server
  // asking for its reads' version, whose clients then ask a proxy themselves and wait there).
  double admission_wait_max_seconds = -1;
  ReplyPromise<GetReadVersionReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(transactions, admission_wait_max_seconds, reply);
  }
};
template <>
inline constexpr bool sent_locally_as_object<GetReadVersionRequest> = true;

struct CommitReply {
  Version version = 0;
  uint16_t batch_index = 0;  // with the version, the transaction's versionstamp
  template <class Archive>
  void serialize(Archive& archive) {
    archive(version, batch_index);
  }
};
template <>
inline constexpr bool sent_locally_as_object<CommitReply> = true;

struct CommitTransactionRequest {
  Version read_version = 0;
  std::vector<KeyRange> read_conflict_ranges;
  std::vector<KeyRange> write_conflict_ranges;
  std::vector<Mutation> mutations;
  ReplyPromise<CommitReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(read_version, read_conflict_ranges, write_conflict_ranges, mutations, reply);
  }
};
template <>
inline constexpr bool sent_locally_as_object<CommitTransactionRequest> = true;
template <>
inline constexpr bool sent_at_pass_end<CommitTransactionRequest> = true;

struct ShardLocation {
  KeyRange range;
  std::vector<StorageServerInterface> servers;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(range, servers);
  }
};

struct GetKeyServerLocationsReply {
  std::vector<ShardLocation> shards;  // consecutive shards covering the start of the range
  template <class Archive>
  void serialize(Archive& archive) {
    archive(shards);
  }
};

struct GetKeyServerLocationsRequest {
  KeyRange range;
  int32_t limit = 0;
  bool reverse = false;
  ReplyPromise<GetKeyServerLocationsReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(range, limit, reverse, reply);
  }
};

struct ProxyInterface {
  RequestStream<GetReadVersionRequest> get_read_version;
  RequestStream<CommitTransactionRequest> commit;
  RequestStream<GetKeyServerLocationsRequest> get_key_server_locations;
  RequestStream<WaitFailureRequest> wait_failure;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(get_read_version, commit, get_key_server_locations, wait_failure);
  }
};

// What a client learns from the cluster: how to reach the transaction system.
struct ClusterDescription {
  uint64_t generation = 0;
  std::vector<ProxyInterface> proxies;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, proxies);
  }
};

struct GetClusterDescriptionRequest {
  ReplyPromise<ClusterDescription> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(reply);
  }
};

}  // namespace keel
