#include "client/read_versions.h"

#include <algorithm>

#include "client/client_knobs.h"
#include "client/database_state.h"
#include "protocol/proxy_interface.h"
#include "runtime/combinators.h"
#include "runtime/scheduler.h"
#include "runtime/trace.h"

namespace keel {
namespace {

// A read version from a proxy of the current generation, for `transactions` transactions.
// Retries (forgetting the proxies) while the proxy fails or does not answer within
// grv_timeout_seconds: a proxy whose generation ended answers tlog_stopped, and one cut off
// from the recovery may never answer. Read-version requests are idempotent, so retrying here is
// safe.
Future<Version> fetch_read_version(std::shared_ptr<DatabaseState> database, uint32_t transactions) {
  const ClientKnobs& knobs = client_knobs();
  double backoff_seconds = knobs.proxy_retry_delay_initial_seconds;
  uint64_t failed_generation = 0;
  while (true) {
    ProxyInterface proxy = co_await database->proxy();
    const uint64_t generation = database->description ? database->description->generation : 0;
    if (failed_generation != 0 && generation <= failed_generation) {
      // The same generation again (proxy() waited a while for a newer one): back off.
      co_await delay(backoff_seconds);
      backoff_seconds = std::min(backoff_seconds * 2, knobs.proxy_retry_delay_max_seconds);
    }
    GetReadVersionRequest request;
    request.transactions = transactions;
    Future<GetReadVersionReply> reply = proxy.get_read_version.get_reply(request);
    Future<GetReadVersionReply> answered = timeout_error(std::move(reply), knobs.grv_timeout_seconds);
    co_await ready(answered);
    if (!answered.is_error()) co_return answered.get().version;
    const Error error = answered.error();
    if (!is_proxy_failure(error) && error.code() != errc::timed_out) throw error;
    TraceEvent(Severity::info, "ClientReadVersionRetry").error(error).suppress_for(1);
    failed_generation = std::max(failed_generation, generation);
    database->forget_proxies();
  }
}

// Gives back a request's slot when the request ends, however it ends (answered, failed, or
// abandoned by every transaction waiting for it).
class InFlightSlot {
 public:
  explicit InFlightSlot(ReadVersionRequests& requests) : requests_(requests) { ++requests_.in_flight; }
  InFlightSlot(const InFlightSlot&) = delete;
  InFlightSlot& operator=(const InFlightSlot&) = delete;
  ~InFlightSlot() {
    --requests_.in_flight;
    requests_.finished.set(requests_.finished.get() + 1);
  }

 private:
  ReadVersionRequests& requests_;
};

// Sends `batch` once a slot is free; until then other transactions may join it.
Future<Version> send_batch(std::shared_ptr<DatabaseState> database, std::shared_ptr<ReadVersionBatch> batch) {
  ReadVersionRequests& requests = database->read_versions;
  const int in_flight_max = std::max(1, static_cast<int>(client_knobs().read_version_requests_in_flight_max));
  Future<Void> others_first = yield(priority::low);
  co_await others_first;
  while (requests.in_flight >= in_flight_max) {
    Future<Void> freed = requests.finished.when_at_least(requests.finished.get() + 1);
    co_await freed;
  }
  batch->sent = true;
  if (requests.waiting_batch == batch) {
    requests.waiting_batch.reset();
    requests.waiting.reset();  // the transactions that joined hold their own copies
  }
  const InFlightSlot slot(requests);
  Future<Version> fetched = fetch_read_version(database, batch->transactions);
  co_return co_await fetched;
}

}  // namespace

Future<Version> batched_read_version(const std::shared_ptr<DatabaseState>& database) {
  ReadVersionRequests& requests = database->read_versions;
  if (requests.waiting_batch != nullptr && !requests.waiting_batch->sent) {
    ++requests.waiting_batch->transactions;
    return *requests.waiting;
  }
  auto batch = std::make_shared<ReadVersionBatch>();
  Future<Version> version = send_batch(database, batch);
  if (!batch->sent) {  // not sent yet (it always waits a moment): later transactions join it
    requests.waiting = version;
    requests.waiting_batch = std::move(batch);
  }
  return version;
}

}  // namespace keel
