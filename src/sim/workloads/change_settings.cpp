// ChangeSettings (a workload whose changes are faults of a kind): during the fault phase, every
// `interval_seconds` it changes the cluster's settings through the controller, as `keel cli
// configure` / `exclude` / `include` do: new log, proxy and resolver counts (1 to `count_max`)
// or one more excluded process (up to `excluded_max`; a change that would leave no live process
// for the transaction roles is refused with no_transaction_host_left), or every exclusion lifted.
// Each change that moves roles makes the controller recover. Check: once faults stopped, the
// generation must come to fit the last settings (the counts of logs, proxies and resolvers, and
// no transaction role on an excluded process), then `include all` must succeed and a
// transaction commit, all within the liveness bound (which fails the run with its seed).
// Options: interval_seconds (3), count_max (3), excluded_max (1).
#include <algorithm>
#include <map>

#include "client/database.h"
#include "client/status.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"

namespace keel::sim {
namespace {


class ChangeSettings final : public Workload {
 public:
  ChangeSettings(RunContext& context, const Options& options)
      : context_(context),
        interval_(options.number("interval_seconds", 3)),
        count_max_(static_cast<int32_t>(options.number("count_max", 3))),
        excluded_max_(static_cast<size_t>(options.number("excluded_max", 1))) {}

  Future<Void> start() override {
    Database db = static_cluster_database(context_);
    DeterministicRandom& random = context_.simulator.random();
    while (true) {
      co_await delay(interval_ * (0.5 + random.random01()));
      ChangeSettingsRequest request;
      const double choice = random.random01();
      if (choice < 0.5) {
        request.tlogs = static_cast<int32_t>(random.random_int(1, count_max_ + 1));
        request.proxies = static_cast<int32_t>(random.random_int(1, count_max_ + 1));
        request.resolvers = static_cast<int32_t>(random.random_int(1, count_max_ + 1));
      } else if (choice < 0.8 && excluded_.size() < excluded_max_) {
        request.exclude.push_back(
            context_.cluster[static_cast<size_t>(random.random_int(0, static_cast<int64_t>(context_.cluster.size())))]
                ->local_address());
      } else {
        request.include_all = true;
      }
      Future<bool> attempt = change_once(db, request);
      co_await ready(attempt);
    }
  }

  Future<std::vector<std::string>> check() override {
    Database db = static_cluster_database(context_);
    // An empty change answers the current settings.
    ClusterSettings settings;
    while (true) {
      Future<ClusterSettings> asked = timeout_error(change_settings(db, ChangeSettingsRequest{}), attempt_timeout_seconds);
      co_await ready(asked);
      if (!asked.is_error()) {
        settings = asked.get();
        break;
      }
      co_await delay(0.5);
    }
    while (true) {
      Future<ClusterStatus> status = timeout_error(get_cluster_status(db), attempt_timeout_seconds);
      co_await ready(status);
      if (!status.is_error() && fits(status.get(), settings)) break;
      co_await delay(0.5);
    }
    ChangeSettingsRequest request;
    request.include_all = true;
    while (true) {
      Future<bool> changed = change_once(db, request);
      co_await ready(changed);
      if (!changed.is_error() && changed.get()) break;
      co_await delay(0.5);
    }
    Future<Void> committed = commit_probe(db, "\xf0" "change_settings/probe");
    co_await committed;
    TraceEvent("SimChangeSettingsChecked").detail("Changes", changes_).detail("Refused", refused_);
    co_return std::vector<std::string>{};
  }

 private:
  // Whether the status's generation accepts commits with the settings' counts and no
  // transaction role on an excluded process.
  static bool fits(const ClusterStatus& status, const ClusterSettings& settings) {
    if (status.recovery_state != "accepting_commits") return false;
    std::map<std::string, int32_t> counts;
    for (const RoleStatus& role : status.roles) {
      if (role.role == "storage") continue;
      ++counts[role.role];
      if (std::find(settings.excluded.begin(), settings.excluded.end(), role.address) != settings.excluded.end()) {
        return false;
      }
    }
    return (settings.tlogs == 0 || counts["tlog"] == settings.tlogs) &&
           (settings.proxies == 0 || counts["proxy"] == settings.proxies) &&
           (settings.resolvers == 0 || counts["resolver"] == settings.resolvers);
  }

  // One attempt: true if the controller took the change.
  Future<bool> change_once(Database db, ChangeSettingsRequest request) {
    Future<std::optional<ClusterSettings>> attempt =
        change_settings_once(db, std::move(request), attempt_timeout_seconds, "SimChangeSettingsFailed");
    const std::optional<ClusterSettings> changed = co_await attempt;
    if (!changed) {
      ++refused_;
      co_return false;
    }
    ++changes_;
    excluded_ = changed->excluded;
    TraceEvent("SimChangeSettings")
        .detail("TLogs", changed->tlogs)
        .detail("Proxies", changed->proxies)
        .detail("Resolvers", changed->resolvers)
        .detail("Excluded", describe_addresses(excluded_));
    co_return true;
  }

  RunContext& context_;
  double interval_;
  int32_t count_max_;
  size_t excluded_max_;
  std::vector<NetworkAddress> excluded_;  // as the last answer said
  uint64_t changes_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace

std::unique_ptr<Workload> make_change_settings(RunContext& context, const Options& options) {
  return std::make_unique<ChangeSettings>(context, options);
}

}  // namespace keel::sim
