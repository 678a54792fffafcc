// `--knob NAME=VALUE` settings, shared by `keel server` and `keel bench db`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace keel::cmd {

// Declares every knob of this binary (client, roles, engines, RESP front end), then sets each
// NAME=VALUE in order. Stops at the first setting that names no knob or whose value is not a
// number, and returns a message saying which; nullopt when all were set.
std::optional<std::string> apply_knob_settings(const std::vector<std::string>& settings);

}  // namespace keel::cmd
