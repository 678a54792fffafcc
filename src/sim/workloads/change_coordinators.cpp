// ChangeCoordinators (a workload, though its changes are faults of a kind): during the fault
// phase, every `interval_seconds` it asks the cluster controller to move
// the cluster to `count` coordinators chosen at random among the topology's processes (dead
// ones included: the controller refuses those with coordinators_invalid), or, with probability
// `auto_probability`, to a set the controller chooses. Its clients start from the first set and
// follow the forwards like any client; so do the workers that were down during a change.
// Check: once faults stopped, one more change must complete within the liveness bound, and a
// commit must succeed both through the database that followed every change and through a fresh
// one that knows only the last answered set (else the run fails its liveness bound, with the
// seed).
// Options: interval_seconds (4), count (the StaticCluster's coordinators), auto_probability (0.2).
#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "client/database.h"
#include "client/status.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"

namespace keel::sim {
namespace {

const Key probe_key = "\xf0" "change_coordinators/probe";

class ChangeCoordinators final : public Workload {
 public:
  ChangeCoordinators(RunContext& context, const Options& options)
      : context_(context),
        interval_(options.number("interval_seconds", 4)),
        count_(static_cast<size_t>(options.number("count", 0))),
        auto_probability_(options.number("auto_probability", 0.2)) {}

  Future<Void> setup() override {
    connection_ = static_cluster_connection(context_);
    return Void{};
  }

  Future<Void> start() override {
    Database db(connection_);
    while (true) {
      co_await delay(interval_ * (0.5 + context_.simulator.random().random01()));
      Future<bool> attempt = change_once(db);
      co_await ready(attempt);
    }
  }

  // Every set a change answered must be where the cluster is (or forward to it): the database
  // that followed every answer, and a fresh one from the last answer alone, must both commit.
  Future<std::vector<std::string>> check() override {
    Database db(connection_);
    // Retried until the liveness bound: a change may meet a recovery that is still settling.
    while (true) {
      Future<bool> changed = change_once(db);
      co_await ready(changed);
      if (!changed.is_error() && changed.get()) break;
      co_await delay(0.5);
    }
    Future<Void> followed = commit_probe(db, probe_key);
    co_await followed;
    Database fresh(std::make_shared<ClusterConnection>(last_answer_));
    Future<Void> fresh_committed = commit_probe(fresh, probe_key);
    co_await fresh_committed;
    TraceEvent("SimChangeCoordinatorsChecked").detail("Changes", changes_).detail("Refused", refused_);
    co_return std::vector<std::string>{};
  }

 private:
  // One attempt: true if the cluster moved.
  Future<bool> change_once(Database db) {
    DeterministicRandom& random = context_.simulator.random();
    const bool automatic = random.random01() < auto_probability_;
    std::vector<NetworkAddress> chosen;
    if (!automatic) {
      std::vector<NetworkAddress> all;
      for (SimProcess* process : context_.cluster) all.push_back(process->local_address());
      for (size_t i = all.size(); i > 1; --i) {
        std::swap(all[i - 1], all[static_cast<size_t>(random.random_int(0, static_cast<int64_t>(i)))]);
      }
      const size_t count = std::min(count_ == 0 ? context_.coordinators : count_, all.size());
      chosen.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count));
    }
    Future<ClusterConnectionString> changed = timeout_error(change_coordinators(db, chosen, automatic), attempt_timeout_seconds);
    co_await ready(changed);
    if (changed.is_error()) {
      ++refused_;
      TraceEvent("SimChangeCoordinatorsFailed").detail("Automatic", automatic).error(changed.error());
      co_return false;
    }
    ++changes_;
    last_answer_ = changed.get();
    TraceEvent("SimChangeCoordinators").detail("To", format_connection_string(changed.get()));
    co_return true;
  }


  RunContext& context_;
  // Follows every change this workload makes (set in setup; its databases live in coroutines,
  // which end with the run).
  std::shared_ptr<ClusterConnection> connection_;
  ClusterConnectionString last_answer_;
  double interval_;
  size_t count_;
  double auto_probability_;
  uint64_t changes_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace

std::unique_ptr<Workload> make_change_coordinators(RunContext& context, const Options& options) {
  return std::make_unique<ChangeCoordinators>(context, options);
}

}  // namespace keel::sim
