#include "protocol/well_known.h"

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

}  // namespace

SequencerInterface sequencer_at(NetworkAddress address) {
  return {at<GetCommitVersionRequest>(address, role_token::sequencer, 0, 0),
          at<ReportCommittedRequest>(address, role_token::sequencer, 0, 1),
          at<GetLiveCommittedVersionRequest>(address, role_token::sequencer, 0, 2)};
}
SequencerInterface serve_sequencer() {
  return {serve<GetCommitVersionRequest>(role_token::sequencer, 0, 0),
          serve<ReportCommittedRequest>(role_token::sequencer, 0, 1),
          serve<GetLiveCommittedVersionRequest>(role_token::sequencer, 0, 2)};
}

ProxyInterface proxy_at(NetworkAddress address, int index) {
  return {at<GetReadVersionRequest>(address, role_token::proxy, index, 0),
          at<CommitTransactionRequest>(address, role_token::proxy, index, 1),
          at<GetKeyServerLocationsRequest>(address, role_token::proxy, index, 2)};
}
ProxyInterface serve_proxy(int index) {
  return {serve<GetReadVersionRequest>(role_token::proxy, index, 0),
          serve<CommitTransactionRequest>(role_token::proxy, index, 1),
          serve<GetKeyServerLocationsRequest>(role_token::proxy, index, 2)};
}

ResolverInterface resolver_at(NetworkAddress address, int index) {
  return {at<ResolveRequest>(address, role_token::resolver, index, 0)};
}
ResolverInterface serve_resolver(int index) { return {serve<ResolveRequest>(role_token::resolver, index, 0)}; }

TLogInterface tlog_at(NetworkAddress address, int index) {
  return {at<TLogCommitRequest>(address, role_token::tlog, index, 0), at<TLogPeekRequest>(address, role_token::tlog, index, 1),
          at<TLogPopRequest>(address, role_token::tlog, index, 2), at<TLogEndRequest>(address, role_token::tlog, index, 3)};
}
TLogInterface serve_tlog(int index) {
  return {serve<TLogCommitRequest>(role_token::tlog, index, 0), serve<TLogPeekRequest>(role_token::tlog, index, 1),
          serve<TLogPopRequest>(role_token::tlog, index, 2), serve<TLogEndRequest>(role_token::tlog, index, 3)};
}

StorageServerInterface storage_at(NetworkAddress address, int index, Tag tag) {
  return {tag, at<GetValueRequest>(address, role_token::storage, index, 0),
          at<GetKeyValuesRequest>(address, role_token::storage, index, 1),
          at<GetKeyRequest>(address, role_token::storage, index, 2),
          at<GetStorageStatusRequest>(address, role_token::storage, index, 3),
          at<WatchValueRequest>(address, role_token::storage, index, 4)};
}
StorageServerInterface serve_storage(int index, Tag tag) {
  return {tag, serve<GetValueRequest>(role_token::storage, index, 0), serve<GetKeyValuesRequest>(role_token::storage, index, 1),
          serve<GetKeyRequest>(role_token::storage, index, 2), serve<GetStorageStatusRequest>(role_token::storage, index, 3),
          serve<WatchValueRequest>(role_token::storage, index, 4)};
}

CoordinatorInterface coordinator_at(NetworkAddress address) {
  return {at<RegisterReadRequest>(address, role_token::coordinator, 0, 0),
          at<RegisterWriteRequest>(address, role_token::coordinator, 0, 1),
          at<CandidacyRequest>(address, role_token::coordinator, 0, 2),
          at<GetLeaderRequest>(address, role_token::coordinator, 0, 3)};
}
CoordinatorInterface serve_coordinator() {
  return {serve<RegisterReadRequest>(role_token::coordinator, 0, 0),
          serve<RegisterWriteRequest>(role_token::coordinator, 0, 1),
          serve<CandidacyRequest>(role_token::coordinator, 0, 2),
          serve<GetLeaderRequest>(role_token::coordinator, 0, 3)};
}

RequestStream<GetClusterDescriptionRequest> cluster_description_at(NetworkAddress address) {
  return at<GetClusterDescriptionRequest>(address, role_token::cluster_description, 0, 0);
}
RequestStream<GetClusterDescriptionRequest> serve_cluster_description() {
  return serve<GetClusterDescriptionRequest>(role_token::cluster_description, 0, 0);
}

RequestStream<GetClusterStatusRequest> cluster_status_at(NetworkAddress address) {
  return at<GetClusterStatusRequest>(address, role_token::cluster_description, 0, 1);
}
RequestStream<GetClusterStatusRequest> serve_cluster_status() {
  return serve<GetClusterStatusRequest>(role_token::cluster_description, 0, 1);
}

}  // namespace keel
