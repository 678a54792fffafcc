// The subcommands of the `keel` binary. Each adds itself to the CLI11 app and runs when chosen;
// a command's run function returns the process exit code.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "sim/spec.h"

namespace keel::cmd {

// Accepts a positive number of seconds, up to a day, and says so when it is not one
// (CLI::PositiveNumber's message names a range up to the largest double, 0 included).
inline CLI::Validator positive_seconds() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double seconds = 0;
        size_t used = 0;
        try {
          seconds = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != text.size() || !(seconds > 0 && seconds <= 86400)) {
          return "must be a number of seconds above 0 and at most 86400, such as 5 or 0.5; got `" + text + "'";
        }
        return std::string();
      },
      "SECONDS");
}

// A registered subcommand; `run` is called after parsing when it was chosen.
struct Command {
  CLI::App* subcommand;
  std::function<int()> run;
};

Command add_version_command(CLI::App& app);
Command add_echo_command(CLI::App& app);
Command add_sim_command(CLI::App& app);
// Reads and parses a simulation spec file; throws sim::SpecError (also when it cannot be read).
sim::SimSpec read_sim_spec(const std::string& path);
// Runs `run`; a spec that cannot be used, or a bad option of a simulation command, is printed
// with its error code (exit status 2).
int reporting_spec_errors(const std::function<int()>& run);
Command add_bench_command(CLI::App& app);
Command add_server_command(CLI::App& app);
Command add_cli_command(CLI::App& app);

}  // namespace keel::cmd
