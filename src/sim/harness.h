// The simulation harness: runs one spec with one seed and says whether it passed.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/spec.h"

namespace keel::sim {

struct RunOptions {
  std::FILE* trace_output = nullptr;  // print trace events here (null: only hash and count them)
};

struct RunResult {
  bool passed = false;
  std::vector<std::string> problems;
  uint64_t fingerprint = 0;
  bool buggify = false;
  double simulated_seconds = 0;
  uint64_t tasks_run = 0;
  uint64_t kills = 0;
  std::vector<std::string> enabled;  // workloads and faults this seed enabled
};

// Runs `spec` with `seed`. Throws SpecError for a spec that names unknown workloads, options,
// process kinds or knobs.
RunResult run_simulation(const SimSpec& spec, uint64_t seed, const RunOptions& options = {});

}  // namespace keel::sim
