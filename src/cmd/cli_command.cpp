// `keel cli`: the interactive shell of KeelDB, after fdbcli. Reads commands from stdin (prompt
// `keel> `) or runs `--exec "cmd; cmd"`, each command on one RealWorld event loop for the whole
// session (the loop runs on while a line is read, so connections stay alive between commands).
// With --exec it stops at the first failing command; exit status 0 only if every one succeeded.
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "client/database.h"
#include "client/database_state.h"
#include "cmd/cli_session.h"
#include "cmd/commands.h"
#include "protocol/cluster_file.h"
#include "runtime/combinators.h"
#include "world/real_world.h"

namespace keel::cmd {
namespace {

struct CliOptions {
  std::string cluster_file = "keel.cluster";
  std::string exec;
  bool exec_given = false;
  double timeout_seconds = 5;
};

// Opens the database named by the cluster file; prints the error (naming the file) on failure.
std::optional<Database> open_database(RealWorld& world, const CliOptions& options) {
  Future<Database> opened = timeout_error(Database::open(options.cluster_file), options.timeout_seconds);
  world.run(ready(opened));
  if (!opened.is_error()) return opened.get();
  const bool short_timeout = opened.error().code() == errc::timed_out && options.timeout_seconds < short_timeout_seconds;
  fmt::print(stderr, "ERROR: {} (cluster file: {}{})\n", opened.error().describe(), options.cluster_file,
             short_timeout ? fmt::format("; --timeout {:g} s may be too short", options.timeout_seconds) : "");
  return std::nullopt;
}

// Runs the commands of one line; false at the first that fails (the rest are not run) or on a
// syntax error.
bool run_line(RealWorld& world, CliSession& session, const std::string& line) {
  std::vector<CliCommandTokens> commands;
  try {
    commands = parse_cli_line(line);
  } catch (const CliSyntaxError& error) {
    fmt::print(stderr, "{}\n", cli_error_line(errc::invalid_command, error.message));
    return false;
  }
  for (CliCommandTokens& tokens : commands) {
    Future<bool> done = session.execute(std::move(tokens));
    world.run(ready(done));
    if (done.is_error()) {
      fmt::print(stderr, "ERROR: {}\n", done.error().describe());
      return false;
    }
    if (!done.get()) return false;
    if (session.exit_requested()) return true;
  }
  return true;
}

void warn_if_uncommitted(const CliSession& session) {
  if (session.in_transaction()) fmt::print(stderr, "WARNING: the open transaction was not committed\n");
}

int run_exec(RealWorld& world, CliSession& session, const std::string& line) {
  const bool succeeded = run_line(world, session, line);
  warn_if_uncommitted(session);
  return succeeded ? 0 : 1;
}

// Reads one line of stdin on a blocking thread while the loop runs on: the session's
// connections keep answering the cluster's pings, so a transaction stays open between lines
// for as long as the cluster allows one (5 s), however long the user takes to type. Nullopt at
// the end of the input.
std::optional<std::string> read_line(RealWorld& world) {
  auto line = std::make_shared<std::optional<std::string>>();
  Future<Void> read = world.run_blocking([line] {
    std::string text;
    if (std::getline(std::cin, text)) *line = std::move(text);
  });
  world.run(ready(read));
  return *line;
}

int run_interactive(RealWorld& world, CliSession& session) {
  while (!session.exit_requested()) {
    fmt::print("keel> ");
    std::fflush(stdout);
    const std::optional<std::string> line = read_line(world);
    if (!line) {
      fmt::print("\n");
      break;
    }
    run_line(world, session, *line);
  }
  warn_if_uncommitted(session);
  return 0;
}

// `--exec` of nothing but `help` commands prints the help without a cluster (before one runs,
// or with a cluster file that is not there yet); nullopt when the line has other commands.
std::optional<int> run_help_only(const std::string& line) {
  std::vector<CliCommandTokens> commands;
  try {
    commands = parse_cli_line(line);
  } catch (const CliSyntaxError&) {
    return std::nullopt;  // the session reports it
  }
  const bool help_only = !commands.empty() && std::all_of(commands.begin(), commands.end(), [](const CliCommandTokens& tokens) {
    return tokens.front().is_keyword("help");
  });
  if (!help_only) return std::nullopt;
  for (const CliCommandTokens& tokens : commands) {
    try {
      fmt::print("{}", cli_help_text(parse_cli_request(tokens).topic));
    } catch (const CliUsageError& error) {
      fmt::print(stderr, "{}\n", error.message);
      return 1;
    }
  }
  return 0;
}

int run_cli(const CliOptions& options) {
  if (options.exec_given) {
    if (const std::optional<int> status = run_help_only(options.exec)) return *status;
  }
  RealWorld world;
  std::optional<Database> database = open_database(world, options);
  if (!database) return 1;
  CliSession session(*database, options.timeout_seconds, stdout, stderr);
  if (options.exec_given) return run_exec(world, session, options.exec);
  const std::vector<NetworkAddress>& coordinators = database->state()->connection->get().coordinators;
  fmt::print("Using cluster file `{}' ({} {}). Type `help' for the commands.\n", options.cluster_file,
             coordinators.size() == 1 ? "coordinator" : "coordinators", describe_addresses(coordinators));
  return run_interactive(world, session);
}

}  // namespace

Command add_cli_command(CLI::App& app) {
  auto options = std::make_shared<CliOptions>();
  CLI::App* cli = app.add_subcommand("cli", "Interactive shell: get, set, getrange, transactions, status");
  cli->add_option("-C,--cluster-file", options->cluster_file, "Cluster file of the database")->capture_default_str();
  cli->add_option("--exec", options->exec, "Run these commands (separated by `;') and exit");
  cli->add_option("--timeout", options->timeout_seconds, "Seconds before a command gives up")
      ->capture_default_str()
      ->check(positive_seconds());
  return {cli, [options, cli] {
            options->exec_given = cli->count("--exec") > 0;
            return run_cli(*options);
          }};
}

}  // namespace keel::cmd
