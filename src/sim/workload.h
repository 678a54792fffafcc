// Workloads: what a simulation test runs in its protected tester process.
//
// A correctness workload drives load and checks invariants; a fault workload injects faults
// during the fault phase. A run: every workload's setup(); then every start() runs
// concurrently for the fault phase (and is cancelled at its end if still running); then the
// cluster is healed (faults stop, dead processes reboot) and every check() must finish within
// the liveness bound and report no problem. A workload may also provide the boot function of
// the simulated processes (the spec's topology.process names the kind).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/future.h"
#include "sim/simulator.h"
#include "sim/spec.h"

namespace keel::sim {

struct RunContext {
  Simulator& simulator;
  const SimSpec& spec;
  double fault_phase_end = 0;
  std::vector<SimProcess*> cluster;  // the topology's processes (the tester is not among them)
  SimProcess* tester = nullptr;
  size_t coordinators = 1;  // the first processes of `cluster` that are the coordinators
};

class Workload {
 public:
  virtual ~Workload() = default;
  // The boot function for processes of `kind`, or an empty function if not provided here.
  virtual BootFunction process_kind(const std::string& kind, size_t index) {
    (void)kind;
    (void)index;
    return {};
  }
  virtual Future<Void> setup() { return Void{}; }
  virtual Future<Void> start() = 0;
  // Problems found (empty: passed). Runs after faults stopped and the cluster healed.
  virtual Future<std::vector<std::string>> check() { return std::vector<std::string>{}; }
};

using WorkloadFactory = std::function<std::unique_ptr<Workload>(RunContext&, const Options&)>;

// Every workload and fault by name.
const std::map<std::string, WorkloadFactory>& workload_factories();

// Registration lists (workload_registry.cpp names them all explicitly).
std::unique_ptr<Workload> make_rpc_echo_workload(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_static_cluster(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_cycle(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_bank(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_serializability(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_read_your_writes(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_durability(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_coordination(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_watches(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_recovery_time(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_isolate_role(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_stale_read_version(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_change_coordinators(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_change_settings(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_move_data(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_throttling(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_attrition(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_random_clogging(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_partitions(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_clock_skew(RunContext& context, const Options& options);
std::unique_ptr<Workload> make_connection_failures(RunContext& context, const Options& options);

}  // namespace keel::sim
