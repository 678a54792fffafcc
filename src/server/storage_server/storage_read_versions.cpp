// Read versions for reads that ask the storage server for a fresh one (GetValuesRequest's
// fresh_version): one request to the proxy in this process serves every such read that arrived
// before it was sent, as a client process batches its transactions' read versions
// (client/read_versions.h). A read never joins a request already sent: the answer must be at
// least every commit acknowledged before the read's client sent it, and a request sent earlier
// may have been answered before such a commit.
//
// Only a proxy in this process is asked: through one elsewhere the read would take as many
// network hops as the client asking a proxy itself (clients send such reads only to a storage
// server beside a proxy they know). The proxy refuses the request rather than queue it behind
// admission control for long (admission_wait_max_seconds), so a throttled transaction is
// admitted once, where its client asks.
#include "protocol/proxy_interface.h"
#include "rpc/transport.h"
#include "runtime/combinators.h"
#include "runtime/random.h"
#include "runtime/scheduler.h"
#include "server/storage_server/storage_state.h"

namespace keel {
namespace {

// A proxy that does not answer within this long (its logs cannot confirm the generation, which
// may be ending) fails the read with read_version_unavailable, and the client asks a proxy
// itself. Well within the client's wait for a storage server (storage_read_timeout_seconds).
constexpr double proxy_answer_seconds_max = 0.5;
// The longest wait for admission control the request accepts.
constexpr double admission_wait_seconds_max = 0.1;

// The generation's proxy in this process, if it accepts commits.
std::optional<ProxyInterface> proxy_to_ask(const ServerDBInfo& info) {
  if (!info.accepting_commits()) return std::nullopt;
  const NetworkAddress self = Transport::current().local_address();
  for (const ProxyInterface& proxy : info.proxies) {
    if (proxy.get_read_version.endpoint().address == self) return proxy;
  }
  return std::nullopt;
}

Future<Version> ask_proxy(StorageState* state, std::shared_ptr<FreshReadVersionBatch> batch) {
  // The reads that arrived in the same burst join before the request goes.
  Future<Void> others_first = yield(priority::low);
  co_await others_first;
  batch->sent = true;
  if (state->fresh_batch == batch) {
    state->fresh_batch.reset();
    state->fresh_version.reset();  // the reads that joined hold their own copies
  }
  std::optional<ProxyInterface> proxy = proxy_to_ask(state->config.db_info->get());
  if (!proxy || buggify()) throw Error(errc::read_version_unavailable);
  GetReadVersionRequest request;
  request.transactions = batch->reads;
  request.admission_wait_max_seconds = admission_wait_seconds_max;
  Future<GetReadVersionReply> reply = timeout_error(proxy->get_read_version.get_reply(request), proxy_answer_seconds_max);
  co_await ready(reply);
  if (reply.is_error()) throw Error(errc::read_version_unavailable);
  co_return reply.get().version;
}

}  // namespace

Future<Version> fresh_read_version(StorageState* state) {
  if (state->fresh_batch != nullptr && !state->fresh_batch->sent) {
    ++state->fresh_batch->reads;
    return *state->fresh_version;
  }
  auto batch = std::make_shared<FreshReadVersionBatch>();
  Future<Version> version = ask_proxy(state, batch);
  if (!batch->sent) {  // not sent yet (it always waits a moment): later reads join it
    state->fresh_version = version;
    state->fresh_batch = std::move(batch);
  }
  return version;
}

}  // namespace keel
