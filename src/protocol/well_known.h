// Well-known endpoint tokens of the database roles. A role instance is found from the address of
// the process hosting it and its index within that process, so a static cluster needs no
// registration step: `*_at(address, index)` builds a client handle, `serve_*(index)` registers
// the streams in the current process.
#pragma once

#include "protocol/coordinator_interface.h"
#include "protocol/proxy_interface.h"
#include "protocol/resolver_interface.h"
#include "protocol/sequencer_interface.h"
#include "protocol/storage_interface.h"
#include "protocol/tlog_interface.h"

namespace keel {

namespace role_token {
inline constexpr uint64_t cluster_description = 0x1000;
inline constexpr uint64_t sequencer = 0x1100;
inline constexpr uint64_t proxy = 0x1200;
inline constexpr uint64_t resolver = 0x1300;
inline constexpr uint64_t tlog = 0x1400;
inline constexpr uint64_t coordinator = 0x1f00;  // one per process
inline constexpr uint64_t storage = 0x2000;
inline constexpr uint64_t stride = 16;  // tokens per role instance
}  // namespace role_token

SequencerInterface sequencer_at(NetworkAddress address);
SequencerInterface serve_sequencer();
ProxyInterface proxy_at(NetworkAddress address, int index);
ProxyInterface serve_proxy(int index);
ResolverInterface resolver_at(NetworkAddress address, int index);
ResolverInterface serve_resolver(int index);
TLogInterface tlog_at(NetworkAddress address, int index);
TLogInterface serve_tlog(int index);
StorageServerInterface storage_at(NetworkAddress address, int index, Tag tag);
StorageServerInterface serve_storage(int index, Tag tag);
CoordinatorInterface coordinator_at(NetworkAddress address);
CoordinatorInterface serve_coordinator();
RequestStream<GetClusterDescriptionRequest> cluster_description_at(NetworkAddress address);
RequestStream<GetClusterDescriptionRequest> serve_cluster_description();
RequestStream<GetClusterStatusRequest> cluster_status_at(NetworkAddress address);
RequestStream<GetClusterStatusRequest> serve_cluster_status();

}  // namespace keel
