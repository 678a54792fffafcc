// `--knob NAME=VALUE` settings, shared by `keel server` and `keel bench db`.
#pragma once

#include <string>
#include <vector>

namespace keel::cmd {

// A setting that names no knob, or whose value is not a number; the message says which.
struct KnobSettingError {
  std::string message;
};

// Declares every knob of this binary (client, roles, engines, RESP front end), then sets each
// NAME=VALUE in order. Throws KnobSettingError at the first bad one.
void apply_knob_settings(const std::vector<std::string>& settings);

}  // namespace keel::cmd
