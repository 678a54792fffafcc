#include "protocol/well_known.h"

#include "runtime/combinators.h"

namespace keel {
namespace {

uint64_t token(uint64_t base, int index, int stream) {
  return base + static_cast<uint64_t>(index) * role_token::stride + static_cast<uint64_t>(stream);
}

template <class Request>
RequestStream<Request> at(NetworkAddress address, uint64_t base, int index, int stream) {
  return RequestStream<Request>(Endpoint{address, token(base, index, stream)});
}

template <class Request>
RequestStream<Request> serve(uint64_t base, int index, int stream) {
  return RequestStream<Request>::serve(token(base, index, stream));
}

template <class Request>
RequestStream<Request> fresh() {
  return RequestStream<Request>::serve();
}

}  // namespace

uint64_t new_tlog_id(DeterministicRandom& random) {
  return (random.next_u64() | (uint64_t{1} << 62)) & ~(role_token::stride - 1);
}

TLogInterface tlog_at(NetworkAddress address, uint64_t id) {
  return {id,
          at<TLogCommitRequest>(address, id, 0, 0),
          at<TLogPeekRequest>(address, id, 0, 1),
          at<TLogPopRequest>(address, id, 0, 2),
          at<TLogEndRequest>(address, id, 0, 3),
          at<TLogLockRequest>(address, id, 0, 4),
          at<TLogCopyRequest>(address, id, 0, 5),
          at<TLogConfirmRunningRequest>(address, id, 0, 6),
          at<WaitFailureRequest>(address, id, 0, 7)};
}
TLogInterface serve_tlog(uint64_t id) {
  return {id,
          serve<TLogCommitRequest>(id, 0, 0),
          serve<TLogPeekRequest>(id, 0, 1),
          serve<TLogPopRequest>(id, 0, 2),
          serve<TLogEndRequest>(id, 0, 3),
          serve<TLogLockRequest>(id, 0, 4),
          serve<TLogCopyRequest>(id, 0, 5),
          serve<TLogConfirmRunningRequest>(id, 0, 6),
          serve<WaitFailureRequest>(id, 0, 7)};
}

StorageServerInterface storage_at(NetworkAddress address, int index, Tag tag) {
  return {tag, at<GetValueRequest>(address, role_token::storage, index, 0),
          at<GetValuesRequest>(address, role_token::storage, index, 5),
          at<GetKeyValuesRequest>(address, role_token::storage, index, 1),
          at<GetKeyRequest>(address, role_token::storage, index, 2),
          at<GetStorageStatusRequest>(address, role_token::storage, index, 3),
          at<WatchValueRequest>(address, role_token::storage, index, 4)};
}
Future<StorageServerStatus> ask_storage_status(StorageLocation location, double timeout_seconds) {
  StorageServerInterface storage = storage_at(location.location.address, location.location.index, location.tag);
  GetStorageStatusRequest request;
  Future<StorageServerStatus> reply = timeout_error(storage.get_status.get_reply(request), timeout_seconds);
  co_await ready(reply);
  if (!reply.is_error()) co_return reply.get();
  StorageServerStatus unreachable;
  unreachable.tag = location.tag;
  unreachable.address = location.location.address;
  unreachable.reachable = false;
  co_return unreachable;
}

Future<Version> ask_live_committed_version(SequencerInterface sequencer, double timeout_seconds) {
  GetLiveCommittedVersionRequest request;
  Future<LiveCommittedVersionReply> reply =
      timeout_error(sequencer.get_live_committed_version.get_reply(request), timeout_seconds);
  co_await ready(reply);
  co_return reply.is_error() ? Version{0} : reply.get().version;
}

StorageServerInterface serve_storage(int index, Tag tag) {
  return {tag, serve<GetValueRequest>(role_token::storage, index, 0), serve<GetValuesRequest>(role_token::storage, index, 5),
          serve<GetKeyValuesRequest>(role_token::storage, index, 1),
          serve<GetKeyRequest>(role_token::storage, index, 2), serve<GetStorageStatusRequest>(role_token::storage, index, 3),
          serve<WatchValueRequest>(role_token::storage, index, 4)};
}

CoordinatorInterface coordinator_at(NetworkAddress address) {
  return {at<RegisterReadRequest>(address, role_token::coordinator, 0, 0),
          at<RegisterWriteRequest>(address, role_token::coordinator, 0, 1),
          at<CandidacyRequest>(address, role_token::coordinator, 0, 2),
          at<GetLeaderRequest>(address, role_token::coordinator, 0, 3),
          at<ForwardRequest>(address, role_token::coordinator, 0, 4)};
}
CoordinatorSet coordinator_set(const ClusterConnectionString& connection) {
  CoordinatorSet set;
  set.cluster_id = connection.id;
  for (const NetworkAddress& address : connection.coordinators) set.coordinators.push_back(coordinator_at(address));
  return set;
}

CoordinatorInterface serve_coordinator() {
  return {serve<RegisterReadRequest>(role_token::coordinator, 0, 0),
          serve<RegisterWriteRequest>(role_token::coordinator, 0, 1),
          serve<CandidacyRequest>(role_token::coordinator, 0, 2),
          serve<GetLeaderRequest>(role_token::coordinator, 0, 3),
          serve<ForwardRequest>(role_token::coordinator, 0, 4)};
}

SequencerInterface serve_new_sequencer() {
  return {fresh<GetCommitVersionRequest>(), fresh<ReportCommittedRequest>(), fresh<GetLiveCommittedVersionRequest>(),
          fresh<WaitFailureRequest>()};
}
ProxyInterface serve_new_proxy() {
  return {fresh<GetReadVersionRequest>(), fresh<CommitTransactionRequest>(), fresh<GetKeyServerLocationsRequest>(),
          fresh<WaitFailureRequest>()};
}
RatekeeperInterface serve_new_ratekeeper() {
  return {fresh<GetRateInfoRequest>(), fresh<GetRateStatusRequest>(), fresh<WaitFailureRequest>()};
}
ResolverInterface serve_new_resolver() { return {fresh<ResolveRequest>(), fresh<WaitFailureRequest>()}; }
WorkerInterface serve_new_worker() {
  return {Transport::current().local_address(), fresh<InitializeTLogRequest>(), fresh<InitializeSequencerRequest>(),
          fresh<InitializeResolverRequest>(), fresh<InitializeProxyRequest>(), fresh<WaitFailureRequest>(),
          fresh<InitializeRatekeeperRequest>()};
}
ClusterControllerInterface serve_new_cluster_controller() {
  return {fresh<RegisterWorkerRequest>(), fresh<GetClusterStatusRequest>(), fresh<ChangeCoordinatorsRequest>(),
          fresh<ChangeSettingsRequest>()};
}

}  // namespace keel
