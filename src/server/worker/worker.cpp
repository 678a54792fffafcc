#include "server/worker/worker.h"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/cluster_controller_interface.h"
#include "protocol/well_known.h"
#include "rpc/rpc_knobs.h"
#include "rpc/serialize.h"
#include "rpc/transport.h"
#include "runtime/async_var.h"
#include "runtime/combinators.h"
#include "runtime/random.h"
#include "runtime/trace.h"
#include "server/cluster_controller/cluster_controller.h"
#include "server/cluster_controller/distributor_knobs.h"
#include "server/coordinator/coordinator.h"
#include "server/coordinator/coordinator_knobs.h"
#include "server/coordinator/leader_election.h"
#include "server/proxy/proxy.h"
#include "server/proxy/proxy_knobs.h"
#include "server/ratekeeper/ratekeeper.h"
#include "server/ratekeeper/ratekeeper_knobs.h"
#include "server/storage_server/storage_server_knobs.h"
#include "server/resolver/resolver.h"
#include "server/sequencer/sequencer.h"
#include "server/storage_server/storage_server.h"
#include "server/tlog/tlog.h"
#include "server/tlog/tlog_knobs.h"
#include "storage/memory/memory_knobs.h"
#include "storage/rocksdb/rocksdb_knobs.h"
#include "storage/ssd/ssd_knobs.h"

namespace keel {
namespace {

// A controller that does not answer a registration within this long is taken for gone.
constexpr double register_timeout_seconds = register_hold_seconds + 1.0;

struct WorkerState {
  WorkerOptions options;
  NetworkAddress self;
  WorkerInterface interface;
  std::shared_ptr<ClusterConnection> connection;
  AsyncVar<ServerDBInfo> db_info;
  ActorCollection roles;  // recruited roles, each behind guard_role: their failures stay theirs
  ReachabilityMemory reachability;  // of the storage servers, across this process's tenures as controller
};

// How long a candidate whose coordinators moved waits to learn the new set (from
// register_with_controller's lookups) before it campaigns again anyway.
constexpr double moved_wait_seconds = 1.0;

// Ready once a generation newer than `generation` accepts commits.
Future<Void> superseded(WorkerState* state, uint64_t generation) {
  while (!(state->db_info.get().accepting_commits() && state->db_info.get().generation > generation)) {
    co_await state->db_info.on_change();
  }
  co_return Void{};
}

// Runs a recruited role until it ends, fails (traced, not propagated) or, for a role of a
// generation (generation > 0), a newer generation takes over.
Future<Void> guard_role(WorkerState* state, std::string name, uint64_t generation, Future<Void> role) {
  try {
    if (generation == 0) {
      co_await role;
    } else {
      Future<Void> newer = superseded(state, generation);
      co_await race(std::move(role), std::move(newer));
    }
    TraceEvent("WorkerRoleEnded").detail("Role", name).detail("Generation", generation);
  } catch (const Error& error) {
    if (error.code() == errc::operation_cancelled) throw;
    TraceEvent(Severity::warn, "WorkerRoleFailed").detail("Role", name).detail("Generation", generation).error(error);
  }
  co_return Void{};
}

Future<Void> start_tlog(WorkerState* state, InitializeTLogRequest request) {
  TLogInterface log = serve_tlog(request.id);
  TLogOptions options;
  options.id = request.id;
  options.directory = fmt::format("{}/{}", state->options.data_directory, tlog_directory_name(request.id));
  options.recruitment = TLogRecruitment{request.generation, request.recovery_version, request.source};
  options.db_info = &state->db_info;
  Promise<Void> serving;
  Future<Void> is_ready = serving.get_future();
  state->roles.add(guard_role(state, "tlog", 0, run_tlog(log, std::move(options), serving)));
  co_await ready(is_ready);
  if (is_ready.is_error()) request.reply.send_error(Error(errc::recovery_failed));
  else request.reply.send(log);
  co_return Void{};
}

Future<Void> serve_recruitment(WorkerState* state) {
  ActorCollection starting;
  FutureStream<InitializeTLogRequest> tlogs = state->interface.initialize_tlog.requests();
  FutureStream<InitializeSequencerRequest> sequencers = state->interface.initialize_sequencer.requests();
  FutureStream<InitializeResolverRequest> resolvers = state->interface.initialize_resolver.requests();
  FutureStream<InitializeProxyRequest> proxies = state->interface.initialize_proxy.requests();
  FutureStream<InitializeRatekeeperRequest> ratekeepers = state->interface.initialize_ratekeeper.requests();
  while (true) {
    auto next = co_await race(tlogs.next(), sequencers.next(), resolvers.next(), proxies.next(), ratekeepers.next());
    if (next.index() == 0) {
      starting.add(start_tlog(state, std::move(std::get<0>(next))));
    } else if (next.index() == 1) {
      InitializeSequencerRequest& request = std::get<1>(next);
      SequencerInterface sequencer = serve_new_sequencer();
      state->roles.add(guard_role(state, "sequencer", request.generation,
                                  run_sequencer(sequencer, request.generation, request.recovery_version, request.start_version)));
      request.reply.send(sequencer);
    } else if (next.index() == 2) {
      InitializeResolverRequest& request = std::get<2>(next);
      ResolverInterface resolver = serve_new_resolver();
      state->roles.add(guard_role(state, "resolver", request.generation,
                                  run_resolver(resolver, request.generation, request.recovery_version)));
      request.reply.send(resolver);
    } else if (next.index() == 4) {
      InitializeRatekeeperRequest& request = std::get<4>(next);
      RatekeeperInterface ratekeeper = serve_new_ratekeeper();
      state->roles.add(guard_role(state, "ratekeeper", request.generation,
                                  run_ratekeeper(ratekeeper, state->options.cluster, request.generation, request.sequencer)));
      request.reply.send(ratekeeper);
    } else {
      InitializeProxyRequest& request = std::get<3>(next);
      ProxyInterface proxy = serve_new_proxy();
      const uint64_t generation = request.info.generation;
      state->roles.add(guard_role(state, "proxy", generation,
                                  run_proxy(proxy, state->options.cluster, request.index, request.info)));
      request.reply.send(proxy);
    }
  }
}

// Campaigns for cluster controller through the current coordinators, and runs it for as long
// as this process leads. Starts over under the new set when the coordinators move.
Future<Void> campaign(WorkerState* state) {
  while (true) {
    ClusterControllerInterface controller = serve_new_cluster_controller();
    LeaderDescription description;
    description.controller = controller;
    LeaderInfo info;
    while (info.candidate_id == 0) info.candidate_id = deterministic_random().next_u64();
    info.change_id = deterministic_random().next_u64();
    info.description = serialize_to_string(description);
    LeaderCandidate candidate(coordinator_set(state->connection->get()), info);
    Future<Void> heartbeats = candidate.run();
    Future<Void> moved = state->connection->on_change();
    bool coordinators_changed = false;
    try {
      Future<Void> elected = candidate.wait_elected();
      std::variant<Void, Void, Void> first = co_await race(std::move(elected), heartbeats, moved);
      if (first.index() != 0) continue;  // the set moved
      Future<Void> leading = run_cluster_controller(controller, state->options.cluster, state->connection, &candidate,
                                                     &state->reachability);
      Future<Void> lease = candidate.hold();
      co_await race(std::move(leading), std::move(lease));
    } catch (const Error& error) {
      if (error.code() == errc::operation_cancelled) throw;
      coordinators_changed = error.code() == errc::coordinators_changed;
      if (!coordinators_changed) TraceEvent(Severity::warn_always, "WorkerControllerEnded").error(error);
    }
    if (coordinators_changed) {
      TraceEvent("WorkerCoordinatorsChanged").detail("Connection", format_connection_string(state->connection->get()));
      co_await timeout(moved, moved_wait_seconds);
    }
  }
}

// Finds the controller through the coordinators and stays registered with it, keeping the
// ServerDBInfo it publishes.
Future<Void> register_with_controller(WorkerState* state) {
  while (true) {
    std::optional<LeaderInfo> leader = co_await get_leader(state->connection);
    if (!leader) {
      co_await delay(0.1);
      continue;
    }
    const LeaderDescription description = deserialize_from_string<LeaderDescription>(leader->description);
    while (true) {
      RegisterWorkerRequest request;
      request.worker = state->interface;
      request.process_class = state->options.process_class;
      request.known_db_info_id = state->db_info.get().id;
      Future<ServerDBInfo> reply =
          timeout_error(description.controller.register_worker.get_reply(request), register_timeout_seconds);
      // A controller whose process is known to have failed is given up on at once.
      const NetworkAddress controller_address = description.controller.register_worker.endpoint().address;
      Future<Void> failed = Transport::current().failure_monitor().on_failed(controller_address);
      std::vector<Future<Void>> either{ready(reply), failed};
      Future<size_t> first = when_any(std::move(either));
      co_await first;
      if (!reply.is_ready() || reply.is_error()) break;
      if (reply.get().id != state->db_info.get().id && reply.get().id != 0) state->db_info.set(reply.get());
    }
    TraceEvent(Severity::info, "WorkerLostController").suppress_for(1);
    co_await delay(0.05);
  }
}

// Serves every log this process's data directory holds (each locked: it belongs to an older
// incarnation) until a recovery no longer needs it.
Future<Void> restart_logs(WorkerState* state) {
  IWorld& files = world();
  Future<Void> made = files.create_directories(state->options.data_directory);
  co_await made;
  std::vector<std::string> names = co_await files.list_directory(state->options.data_directory);
  for (const std::string& name : names) {
    const std::optional<uint64_t> id = parse_tlog_directory_name(name);
    if (!id) continue;
    TLogOptions options;
    options.id = *id;
    options.directory = fmt::format("{}/{}", state->options.data_directory, name);
    // A log removed before its directory was (a crash in between) leaves it empty.
    std::vector<std::string> files_there = co_await files.list_directory(options.directory);
    if (files_there.empty()) {
      Future<Void> removed = files.remove_directory(options.directory);
      co_await ready(removed);
      continue;
    }
    options.db_info = &state->db_info;
    TraceEvent("WorkerRestartingLog").detail("Directory", options.directory);
    state->roles.add(guard_role(state, "tlog", 0, run_tlog(serve_tlog(*id), std::move(options), Promise<Void>())));
  }
  co_return Void{};
}

}  // namespace

Future<Void> run_worker(WorkerOptions options) {
  options.cluster.validate();
  WorkerState state;
  state.options = std::move(options);
  state.self = Transport::current().local_address();
  state.interface = serve_new_worker();
  const ClusterConfig& cluster = state.options.cluster;
  // Every well-known endpoint is registered before anything waits, so no request finds one missing.
  ActorCollection essential;
  essential.add(run_coordinator(serve_coordinator(), state.options.data_directory + "/coordinator"));
  for (const StorageLocation& storage : cluster.storage) {
    if (storage.location.address != state.self) continue;
    StorageServerConfig config;
    config.tag = storage.tag;
    config.storage = cluster.storage;
    config.db_info = &state.db_info;
    config.directory = fmt::format("{}/storage-{}", state.options.data_directory, storage.tag);
    config.engine = state.options.engine;
    config.stop = state.options.stop;
    essential.add(run_storage_server(serve_storage(storage.location.index, storage.tag), std::move(config)));
  }
  state.connection = state.options.connection;
  if (!state.connection) {
    state.connection = co_await open_server_connection(state.options.data_directory + "/cluster", cluster.coordinators);
  }
  co_await restart_logs(&state);
  essential.add(serve_wait_failure(state.interface.wait_failure.requests()));
  essential.add(serve_recruitment(&state));
  essential.add(register_with_controller(&state));
  if (state.options.process_class != process_class_storage) essential.add(campaign(&state));
  TraceEvent("WorkerStarted").detail("Address", state.self.to_string()).detail("Class", state.options.process_class);
  co_await essential.result();
  co_return Void{};
}

void declare_server_knobs() {
  rpc_knobs();
  memory_kv_store_knobs();
  ssd_kv_store_knobs();
  rocksdb_kv_store_knobs();
  coordinator_knobs();
  ratekeeper_knobs();
  distributor_knobs();
  proxy_knobs();
  storage_server_knobs();
  tlog_knobs();
}

}  // namespace keel
