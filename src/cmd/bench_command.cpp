// `keel bench rpc|sim`: the benchmarks of bench/ (they measure; they assert nothing).
#include <unistd.h>

#include <climits>

#include "bench/benches.h"
#include "cmd/commands.h"

namespace keel::cmd {
namespace {

std::string own_executable() {
  char path[PATH_MAX] = {};
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return length > 0 ? std::string(path, static_cast<size_t>(length)) : std::string("keel");
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto rpc = std::make_shared<bench::RpcBenchOptions>();
  auto simulation = std::make_shared<bench::SimBenchOptions>();
  simulation->spec_path = "tests/sim/fast/rpc_echo.toml";
  CLI::App* bench_command = app.add_subcommand("bench", "Benchmarks (see bench/README.md)");
  bench_command->require_subcommand(1);
  CLI::App* rpc_command = bench_command->add_subcommand("rpc", "Loopback RPC round trips vs a raw-socket ping-pong");
  rpc_command->add_option("--round-trips", rpc->round_trips, "Round trips per measurement")
      ->capture_default_str()->check(CLI::Range(64, 100000000));
  rpc_command->add_option("--rounds", rpc->rounds, "Measurements per configuration (median)")
      ->capture_default_str()->check(CLI::Range(1, 100));
  rpc_command->add_option("--size", rpc->payload_bytes, "Payload bytes")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  CLI::App* sim_command = bench_command->add_subcommand("sim", "Simulated events per wall-clock second");
  sim_command->add_option("--spec", simulation->spec_path, "Spec to run")->capture_default_str()->check(CLI::ExistingFile);
  sim_command->add_option("--seeds", simulation->seeds, "Seeds to run")->capture_default_str()->check(CLI::Range(1, 100000));
  return {bench_command, [rpc, simulation, rpc_command] {
            if (rpc_command->parsed()) {
              rpc->keel_binary = own_executable();
              return bench::run_rpc_bench(*rpc);
            }
            return bench::run_sim_bench(*simulation);
          }};
}

}  // namespace keel::cmd
