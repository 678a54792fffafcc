#include <fmt/format.h>

#include "cmd/commands.h"
#include "rpc/transport.h"

namespace keel::cmd {

Command add_version_command(CLI::App& app) {
  CLI::App* version = app.add_subcommand("version", "Print the version and the wire protocol version");
  return {version, [] {
            fmt::print("keel {} (protocol {:#018x})\n", KEEL_VERSION, protocol_version);
            return 0;
          }};
}

}  // namespace keel::cmd
