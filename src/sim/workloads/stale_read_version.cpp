// StaleReadVersion: the old-proxy regression. Every `interval_seconds`:
// 1. a client ("old") learns the current proxies (one read version);
// 2. the machine hosting the sequencer (and proxy 0, which recruitment places with it) is cut
//    off from every other cluster machine for `duration_seconds`, though not from the clients;
// 3. another client commits until a commit succeeds (in the generation the controller recovers
//    into without the cut-off machine), at version V;
// 4. the "old" client, still holding the old proxies, asks for a read version: it must be at
//    least V. An old proxy that answered from its own sequencer without proving its generation
//    live would hand out a smaller one.
// Options: interval_seconds (4), duration_seconds (6).
#include <fmt/format.h>

#include "client/database.h"
#include "client/status.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"

namespace keel::sim {
namespace {

class StaleReadVersion final : public Workload {
 public:
  StaleReadVersion(RunContext& context, const Options& options)
      : context_(context),
        interval_(options.number("interval_seconds", 4)),
        duration_(options.number("duration_seconds", 6)),
        problems_("StaleReadVersionProblem") {}

  Future<Void> start() override {
    while (true) {
      co_await delay(interval_);
      co_await round();
    }
  }

  Future<std::vector<std::string>> check() override {
    TraceEvent("StaleReadVersionResults").detail("Rounds", rounds_).detail("Checked", checked_);
    return problems_.list();
  }

 private:
  Future<Void> round() {
    ++rounds_;
    Database old_client = static_cluster_database(context_);
    Transaction warm = old_client.create_transaction();
    Future<Version> warmed = timeout_error(warm.get_read_version(), 5.0);
    co_await ready(warmed);
    if (warmed.is_error()) co_return Void{};
    Future<ClusterStatus> asked = timeout_error(get_cluster_status(old_client), 5.0);
    co_await ready(asked);
    if (asked.is_error()) co_return Void{};
    SimMachine* target = machine_of(asked.get(), "sequencer");
    if (target == nullptr) co_return Void{};
    const double seconds = std::min(duration_, std::max(0.0, context_.fault_phase_end - now()));
    TraceEvent("SimIsolateSequencer").detail("Machine", target->name).detail("Seconds", seconds);
    for (SimProcess* process : context_.cluster) {
      SimMachine& other = process->machine();
      if (&other == target) continue;
      context_.simulator.network().clog(target->ip, other.ip, seconds);
      context_.simulator.network().clog(other.ip, target->ip, seconds);
    }
    const double isolation_end = now() + seconds;
    // A commit of the generation recovered without the cut-off machine.
    Database new_client = static_cluster_database(context_);
    Version committed = 0;
    while (committed == 0 && now() < isolation_end) {
      Transaction transaction = new_client.create_transaction();
      transaction.set("\xf0stale_read_version/probe", fmt::format("{}", rounds_));
      Future<Version> commit = timeout_error(transaction.commit(), std::max(0.0, isolation_end - now()));
      co_await ready(commit);
      if (!commit.is_error()) committed = commit.get();
      else co_await delay(0.05);
    }
    if (committed == 0 || now() >= isolation_end) co_return Void{};
    // The old client asks its (old) proxies while the cut lasts.
    Transaction late = old_client.create_transaction();
    Future<Version> read = timeout_error(late.get_read_version(), std::max(0.0, isolation_end - now()));
    co_await ready(read);
    if (read.is_error()) co_return Void{};
    ++checked_;
    if (read.get() < committed) {
      problems_.add(fmt::format("read version {} was handed out after a commit at {} was acknowledged", read.get(),
                                committed));
    }
    co_await delay(std::max(0.0, isolation_end - now()));
    co_return Void{};
  }

  SimMachine* machine_of(const ClusterStatus& status, const std::string& wanted) {
    for (const RoleStatus& role : status.roles) {
      if (role.role != wanted) continue;
      for (SimProcess* process : context_.cluster) {
        if (process->local_address() == role.address) return &process->machine();
      }
    }
    return nullptr;
  }

  RunContext& context_;
  double interval_, duration_;
  ProblemLog problems_;
  int rounds_ = 0;
  int checked_ = 0;
};

}  // namespace

std::unique_ptr<Workload> make_stale_read_version(RunContext& context, const Options& options) {
  return std::make_unique<StaleReadVersion>(context, options);
}

}  // namespace keel::sim
