// Read versions for reads that ask the storage server for a fresh one (GetValuesRequest's
// fresh_version): one request to a proxy serves every such read that arrived before it was
// sent, as a client process batches its transactions' read versions (client/read_versions.h).
// A read never joins a request already sent: the answer must be at least every commit
// acknowledged before the read's client sent it, and a request sent earlier may have been
// answered before such a commit.
#include "protocol/proxy_interface.h"
#include "rpc/transport.h"
#include "runtime/combinators.h"
#include "runtime/random.h"
#include "runtime/scheduler.h"
#include "server/storage_server/storage_state.h"

namespace keel {
namespace {

// A proxy that does not answer within this long (its generation ended, or it is cut off) fails
// the read with read_version_unavailable, and the client asks a proxy itself.
constexpr double proxy_answer_seconds_max = 1.0;

// The proxy to ask: the one in this process if there is one (no network hop), else any of the
// generation's. None while no generation accepts commits.
std::optional<ProxyInterface> proxy_to_ask(const ServerDBInfo& info) {
  if (!info.accepting_commits() || info.proxies.empty()) return std::nullopt;
  const NetworkAddress self = Transport::current().local_address();
  for (const ProxyInterface& proxy : info.proxies) {
    if (proxy.get_read_version.endpoint().address == self) return proxy;
  }
  const auto pick = deterministic_random().random_int(0, static_cast<int64_t>(info.proxies.size()));
  return info.proxies[static_cast<size_t>(pick)];
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
