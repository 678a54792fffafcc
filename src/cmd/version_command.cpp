#include <fmt/format.h>

#include "cmd/commands.h"
#include "rpc/transport.h"
#include "world/process_memory.h"

namespace keel::cmd {

Command add_version_command(CLI::App& app) {
  CLI::App* version = app.add_subcommand("version", "Print the version and the wire protocol version");
  return {version, [] {
            fmt::print("keel {} (protocol {:#018x})\nheap allocator: {}\n", KEEL_VERSION, protocol_version,
                       heap_allocator());
            return 0;
          }};
}

}  // namespace keel::cmd
