#include "cmd/knob_settings.h"

#include <cstdlib>

#include <fmt/format.h>

#include "client/client_knobs.h"
#include "frontend/resp/resp_knobs.h"
#include "runtime/knobs.h"
#include "server/worker/worker.h"

namespace keel::cmd {

std::optional<std::string> apply_knob_settings(const std::vector<std::string>& settings) {
  client_knobs();
  declare_server_knobs();
  resp_knobs();
  for (const std::string& setting : settings) {
    const size_t equals = setting.find('=');
    if (equals == std::string::npos) return fmt::format("--knob {}: expected NAME=VALUE", setting);
    const std::string name = setting.substr(0, equals);
    const std::string text = setting.substr(equals + 1);
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end == nullptr || *end != '\0') {
      return fmt::format("--knob {}: '{}' is not a number", name, text);
    }
    if (!knob_registry().set(name, value)) {
      return fmt::format("--knob {}: no knob has that name (docs/runtime.md, Knobs)", name);
    }
  }
  return std::nullopt;
}

}  // namespace keel::cmd
