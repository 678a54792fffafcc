// keel: the one KeelDB binary. `keel --help` lists the subcommands.
#include <cstdio>
#include <string>
#include <vector>

#include "cmd/commands.h"
#include "runtime/error.h"

int main(int argc, char** argv) {
  CLI::App app{"KeelDB: a strictly serializable, fault-tolerant, ordered key-value store"};
  app.require_subcommand(1);
  const std::vector<keel::cmd::Command> commands = {
      keel::cmd::add_version_command(app),
      keel::cmd::add_server_command(app),
      keel::cmd::add_cli_command(app),
      keel::cmd::add_echo_command(app),
      keel::cmd::add_sim_command(app),
      keel::cmd::add_bench_command(app),
  };
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    bool known = false;
    std::string names;
    for (const keel::cmd::Command& command : commands) {
      known = known || command.subcommand->get_name() == word;
      names += (names.empty() ? "" : ", ") + command.subcommand->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "keel: unknown command `%s' (commands: %s; see keel --help)\n", word.c_str(), names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version print and exit 0; every other problem with the command line is a
    // usage error, exit status 2 (CLI11 would exit with its own internal numbers).
    const int status = app.exit(error);
    return status == 0 ? 0 : 2;
  }
  for (const keel::cmd::Command& command : commands) {
    if (command.subcommand->parsed()) {
      try {
        return command.run();
      } catch (const keel::Error& error) {
        std::fprintf(stderr, "keel: %s\n", error.describe().c_str());
        return 1;
      }
    }
  }
  return 0;
}
