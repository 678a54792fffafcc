// The commands of `keel cli`: their table (name, usage, one-line help) and the parsing of one
// command's tokens into a CliRequest. Pure: executing a request is CliSession's job.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cmd/cli_escape.h"
#include "protocol/types.h"
#include "world/network_address.h"

namespace keel::cmd {

inline constexpr int getrange_limit_default = 25;
inline constexpr int getrange_limit_max = 10'000;

enum class CliVerb {
  get,
  set,
  clear,
  clearrange,
  getrange,
  getkey,
  begin,
  commit,
  rollback,
  writemode,
  status,
  coordinators,
  configure,
  exclude,
  include,
  help,
  exit
};

struct CliRequest {
  CliVerb verb = CliVerb::help;
  Key key;           // get, set, clear; getrange and clearrange: the range begin
  Key end;           // getrange, clearrange: the range end
  Value value;       // set
  KeySelector selector;  // getkey
  int limit = getrange_limit_default;
  bool reverse = false;
  bool writemode_on = false;
  std::string topic;  // help COMMAND
  bool json = false;  // status json
  std::vector<NetworkAddress> addresses;  // coordinators, exclude, include: ADDR...
  bool automatic = false;                 // coordinators auto
  bool all = false;                       // include all
  // configure: counts (0: unchanged), the replication and engine named ("": not named), `new`.
  int32_t tlogs = 0;
  int32_t proxies = 0;
  int32_t resolvers = 0;
  int32_t replication = 0;
  std::string engine;
  bool configure_new = false;
};

// Whether the command administers the cluster (cli_admin.cpp): coordinators, configure,
// exclude, include.
bool is_admin(CliVerb verb);

struct CliCommandInfo {
  std::string_view name;
  CliVerb verb;
  std::string_view usage;
  std::string_view summary;
};

// Every command, in the order `help` lists them (`quit` is an alias of `exit`).
const std::vector<CliCommandInfo>& cli_command_table();

// A wrong argument count or bad argument, with the usage to show.
struct CliUsageError {
  std::string message;
};

// "ERROR: name (code): problem", how the cli prints a command it refuses.
std::string cli_error_line(int code, std::string_view problem);

// Parses one command (tokens as parse_cli_line gives them; not empty). Throws CliUsageError.
CliRequest parse_cli_request(const CliCommandTokens& tokens);

// `help` (every command) or `help COMMAND`.
std::string cli_help_text(std::string_view topic);

// True for commands that write (refused unless writemode is on).
bool is_write(CliVerb verb);

}  // namespace keel::cmd
