// Failure detection of a role: every role interface carries a `wait_failure` stream. The role
// holds each request for wait_failure_hold_seconds and then answers it, so a watcher that asks
// again at once learns within about wait_failure_timeout_seconds that the role (or its process,
// or the path to it) failed: the request errors (broken_promise when the role ended,
// connection errors when the process died) or goes unanswered.
#pragma once

#include "rpc/request_stream.h"
#include "runtime/future.h"

namespace keel {

inline constexpr double wait_failure_hold_seconds = 0.25;
inline constexpr double wait_failure_timeout_seconds = 1.0;

struct WaitFailureRequest {
  ReplyPromise<Void> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(reply);
  }
};

// The role's side: answers every request after the hold, until cancelled with the role.
Future<Void> serve_wait_failure(FutureStream<WaitFailureRequest> requests);

// The watcher's side: ready when the role behind `stream` has failed; never throws.
Future<Void> wait_for_failure(RequestStream<WaitFailureRequest> stream);

}  // namespace keel
