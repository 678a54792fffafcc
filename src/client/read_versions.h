// Read versions for a client process's transactions, batched: one request to a proxy serves
// every transaction that asked for a read version before the request was sent (FoundationDB's
// client does the same). A transaction never joins a request already sent: the proxy's answer
// must be at least every commit acknowledged before the transaction asked, and a request sent
// earlier may have been answered before such a commit.
//
// A request goes once the tasks that were ready when its first transaction asked have run (so
// the transactions woken by one burst of replies share it), and while
// client_knobs().read_version_requests_in_flight_max requests are outstanding the transactions
// that ask wait together for the next. A request carries how many transactions it serves: the
// proxy admits that many at the ratekeeper's rate.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "protocol/types.h"
#include "runtime/future.h"
#include "runtime/notified.h"

namespace keel {

struct DatabaseState;

// The transactions waiting for a request that has not been sent yet.
struct ReadVersionBatch {
  uint32_t transactions = 1;
  bool sent = false;
};

struct ReadVersionRequests {
  int in_flight = 0;
  NotifiedValue<uint64_t> finished{0};  // requests finished so far: a slot came free
  std::optional<Future<Version>> waiting;  // the batch not sent yet, for others to join
  std::shared_ptr<ReadVersionBatch> waiting_batch;
};

// A read version no older than any commit acknowledged before this call.
Future<Version> batched_read_version(const std::shared_ptr<DatabaseState>& database);

}  // namespace keel
