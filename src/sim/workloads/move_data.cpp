// MoveData (a workload whose changes are faults of a kind): during the fault phase, every
// `interval_seconds` it changes what data distribution must do, as `keel cli configure` /
// `exclude` / `include` do: a new replication mode (1 to `replicas_max` storage servers per
// shard), or one more excluded process (up to `excluded_max`), or every exclusion lifted. Each
// makes the controller move shards: fetches under kills, clogging and recoveries.
// Check, once faults stopped: `include all` and replication `final_replicas`, then within the
// liveness bound every shard must be on a team of exactly that many servers on distinct
// processes with no move left, and every member of a team must hold the same rows at one read
// version (a replica that missed a mutation, or kept a row it should have cleared, differs).
// With `down_seconds`, it also powers off one random machine for that long, 2 s into the run;
// with `require_moves`, some shard's team at the end must differ from its team at the start
// (for specs where only that dead machine makes data move).
// Options: interval_seconds (4; 0: no changes), replicas_max (3), excluded_max (1),
// final_replicas (2), down_seconds (0), require_moves (0).
#include <algorithm>
#include <set>

#include "client/database.h"
#include "client/database_state.h"
#include "client/status.h"
#include "protocol/cluster_config.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/key_value_model.h"
#include "sim/workloads/workload_support.h"

namespace keel::sim {
namespace {

constexpr int rows_per_read = 1000;

class MoveData final : public Workload {
 public:
  MoveData(RunContext& context, const Options& options)
      : context_(context),
        interval_(options.number("interval_seconds", 4)),
        replicas_max_(static_cast<int32_t>(options.number("replicas_max", 3))),
        excluded_max_(static_cast<size_t>(options.number("excluded_max", 1))),
        final_replicas_(static_cast<int32_t>(options.number("final_replicas", 2))),
        down_seconds_(options.number("down_seconds", 0)),
        require_moves_(options.number("require_moves", 0) != 0) {}

  Future<Void> start() override {
    Database db = static_cluster_database(context_);
    DeterministicRandom& random = context_.simulator.random();
    while (initial_teams_.empty()) {
      Future<std::vector<ShardLocation>> located = locate_all(db);
      co_await ready(located);
      if (!located.is_error()) initial_teams_ = teams_of(located.get());
      else db.state()->forget_proxies();
    }
    if (down_seconds_ > 0) {
      co_await delay(2.0);
      const auto index = static_cast<size_t>(random.random_int(0, static_cast<int64_t>(context_.cluster.size())));
      TraceEvent("SimMoveDataPowerOff").detail("Process", context_.cluster[index]->local_address().to_string());
      context_.simulator.power_cycle(context_.cluster[index]->machine(), down_seconds_);
    }
    if (interval_ <= 0) co_return Void{};
    while (true) {
      co_await delay(interval_ * (0.5 + random.random01()));
      ChangeSettingsRequest request;
      const double choice = random.random01();
      if (choice < 0.5) {
        request.storage_replicas = static_cast<int32_t>(random.random_int(1, replicas_max_ + 1));
      } else if (choice < 0.8 && excluded_.size() < excluded_max_) {
        const auto index = static_cast<size_t>(random.random_int(0, static_cast<int64_t>(context_.cluster.size())));
        request.exclude.push_back(context_.cluster[index]->local_address());
      } else {
        request.include_all = true;
      }
      Future<bool> attempt = change_once(db, request);
      co_await ready(attempt);
    }
  }

  Future<std::vector<std::string>> check() override {
    Database db = static_cluster_database(context_);
    ChangeSettingsRequest request;
    request.include_all = true;
    request.storage_replicas = final_replicas_;
    while (true) {
      Future<bool> changed = change_once(db, request);
      co_await ready(changed);
      if (!changed.is_error() && changed.get()) break;
      co_await delay(0.5);
    }
    // The map may still change after it first looks settled (a server the distributor took
    // for dead comes back): a failed comparison starts over from the map.
    std::vector<ShardLocation> shards;
    while (true) {
      Future<std::vector<ShardLocation>> settled = settled_map(db);
      co_await ready(settled);
      if (settled.is_error() || settled.get().empty()) {
        if (settled.is_error()) db.state()->forget_proxies();  // its generation may be over
        TraceEvent("SimMoveDataNotSettled").error(settled.is_error() ? settled.error() : Error(errc::success)).suppress_for(5);
        co_await delay(0.5);
        continue;
      }
      shards = settled.get();
      Future<bool> compared = compare_replicas(db, shards);
      co_await ready(compared);
      if (!compared.is_error() && compared.get()) break;
      co_await delay(0.5);
    }
    if (require_moves_ && teams_of(shards) == initial_teams_) problems_.add("no shard moved to another team");
    TraceEvent("SimMoveDataChecked").detail("Changes", changes_).detail("Shards", shards.size());
    co_return problems_.list();
  }

 private:
  // The shard map once data distribution is done: no move in flight, every team of
  // final_replicas servers on distinct processes. Empty while it is not there yet.
  Future<std::vector<ShardLocation>> settled_map(Database db) {
    Future<ClusterStatus> asked = timeout_error(get_cluster_status(db), attempt_timeout_seconds);
    const ClusterStatus status = co_await asked;
    if (status.shards_moving > 0 || !status.degraded_shards.empty() || status.storage_replicas != final_replicas_) {
      co_return std::vector<ShardLocation>{};
    }
    Future<std::vector<ShardLocation>> located = locate_all(db);
    std::vector<ShardLocation> shards = co_await located;
    for (const ShardLocation& shard : shards) {
      std::set<NetworkAddress> processes;
      for (const StorageServerInterface& server : shard.servers) processes.insert(server.get_value.endpoint().address);
      if (static_cast<int32_t>(shard.servers.size()) != final_replicas_ ||
          static_cast<int32_t>(processes.size()) != final_replicas_) {
        co_return std::vector<ShardLocation>{};
      }
    }
    co_return shards;
  }

  // Every shard and its team, as a proxy tells clients.
  static Future<std::vector<ShardLocation>> locate_all(Database db) {
    Future<ProxyInterface> found = db.state()->proxy();
    const ProxyInterface proxy = co_await found;
    GetKeyServerLocationsRequest request;
    request.range = KeyRange{"", keyspace_end};
    request.limit = 100000;
    Future<GetKeyServerLocationsReply> located =
        timeout_error(proxy.get_key_server_locations.get_reply(request), attempt_timeout_seconds);
    GetKeyServerLocationsReply reply = co_await located;
    co_return std::move(reply.shards);
  }

  // Per shard, its servers' endpoints (sorted), to compare maps.
  static std::vector<std::set<std::pair<NetworkAddress, uint64_t>>> teams_of(const std::vector<ShardLocation>& shards) {
    std::vector<std::set<std::pair<NetworkAddress, uint64_t>>> teams;
    for (const ShardLocation& shard : shards) {
      std::set<std::pair<NetworkAddress, uint64_t>> team;
      for (const StorageServerInterface& server : shard.servers) {
        team.emplace(server.get_value.endpoint().address, server.get_value.endpoint().token);
      }
      teams.push_back(std::move(team));
    }
    return teams;
  }

  // Whether every member of every team holds the same rows at one read version (false: try
  // again, a read failed). Differences are problems.
  Future<bool> compare_replicas(Database db, std::vector<ShardLocation> shards) {
    Transaction transaction = db.create_transaction();
    Future<Version> read_version = transaction.get_read_version();
    const Version version = co_await read_version;
    for (const ShardLocation& shard : shards) {
      std::vector<std::vector<KeyValue>> replicas;
      for (const StorageServerInterface& server : shard.servers) {
        Future<std::vector<KeyValue>> read = read_all(server, shard.range, version);
        co_await ready(read);
        if (read.is_error()) {
          TraceEvent("SimMoveDataReadFailed")
              .detail("Begin", printable(shard.range.begin))
              .detail("Server", server.get_value.endpoint().address.to_string())
              .error(read.error())
              .suppress_for(5);
          co_return false;
        }
        replicas.push_back(read.get());
      }
      for (size_t i = 1; i < replicas.size(); ++i) {
        if (replicas[i] == replicas[0]) continue;
        problems_.add(fmt::format("shard [{}..{}) differs between its servers at version {}: {} rows against {}",
                                  printable(shard.range.begin), printable(shard.range.end), version,
                                  replicas[i].size(), replicas[0].size()));
      }
      rows_compared_ += static_cast<int64_t>(replicas.empty() ? 0 : replicas[0].size());
    }
    TraceEvent("SimMoveDataCompared").detail("Version", version).detail("Rows", rows_compared_);
    co_return true;
  }

  static Future<std::vector<KeyValue>> read_all(StorageServerInterface server, KeyRange range, Version version) {
    std::vector<KeyValue> rows;
    while (true) {
      GetKeyValuesRequest request;
      request.range = range;
      request.version = version;
      request.limit = rows_per_read;
      Future<GetKeyValuesReply> read = timeout_error(server.get_key_values.get_reply(request), attempt_timeout_seconds);
      GetKeyValuesReply reply = co_await read;
      for (KeyValue& row : reply.data) rows.push_back(std::move(row));
      if (!reply.more || rows.empty()) co_return rows;
      range.begin = key_after(rows.back().key);
    }
  }

  // One attempt: true if the controller took the change.
  Future<bool> change_once(Database db, ChangeSettingsRequest request) {
    Future<std::optional<ClusterSettings>> attempt =
        change_settings_once(db, std::move(request), attempt_timeout_seconds, "SimMoveDataChangeFailed");
    const std::optional<ClusterSettings> changed = co_await attempt;
    if (!changed) co_return false;
    ++changes_;
    excluded_ = changed->excluded;
    TraceEvent("SimMoveDataChange")
        .detail("StorageReplicas", changed->storage_replicas)
        .detail("Excluded", describe_addresses(excluded_));
    co_return true;
  }

  RunContext& context_;
  double interval_;
  int32_t replicas_max_;
  size_t excluded_max_;
  int32_t final_replicas_;
  double down_seconds_;
  bool require_moves_;
  std::vector<std::set<std::pair<NetworkAddress, uint64_t>>> initial_teams_;
  std::vector<NetworkAddress> excluded_;
  uint64_t changes_ = 0;
  int64_t rows_compared_ = 0;
  ProblemLog problems_{"SimMoveDataProblem"};
};

}  // namespace

std::unique_ptr<Workload> make_move_data(RunContext& context, const Options& options) {
  return std::make_unique<MoveData>(context, options);
}

}  // namespace keel::sim
