// The subcommands of the `keel` binary. Each adds itself to the CLI11 app and runs when chosen;
// a command's run function returns the process exit code.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace keel::cmd {

// A registered subcommand; `run` is called after parsing when it was chosen.
struct Command {
  CLI::App* subcommand;
  std::function<int()> run;
};

Command add_version_command(CLI::App& app);
Command add_echo_command(CLI::App& app);
Command add_sim_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_server_command(CLI::App& app);
Command add_cli_command(CLI::App& app);

}  // namespace keel::cmd
