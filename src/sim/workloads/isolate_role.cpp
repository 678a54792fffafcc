// IsolateRole (a fault): every `interval_seconds` it asks the cluster status which machine hosts
// a transaction role (`role`: sequencer, proxy, tlog, or any of them) and cuts that machine off
// from every other machine of the cluster for `duration_seconds` (both directions), while the
// clients, on the tester, still reach it. The cluster controller then recovers without it, and
// whatever the cut-off roles still answer clients must not break strict serializability: a
// proxy of the old generation must not hand out a read version that misses a newer commit.
// Options: interval_seconds (5), duration_seconds (3), role ("sequencer").
#include <fmt/format.h>

#include "client/database.h"
#include "client/status.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"

namespace keel::sim {
namespace {

class IsolateRole final : public Workload {
 public:
  IsolateRole(RunContext& context, const Options& options)
      : context_(context),
        interval_(options.number("interval_seconds", 5)),
        duration_(options.number("duration_seconds", 3)),
        role_(options.text("role", "sequencer")) {}

  Future<Void> start() override {
    Database db = static_cluster_database(context_);
    while (true) {
      co_await delay(interval_);
      Future<ClusterStatus> asked = timeout_error(get_cluster_status(db), 5.0);
      co_await ready(asked);
      if (asked.is_error()) continue;
      SimMachine* target = machine_hosting(asked.get());
      if (target == nullptr) continue;
      const double seconds = std::min(duration_, std::max(0.0, context_.fault_phase_end - now()));
      TraceEvent("SimIsolateRole").detail("Role", role_).detail("Machine", target->name).detail("Seconds", seconds);
      for (SimProcess* process : context_.cluster) {
        SimMachine& other = process->machine();
        if (&other == target) continue;
        context_.simulator.network().clog(target->ip, other.ip, seconds);
        context_.simulator.network().clog(other.ip, target->ip, seconds);
      }
      co_await delay(seconds);
    }
  }

 private:
  SimMachine* machine_hosting(const ClusterStatus& status) {
    for (const RoleStatus& role : status.roles) {
      const bool wanted = role_ == "any" ? role.role != "storage" : role.role == role_;
      if (!wanted) continue;
      for (SimProcess* process : context_.cluster) {
        if (process->local_address() == role.address) return &process->machine();
      }
    }
    return nullptr;
  }

  RunContext& context_;
  double interval_, duration_;
  std::string role_;
};

}  // namespace

std::unique_ptr<Workload> make_isolate_role(RunContext& context, const Options& options) {
  return std::make_unique<IsolateRole>(context, options);
}

}  // namespace keel::sim
