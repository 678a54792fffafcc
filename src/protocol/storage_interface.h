// The storage server's interface: reads at a version within the MVCC window.
//
// Errors: transaction_too_old (version below the window), future_version (the server did not
// reach the version within a second), wrong_shard_server (the key is not served here).
#pragma once

#include <optional>
#include <vector>

#include "protocol/status.h"
#include "protocol/tlog_interface.h"
#include "protocol/types.h"
#include "rpc/request_stream.h"

namespace keel {

struct GetValueReply {
  std::optional<Value> value;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value);
  }
};
template <>
inline constexpr bool sent_locally_as_object<GetValueReply> = true;

struct GetValueRequest {
  Key key;
  Version version = 0;
  ReplyPromise<GetValueReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(key, version, reply);
  }
};
template <>
inline constexpr bool sent_locally_as_object<GetValueRequest> = true;

// The values of several keys at one version, in the order asked: a transaction's point reads
// that the client's location cache puts in one shard (client/value_reads.h). Fails as a whole:
// wrong_shard_server if any key is not served here.
//
// With `fresh_version` the request names no version: the storage server gets a read version
// from a proxy (the one in its own process when there is one) after the request arrived, reads
// at it and answers it in `version`. A transaction's first point reads use it to learn their
// read version and their values in one round trip instead of two (client/value_reads.h); the
// version is as fresh as one the client would have asked a proxy for when it sent the request.
struct GetValuesReply {
  std::vector<std::optional<Value>> values;
  Version version = 0;  // the version read at
  template <class Archive>
  void serialize(Archive& archive) {
    archive(values, version);
  }
};
template <>
inline constexpr bool sent_locally_as_object<GetValuesReply> = true;

struct GetValuesRequest {
  static constexpr size_t keys_max = 10000;
  std::vector<Key> keys;  // at most keys_max, else client_invalid_operation
  Version version = 0;    // ignored with fresh_version
  bool fresh_version = false;
  ReplyPromise<GetValuesReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(keys, version, fresh_version, reply);
  }
};
template <>
inline constexpr bool sent_locally_as_object<GetValuesRequest> = true;

struct GetKeyValuesReply {
  std::vector<KeyValue> data;
  bool more = false;  // stopped at a limit, not at the end of the range
  template <class Archive>
  void serialize(Archive& archive) {
    archive(data, more);
  }
};
template <>
inline constexpr bool sent_locally_as_object<GetKeyValuesReply> = true;

struct GetKeyValuesRequest {
  KeyRange range;  // must lie within one shard of this server
  Version version = 0;
  int32_t limit = 0;
  int32_t bytes_limit = 0;
  bool reverse = false;
  ReplyPromise<GetKeyValuesReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(range, version, limit, bytes_limit, reverse, reply);
  }
};
template <>
inline constexpr bool sent_locally_as_object<GetKeyValuesRequest> = true;

// A key selector resolved as far as this server's shard allows: when `resolved`, `key` is the
// answer (a shard boundary key "" or "\xff\xff" means past the start or end of the keyspace);
// otherwise the client continues with `remaining` from the shard boundary `key`.
struct GetKeyReply {
  KeySelector remaining;
  bool resolved = false;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(remaining, resolved);
  }
};

struct GetKeyRequest {
  KeySelector selector;
  Version version = 0;
  ReplyPromise<GetKeyReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(selector, version, reply);
  }
};

// Ready when `key` holds something other than `value` at a version at or after `version`
// (changed = true, with that version), or, unchanged, after the server's watch timeout
// (changed = false, with the version it checked up to) so the client re-registers.
struct WatchValueReply {
  Version version = 0;
  bool changed = false;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(version, changed);
  }
};

struct WatchValueRequest {
  Key key;
  std::optional<Value> value;
  Version version = 0;
  ReplyPromise<WatchValueReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(key, value, version, reply);
  }
};

struct StorageServerInterface {
  Tag tag = 0;
  RequestStream<GetValueRequest> get_value;
  RequestStream<GetValuesRequest> get_values;
  RequestStream<GetKeyValuesRequest> get_key_values;
  RequestStream<GetKeyRequest> get_key;
  RequestStream<GetStorageStatusRequest> get_status;
  RequestStream<WatchValueRequest> watch_value;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(tag, get_value, get_values, get_key_values, get_key, get_status, watch_value);
  }
};

}  // namespace keel
