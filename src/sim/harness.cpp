#include "sim/harness.h"

#include <fmt/format.h>

#include "runtime/combinators.h"
#include "runtime/knobs.h"
#include "server/worker/worker.h"
#include "runtime/trace.h"
#include "sim/workload.h"

namespace keel::sim {
namespace {

// Extra simulated time allowed beyond the fault and liveness phases before a run counts as stuck.
constexpr double run_slack_seconds = 60;

struct Outcome {
  Promise<Void> done;
  std::vector<std::string> problems;
};

bool decide_buggify(const SimSpec& spec, uint64_t seed) {
  if (spec.buggify == "on") return true;
  if (spec.buggify == "off") return false;
  return DeterministicRandom(seed ^ 0x5eedb066ULL).coin(0.5);
}

// Records an error a workload's start() ends with (cancellation at the end is not one).
Future<Void> watch_start(std::string name, Future<Void> started, Outcome* outcome) {
  try {
    co_await started;
  } catch (const Error& error) {
    outcome->problems.push_back(fmt::format("{} failed: {}", name, error.describe()));
  }
  co_return Void{};
}

struct Participant {
  std::string name;
  std::unique_ptr<Workload> workload;
  bool is_fault = false;
};

Future<Void> drive(RunContext* context, std::vector<Participant>* participants, Outcome* outcome) {
  for (Participant& participant : *participants) {
    Future<Void> setup = participant.workload->setup();
    co_await setup;
  }
  {
    std::vector<Future<Void>> running;
    for (Participant& participant : *participants) {
      running.push_back(watch_start(participant.name, participant.workload->start(), outcome));
    }
    co_await delay(context->fault_phase_end - now());
  }  // cancels whatever is still running: the faults stop here
  TraceEvent("SimFaultPhaseEnded");
  for (SimProcess* process : context->cluster) {
    if (!process->alive()) context->simulator.reboot(*process, KillKind::process, 0);
  }
  const double deadline = now() + context->spec.liveness_seconds;
  for (Participant& participant : *participants) {
    if (participant.is_fault) continue;
    Future<std::optional<std::vector<std::string>>> checked =
        timeout(participant.workload->check(), std::max(0.0, deadline - now()));
    std::optional<std::vector<std::string>> problems = co_await checked;
    if (!problems) {
      outcome->problems.push_back(fmt::format("{} check did not finish within the liveness bound of {}s",
                                              participant.name, context->spec.liveness_seconds));
      break;
    }
    for (std::string& problem : *problems) outcome->problems.push_back(participant.name + ": " + problem);
  }
  outcome->done.send(Void{});
  co_return Void{};
}

void apply_knobs(const SimSpec& spec) {
  declare_server_knobs();
  for (const auto& [name, value] : spec.knobs) {
    if (!knob_registry().set(name, value)) throw SpecError{fmt::format("{}: unknown knob '{}'", spec.path, name)};
  }
}

std::vector<Participant> make_participants(const SimSpec& spec, RunContext& context, RunResult& result) {
  std::vector<Participant> participants;
  auto add = [&](const WorkloadSpec& workload_spec, bool is_fault) {
    auto it = workload_factories().find(workload_spec.name);
    if (it == workload_factories().end()) {
      throw SpecError{fmt::format("{}: unknown workload '{}'", spec.path, workload_spec.name)};
    }
    const bool enabled = workload_spec.probability >= 1.0 || context.simulator.random().coin(workload_spec.probability);
    std::unique_ptr<Workload> workload = it->second(context, workload_spec.options);
    if (auto unused = workload_spec.options.unused(); !unused.empty()) {
      throw SpecError{fmt::format("{}: {} has no option '{}'", spec.path, workload_spec.name, unused.front())};
    }
    if (!enabled) return;
    result.enabled.push_back(workload_spec.name);
    participants.push_back(Participant{workload_spec.name, std::move(workload), is_fault});
  };
  for (const WorkloadSpec& workload_spec : spec.workloads) add(workload_spec, false);
  for (const WorkloadSpec& fault_spec : spec.faults) add(fault_spec, true);
  return participants;
}

BootFunction boot_function_for(const SimSpec& spec, std::vector<Participant>& participants, size_t index) {
  for (Participant& participant : participants) {
    if (BootFunction boot = participant.workload->process_kind(spec.process_kind, index)) return boot;
  }
  throw SpecError{fmt::format("{}: no workload provides process kind '{}'", spec.path, spec.process_kind)};
}

}  // namespace

RunResult run_simulation(const SimSpec& spec, uint64_t seed, const RunOptions& options) {
  RunResult result;
  result.buggify = decide_buggify(spec, seed);
  set_assertion_context(fmt::format("keel sim {} --seed {}", spec.path, seed));
  Outcome outcome;
  std::vector<Participant> participants;
  {
    Simulator simulator(seed, result.buggify);
    trace_log().set_output_file(options.trace_output);
    apply_knobs(spec);
    RunContext context{simulator, spec, spec.duration_seconds, {}, nullptr};
    participants = make_participants(spec, context, result);
    size_t index = 0;
    // Machines first and every slot reserved: a process may boot and look up its peers at once.
    for (int m = 0; m < spec.machines; ++m) simulator.add_machine(fmt::format("machine{}", m));
    context.cluster.resize(static_cast<size_t>(spec.machines * spec.processes_per_machine), nullptr);
    for (int m = 0; m < spec.machines; ++m) {
      for (int p = 0; p < spec.processes_per_machine; ++p, ++index) {
        SimMachine& machine = *simulator.machines()[static_cast<size_t>(m)];
        context.cluster[index] = &simulator.add_process(machine, fmt::format("{}{}", spec.process_kind, index),
                                                       boot_function_for(spec, participants, index));
      }
    }
    SimMachine& tester_machine = simulator.add_machine("tester");
    context.tester = &simulator.add_process(
        tester_machine, "tester", [&] { return drive(&context, &participants, &outcome); }, true);

    const double limit = spec.duration_seconds + spec.liveness_seconds + run_slack_seconds;
    const bool finished = simulator.run_until(outcome.done.get_future(), limit);
    if (!finished) {
      result.problems.push_back(fmt::format("the run did not finish by simulated time {:.1f}s ({})", limit,
                                            simulator.scheduler().empty() ? "nothing left to run: stuck" : "time limit"));
    }
    for (std::string& problem : outcome.problems) result.problems.push_back(std::move(problem));
    result.simulated_seconds = now();
    result.tasks_run = simulator.scheduler().tasks_run();
    result.kills = simulator.kills();
    result.fingerprint = simulator.fingerprint();
    if (trace_log().error_count() > 0) {
      result.problems.push_back(fmt::format("{} trace events of severity error", trace_log().error_count()));
      for (const std::string& event : trace_log().first_errors()) result.problems.push_back("  " + event);
    }
  }  // the simulator goes first: its processes' coroutines still refer to the workloads
  trace_log().set_output_file(nullptr);
  set_assertion_context("");
  result.passed = result.problems.empty();
  return result;
}

}  // namespace keel::sim
