// RecoveryTime: measures how long the cluster takes to commit again after a process is killed.
// Every `interval_seconds` it asks the cluster status where the role named by `role` runs
// (sequencer, proxy, tlog; any of them; or controller, the cluster controller), kills that
// process (rebooting it `reboot_delay_seconds` later), and commits one small transaction,
// retrying, until it succeeds: the time from the kill to that commit is one sample (simulated
// time), traced as SimRecoveryTime, with a summary (SimRecoveryTimes) at the check. It is a
// measurement: its check never fails (the other workloads of the spec check correctness).
// Options: kills (3), interval_seconds (6), role ("any"), reboot_delay_seconds (1).
#include <algorithm>

#include <fmt/format.h>

#include "client/database.h"
#include "client/status.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"

namespace keel::sim {
namespace {

class RecoveryTime final : public Workload {
 public:
  RecoveryTime(RunContext& context, const Options& options)
      : context_(context),
        kills_(static_cast<int>(options.number("kills", 3))),
        interval_(options.number("interval_seconds", 6)),
        role_(options.text("role", "any")),
        reboot_delay_(options.number("reboot_delay_seconds", 1)) {}

  Future<Void> start() override {
    Database db = static_cluster_database(context_);
    for (int i = 0; i < kills_; ++i) {
      co_await delay(interval_);
      Future<ClusterStatus> asked = timeout_error(get_cluster_status(db), 5.0);
      co_await ready(asked);
      if (asked.is_error()) continue;
      SimProcess* victim = process_hosting(asked.get());
      if (victim == nullptr || !victim->alive()) continue;
      const double killed_at = now();
      context_.simulator.reboot(*victim, KillKind::process, reboot_delay_);
      Future<Void> committed = commit_probe(db, "\xf0recovery_time/probe");
      co_await committed;
      const double seconds = now() - killed_at;
      samples_.push_back(seconds);
      TraceEvent("SimRecoveryTime").detail("Seconds", seconds).detail("Victim", victim->local_address().to_string());
    }
    co_return Void{};
  }

  Future<std::vector<std::string>> check() override {
    std::vector<double> sorted = samples_;
    std::sort(sorted.begin(), sorted.end());
    if (!sorted.empty()) {
      TraceEvent("SimRecoveryTimes")
          .detail("Samples", sorted.size())
          .detail("Median", sorted[sorted.size() / 2])
          .detail("Max", sorted.back());
    }
    return std::vector<std::string>{};
  }

 private:
  SimProcess* process_hosting(const ClusterStatus& status) {
    std::vector<NetworkAddress> candidates;
    if (role_ == "controller") candidates.push_back(status.coordinator);  // the controller's address
    for (const RoleStatus& role : status.roles) {
      const bool wanted = role_ == "any" ? role.role != "storage" : role.role == role_;
      if (wanted) candidates.push_back(role.address);
    }
    if (candidates.empty()) return nullptr;
    const NetworkAddress chosen =
        candidates[static_cast<size_t>(context_.simulator.random().random_int(0, static_cast<int64_t>(candidates.size())))];
    for (SimProcess* process : context_.cluster) {
      if (process->local_address() == chosen) return process;
    }
    return nullptr;
  }

  RunContext& context_;
  int kills_;
  double interval_;
  std::string role_;
  double reboot_delay_;
  std::vector<double> samples_;
};

}  // namespace

std::unique_ptr<Workload> make_recovery_time(RunContext& context, const Options& options) {
  return std::make_unique<RecoveryTime>(context, options);
}

}  // namespace keel::sim
