// `keel cli` commands that administer the cluster through its controller: coordinators,
// configure, exclude, include (docs/coordination.md, docs/fault_tolerance.md "Settings").
#include "cmd/cli_admin.h"

#include <algorithm>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "client/database_state.h"
#include "client/status.h"
#include "cmd/cli_session.h"
#include "protocol/cluster_file.h"
#include "runtime/combinators.h"

namespace keel::cmd {
namespace {

constexpr double backoff_seconds_min = 0.05;
constexpr double backoff_seconds_max = 1.0;

// Runs a request to the cluster controller, retrying (with backoff) while it cannot be reached
// (retryable errors) or, with `conflicts_retry`, a recovery raced it (coordinated_state_conflict).
template <class T>
Future<T> ask_controller(std::function<Future<T>()> attempt, std::optional<Error>* last_retried_error,
                         bool conflicts_retry = false) {
  double backoff_seconds = backoff_seconds_min;
  while (true) {
    Future<T> asked = attempt();
    co_await ready(asked);
    if (!asked.is_error()) co_return asked.get();
    const Error& error = asked.error();
    if (!error.is_retryable() && !(conflicts_retry && error.code() == errc::coordinated_state_conflict)) throw error;
    *last_retried_error = error;
    co_await delay(backoff_seconds);
    backoff_seconds = std::min(backoff_seconds * 2, backoff_seconds_max);
  }
}

Future<ClusterConnectionString> ask_coordinators_change(Database database, std::vector<NetworkAddress> coordinators,
                                                        bool automatic, std::optional<Error>* last_retried_error) {
  std::function<Future<ClusterConnectionString>()> attempt = [database, coordinators, automatic] {
    return change_coordinators(database, coordinators, automatic);
  };
  return ask_controller(std::move(attempt), last_retried_error, true);
}

Future<ClusterSettings> ask_settings_change(Database database, ChangeSettingsRequest request,
                                            std::optional<Error>* last_retried_error) {
  std::function<Future<ClusterSettings>()> attempt = [database, request] { return change_settings(database, request); };
  return ask_controller(std::move(attempt), last_retried_error, true);
}

std::string count_text(int32_t count) { return count > 0 ? fmt::format("{}", count) : "as configured"; }

std::string describe_settings(const ClusterSettings& settings) {
  return fmt::format("logs {}, proxies {}, resolvers {}", count_text(settings.tlogs), count_text(settings.proxies),
                     count_text(settings.resolvers));
}

const char* replication_name(int32_t k) { return k == 1 ? "single" : k == 2 ? "double" : k == 3 ? "triple" : "?"; }

// The zones with storage servers (by address: a configured zone is not in the status).
std::set<std::string> storage_zones(const ClusterStatus& cluster) {
  std::set<std::string> zones;
  for (const StorageServerStatus& server : cluster.storage) zones.insert(server.address.to_string());
  return zones;
}

bool contains(const std::vector<NetworkAddress>& addresses, const NetworkAddress& address) {
  return std::find(addresses.begin(), addresses.end(), address) != addresses.end();
}

}  // namespace

Future<ClusterStatus> ask_status(Database database, std::optional<Error>* last_retried_error) {
  std::function<Future<ClusterStatus>()> attempt = [database] { return get_cluster_status(database); };
  return ask_controller(std::move(attempt), last_retried_error);
}

Future<Void> CliSession::administer(CliRequest request) {
  Future<Void> done = request.verb == CliVerb::coordinators ? coordinators(request)
                      : request.verb == CliVerb::configure  ? configure(request)
                                                             : exclusions(request);
  co_await done;
  std::fflush(out_);
  co_return Void{};
}

Future<Void> CliSession::coordinators(const CliRequest& request) {
  if (request.addresses.empty() && !request.automatic) {
    Future<ClusterStatus> status = bounded(ask_status(database_, &last_retried_error_));
    const ClusterStatus cluster = co_await status;
    fmt::print(out_, "Coordinators: {}\n", describe_addresses(cluster.coordinators));
    co_return Void{};
  }
  const ClusterConnectionString before = database_.state()->connection->get();
  Future<ClusterConnectionString> changed =
      bounded(ask_coordinators_change(database_, request.addresses, request.automatic, &last_retried_error_));
  const ClusterConnectionString connection = co_await changed;
  if (connection == before) {
    fmt::print(out_, "Coordinators unchanged: {} (already the set asked for)\n", describe_addresses(connection.coordinators));
    co_return Void{};
  }
  fmt::print(out_, "Coordinators changed to {}\n", describe_addresses(connection.coordinators));
  const std::string& file = database_.state()->connection->file();
  if (!file.empty()) fmt::print(out_, "Cluster file `{}' now reads {}\n", file, format_connection_string(connection));
  co_return Void{};
}

Future<Void> CliSession::configure(const CliRequest& request) {
  Future<ClusterStatus> status = bounded(ask_status(database_, &last_retried_error_));
  const ClusterStatus cluster = co_await status;
  if (request.configure_new) throw Error(errc::database_exists);
  const auto other_engine = std::find_if(cluster.storage.begin(), cluster.storage.end(), [&](const StorageServerStatus& s) {
    return !request.engine.empty() && s.reachable && s.engine != request.engine;
  });
  if (other_engine != cluster.storage.end()) {
    fmt::print(out_, "The cluster's storage engine is {}; asked for {}\n", other_engine->engine, request.engine);
    throw Error(errc::configuration_unsupported);
  }
  const std::set<std::string> zones = storage_zones(cluster);
  if (request.replication > static_cast<int32_t>(zones.size())) {
    fmt::print(out_, "Replication {} needs {} zones with storage servers; the cluster has {}\n",
               replication_name(request.replication), request.replication, zones.size());
    throw Error(errc::replication_needs_zones);
  }
  // An empty change answers the settings as they are: counts asked for that the cluster holds
  // already (set by configure, or as configured and seen in the generation's roles) are no
  // change, and start no recovery.
  Future<ClusterSettings> asked = bounded(ask_settings_change(database_, ChangeSettingsRequest{}, &last_retried_error_));
  const ClusterSettings current = co_await asked;
  auto unchanged = [&](int32_t asked_count, int32_t set_count, std::string_view role) {
    const auto in_generation = std::count_if(cluster.roles.begin(), cluster.roles.end(),
                                             [&](const RoleStatus& held) { return held.role == role; });
    return asked_count == (set_count != 0 ? set_count : static_cast<int32_t>(in_generation));
  };
  ChangeSettingsRequest change;
  change.tlogs = unchanged(request.tlogs, current.tlogs, "tlog") ? 0 : request.tlogs;
  change.proxies = unchanged(request.proxies, current.proxies, "proxy") ? 0 : request.proxies;
  change.resolvers = unchanged(request.resolvers, current.resolvers, "resolver") ? 0 : request.resolvers;
  if (request.replication != cluster.storage_replicas) change.storage_replicas = request.replication;
  if (change.tlogs == 0 && change.proxies == 0 && change.resolvers == 0 && change.storage_replicas == 0) {
    const auto reachable = std::find_if(cluster.storage.begin(), cluster.storage.end(),
                                        [](const StorageServerStatus& s) { return s.reachable; });
    fmt::print(out_, "Configuration unchanged: {}, storage engine {}, replication {}\n", describe_settings(current),
               reachable == cluster.storage.end() ? "unknown (no storage server reachable)" : reachable->engine,
               replication_name(cluster.storage_replicas));
    co_return Void{};
  }
  Future<ClusterSettings> changed = bounded(ask_settings_change(database_, change, &last_retried_error_));
  const ClusterSettings settings = co_await changed;
  if (change.tlogs != 0 || change.proxies != 0 || change.resolvers != 0) {
    fmt::print(out_, "Configuration changed: {} (the cluster recovers into a generation with them)\n",
               describe_settings(settings));
  }
  if (change.storage_replicas != 0) {
    fmt::print(out_, "Replication changed to {}: data distribution moves the shards (`status' shows the moves)\n",
               replication_name(change.storage_replicas));
  }
  co_return Void{};
}

Future<Void> CliSession::exclusions(const CliRequest& request) {
  if (request.verb == CliVerb::exclude && request.addresses.empty()) {
    Future<ClusterStatus> status = bounded(ask_status(database_, &last_retried_error_));
    const ClusterStatus cluster = co_await status;
    fmt::print(out_, "Excluded: {}\n", cluster.excluded.empty() ? "none" : describe_addresses(cluster.excluded));
    co_return Void{};
  }
  ChangeSettingsRequest change;
  if (request.verb == CliVerb::exclude) change.exclude = request.addresses;
  else change.include = request.addresses;
  change.include_all = request.all;
  Future<ClusterSettings> changed = bounded(ask_settings_change(database_, change, &last_retried_error_));
  const ClusterSettings settings = co_await changed;
  if (request.verb == CliVerb::include) {
    fmt::print(out_, "Excluded now: {}\n", settings.excluded.empty() ? "none" : describe_addresses(settings.excluded));
    co_return Void{};
  }
  fmt::print(out_, "Excluded {}: no transaction role is recruited there (a recovery moves those it hosted)\n",
             describe_addresses(request.addresses));
  Future<ClusterStatus> status = bounded(ask_status(database_, &last_retried_error_));
  const ClusterStatus cluster = co_await status;
  for (const NetworkAddress& address : request.addresses) {
    const bool known = std::any_of(cluster.workers.begin(), cluster.workers.end(),
                                   [&](const WorkerStatus& worker) { return worker.address == address; });
    if (!known) {
      fmt::print(out_, "WARNING: {} is not a process of this cluster (none has registered from there): a typo? "
                       "The exclusion holds should one start there (`include {}' lifts it)\n",
                 address.to_string(), address.to_string());
    }
    if (contains(cluster.coordinators, address)) {
      fmt::print(out_, "WARNING: {} is a coordinator: move the coordinators first (`coordinators auto')\n",
                 address.to_string());
    }
    const bool hosts_storage = std::any_of(cluster.storage.begin(), cluster.storage.end(),
                                           [&](const StorageServerStatus& s) { return s.address == address; });
    if (hosts_storage) {
      fmt::print(out_, "{} hosts storage servers: data distribution moves their shards to other servers "
                       "(`status' shows the moves; with no other zone left they stay)\n",
                 address.to_string());
    }
  }
  co_return Void{};
}

}  // namespace keel::cmd
