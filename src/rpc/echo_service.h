// The echo service: replies to each request with its own text and sequence number. Used by the
// RPC simulation workload, `keel echo` and the RPC benchmark; it is served at a well-known token
// so a client needs only the server's address.
#pragma once

#include <cstdint>
#include <string>

#include "rpc/request_stream.h"

namespace keel {

struct EchoReply {
  std::string text;
  uint64_t sequence = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(text, sequence);
  }
};

struct EchoRequest {
  std::string text;
  uint64_t sequence = 0;
  ReplyPromise<EchoReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(text, sequence, reply);
  }
};

// Serves echo requests in the current process until cancelled.
Future<Void> serve_echo();

// A client handle to the echo service of the process at `address`.
RequestStream<EchoRequest> echo_service_at(NetworkAddress address);

struct EchoLoadResult {
  uint64_t sent = 0;
  uint64_t matched = 0;     // replies equal to their request
  uint64_t mismatched = 0;  // replies that differ: always a bug
  uint64_t errors = 0;
  Error first_error;
  double seconds = 0;
};

// Sends `count` echo requests of `payload_bytes` each to `address`, keeping `in_flight` of them
// outstanding at a time, and checks every reply.
Future<EchoLoadResult> run_echo_load(NetworkAddress address, uint64_t count, int in_flight,
                                     size_t payload_bytes);

}  // namespace keel
