// keel bench sim: how fast the simulator runs: simulated tasks (events) per wall-clock second
// and simulated seconds per wall second, over a few seeds of a spec.
#include <chrono>

#include <fmt/format.h>

#include "bench/benches.h"
#include "sim/harness.h"

namespace keel::bench {

int run_sim_bench(const SimBenchOptions& options, const sim::SimSpec& spec) {
  uint64_t tasks = 0;
  double simulated = 0;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t seed = 1; seed <= options.seeds; ++seed) {
    const sim::RunResult result = sim::run_simulation(spec, seed);
    if (!result.passed) {
      fmt::print("keel bench sim: seed {} failed; run `keel sim {} --seed {}`\n", seed, options.spec_path, seed);
      return 1;
    }
    tasks += result.tasks_run;
    simulated += result.simulated_seconds;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("keel bench sim: {} ({} processes), {} seeds\n", options.spec_path,
             spec.machines * spec.processes_per_machine, options.seeds);
  fmt::print("  {:.0f} simulated tasks per wall second ({} tasks in {:.2f} s)\n", static_cast<double>(tasks) / wall,
             tasks, wall);
  fmt::print("  {:.0f} simulated seconds per wall second, {:.3f} wall s per seed\n", simulated / wall,
             wall / static_cast<double>(options.seeds));
  return 0;
}

}  // namespace keel::bench
