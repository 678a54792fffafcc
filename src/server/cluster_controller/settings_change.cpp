// `keel cli configure`, `exclude` and `include` (docs/fault_tolerance.md, "Settings"): the
// controller reads the core state, changes its settings, writes it back (fenced like every core
// state write: a recovery that read it meanwhile makes this fail with
// coordinated_state_conflict, which the cli retries) and, when the change moves transaction
// roles, recovers: the next generation has the new counts and avoids excluded processes.
#include <algorithm>

#include "protocol/well_known.h"
#include "rpc/serialize.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "server/cluster_controller/controller_state.h"

namespace keel {
namespace {

bool contains(const std::vector<NetworkAddress>& addresses, const NetworkAddress& address) {
  return std::find(addresses.begin(), addresses.end(), address) != addresses.end();
}

ClusterSettings changed_settings(const ControllerState& state, ClusterSettings settings,
                                 const ChangeSettingsRequest& request) {
  for (const int32_t count : {request.tlogs, request.proxies, request.resolvers}) {
    if (count < 0 || count > configured_count_max) throw Error(errc::configuration_invalid);
  }
  if (request.tlogs > 0) settings.tlogs = request.tlogs;
  if (request.proxies > 0) settings.proxies = request.proxies;
  if (request.resolvers > 0) settings.resolvers = request.resolvers;
  if (request.storage_replicas != 0) {
    // Data distribution moves the shards to teams of that many servers in distinct zones.
    if (request.storage_replicas < 1 || request.storage_replicas > storage_replicas_max ||
        request.storage_replicas > state.cluster.storage_zones()) {
      throw Error(errc::replication_needs_zones);
    }
    settings.storage_replicas = request.storage_replicas == state.cluster.storage_replicas ? 0 : request.storage_replicas;
  }
  std::vector<NetworkAddress>& excluded = settings.excluded;
  if (request.include_all) excluded.clear();
  for (const NetworkAddress& address : request.include) {
    excluded.erase(std::remove(excluded.begin(), excluded.end(), address), excluded.end());
  }
  for (const NetworkAddress& address : request.exclude) {
    if (!contains(excluded, address)) excluded.push_back(address);
  }
  std::sort(excluded.begin(), excluded.end());
  // Some live process must stay free to host the transaction roles.
  bool host_left = false;
  for (const auto& [address, entry] : state.workers) {
    host_left = host_left || (entry.process_class != process_class_storage && state.is_available(entry) &&
                              !contains(excluded, address));
  }
  if (!host_left) throw Error(errc::no_transaction_host_left);
  return settings;
}

// Whether the current generation no longer fits `settings`: other counts, or a role on an
// excluded process.
bool needs_recovery(const ServerDBInfo& info, const ClusterSettings& before, const ClusterSettings& after) {
  if (after.tlogs != before.tlogs || after.proxies != before.proxies || after.resolvers != before.resolvers) {
    return true;
  }
  const std::vector<RoleStatus> roles = roles_of(info);
  auto excluded = [&](const RoleStatus& role) { return contains(after.excluded, role.address); };
  return std::any_of(roles.begin(), roles.end(), excluded);
}

Future<ClusterSettings> change_settings(ControllerState* state, ChangeSettingsRequest request) {
  // A request that changes nothing asks for the settings (`keel cli configure` compares with
  // them): answered as they are, with no core state read (which would take a generation a
  // recovery in progress needs) and no recovery.
  if (request.tlogs == 0 && request.proxies == 0 && request.resolvers == 0 && request.exclude.empty() &&
      request.include.empty() && !request.include_all && request.storage_replicas == 0) {
    co_return state->settings;
  }
  CoordinatedState core_state(coordinator_set(state->connection->get()), new_proposer_id());
  const std::string stored = co_await core_state.read();
  CoreState core = stored.empty() ? CoreState{} : deserialize_from_string<CoreState>(stored);
  if (!core.moving_to.empty()) throw Error(errc::coordinated_state_conflict);  // a recovery finishes the move first
  const ClusterSettings before = core.settings;
  core.settings = changed_settings(*state, before, request);
  if (core.settings != before) {
    Future<Void> written = core_state.write(serialize_to_string(core));
    co_await written;
  }
  state->settings = core.settings;
  const bool recover = needs_recovery(state->db_info.get(), before, core.settings);
  TraceEvent(Severity::warn_always, "ControllerSettingsChanged")
      .detail("TLogs", core.settings.tlogs)
      .detail("Proxies", core.settings.proxies)
      .detail("Resolvers", core.settings.resolvers)
      .detail("Excluded", describe_addresses(core.settings.excluded))
      .detail("StorageReplicas", core.settings.storage_replicas)
      .detail("Recovers", recover);
  if (recover) state->reconfigurations.set(state->reconfigurations.get() + 1);
  co_return core.settings;
}

}  // namespace

Future<Void> serve_settings_changes(ControllerState* state) {
  FutureStream<ChangeSettingsRequest> requests = state->self.change_settings.requests();
  while (true) {
    ChangeSettingsRequest request = co_await requests.next();
    ReplyPromise<ClusterSettings> reply = request.reply;
    Future<ClusterSettings> changed = change_settings(state, std::move(request));
    co_await ready(changed);
    if (changed.is_error()) {
      TraceEvent(Severity::warn_always, "ControllerSettingsChangeFailed").error(changed.error());
      reply.send_error(changed.error());
    } else {
      reply.send(changed.get());
    }
  }
}

}  // namespace keel
