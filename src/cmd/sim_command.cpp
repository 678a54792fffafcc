// `keel sim SPEC --seed N | --seeds A..B`: runs simulation tests (docs/simulation.md).
#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "cmd/commands.h"
#include "runtime/error.h"
#include "sim/harness.h"

namespace keel::cmd {
namespace {

struct SimOptions {
  std::string spec_path;
  uint64_t seed = 1;
  std::string seeds;
  uint64_t determinism_every = 0;
  std::string trace_path;
  bool verbose = false;
};

// A command-line option with a value that cannot be used (not a problem of the spec).
struct OptionError {
  std::string message;
};

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses "A..B" (inclusive).
std::pair<uint64_t, uint64_t> parse_range(const std::string& text) {
  const size_t dots = text.find("..");
  try {
    if (dots == std::string::npos) throw std::invalid_argument("no ..");
    if (!all_digits(text.substr(0, dots)) || !all_digits(text.substr(dots + 2))) throw std::invalid_argument("sign");
    const uint64_t first = std::stoull(text.substr(0, dots));
    const uint64_t last = std::stoull(text.substr(dots + 2));
    if (last < first) throw std::invalid_argument("empty");
    return {first, last};
  } catch (const std::exception&) {
    throw OptionError{fmt::format("--seeds wants A..B with A <= B, not '{}'", text)};
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void print_failure(const SimOptions& options, uint64_t seed, const sim::RunResult& result) {
  fmt::print("FAIL {} seed {} (buggify {}):\n", options.spec_path, seed, result.buggify ? "on" : "off");
  for (const std::string& problem : result.problems) fmt::print("  {}\n", problem);
  fmt::print("Reproduce: keel sim {} --seed {}\n", options.spec_path, seed);
}

// Runs one seed (twice when checking determinism); true if it passed.
bool run_seed(const SimOptions& options, const sim::SimSpec& spec, uint64_t seed, bool check_determinism,
              std::FILE* trace) {
  const auto start = std::chrono::steady_clock::now();
  sim::RunResult result = sim::run_simulation(spec, seed, sim::RunOptions{trace});
  const double wall = seconds_since(start);
  if (result.passed && check_determinism) {
    const sim::RunResult again = sim::run_simulation(spec, seed, sim::RunOptions{nullptr});
    if (again.fingerprint != result.fingerprint) {
      result.passed = false;
      result.problems.push_back(fmt::format("nondeterminism: fingerprint {:#018x} then {:#018x} for the same seed",
                                            result.fingerprint, again.fingerprint));
    }
  }
  if (!result.passed) {
    print_failure(options, seed, result);
    return false;
  }
  if (options.verbose || options.seeds.empty()) {
    fmt::print("PASS {} seed {} (buggify {}, {}): {:.1f} simulated s, {} tasks, {} kills, fingerprint {:#018x}{}, "
               "{:.2f} s wall\n",
               options.spec_path, seed, result.buggify ? "on" : "off", fmt::join(result.enabled, "+"),
               result.simulated_seconds, result.tasks_run, result.kills, result.fingerprint,
               check_determinism ? " (rerun: same)" : "", wall);
  }
  return true;
}

int run(const SimOptions& options) {
  const sim::SimSpec spec = read_sim_spec(options.spec_path);
  uint64_t first = options.seed;
  uint64_t last = options.seed;
  if (!options.seeds.empty()) std::tie(first, last) = parse_range(options.seeds);
  std::FILE* trace = nullptr;
  if (!options.trace_path.empty()) {
    trace = std::fopen(options.trace_path.c_str(), "w");
    if (trace == nullptr) throw OptionError{fmt::format("--trace {}: cannot write the file", options.trace_path)};
    std::setvbuf(trace, nullptr, _IOLBF, 1 << 16);  // whole lines survive an assertion failure
  }
  fmt::print("keel sim: {} ({}), seeds {}..{}\n", options.spec_path, spec.title, first, last);
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  uint64_t passed = 0;
  uint64_t rechecked = 0;
  for (uint64_t seed = first;; ++seed) {  // (seed <= last would never end at the largest seed)
    const bool check = options.determinism_every > 0 && (seed - first) % options.determinism_every == 0;
    if (!run_seed(options, spec, seed, check, trace)) {
      if (trace) std::fclose(trace);
      fmt::print("sim: {} passed, 1 failed\n", passed);
      return 1;
    }
    ++passed;
    rechecked += check ? 1 : 0;
    std::fflush(stdout);
    if (seed == last) break;
  }
  if (trace) std::fclose(trace);
  fmt::print("keel sim: {} seeds passed ({} rerun for determinism) in {:.1f} s wall\n", passed, rechecked,
             seconds_since(start));
  return 0;
}

}  // namespace

Command add_sim_command(CLI::App& app) {
  auto options = std::make_shared<SimOptions>();
  CLI::App* sim = app.add_subcommand("sim", "Run a simulation test spec (TOML) with one seed or a range of seeds");
  sim->add_option("spec", options->spec_path, "Path of the spec, e.g. tests/sim/fast/rpc_echo.toml")
      ->required()
      ->check(CLI::ExistingFile);
  auto* seed = sim->add_option("--seed", options->seed, "Run this one seed")
                   ->capture_default_str()
                   ->check(CLI::Validator(
                       [](std::string& text) {
                         return all_digits(text) ? std::string() : "a seed is a number from 0, got `" + text + "'";
                       },
                       "SEED"));
  sim->add_option("--seeds", options->seeds, "Run seeds A..B (inclusive); stops at the first failure")
      ->excludes(seed);
  sim->add_option("--determinism-every", options->determinism_every,
                  "Rerun every K-th seed and require the same fingerprint (0: never)");
  sim->add_option("--trace", options->trace_path, "Write the trace events (JSON lines) to this file");
  sim->add_flag("--verbose", options->verbose, "Print a line for every passing seed");
  return {sim, [options] { return reporting_spec_errors([&] { return run(*options); }); }};
}

sim::SimSpec read_sim_spec(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw sim::SpecError{fmt::format("{}: cannot read the spec file", path)};
  std::stringstream contents;
  contents << in.rdbuf();
  return sim::parse_spec(contents.str(), path);
}

int reporting_spec_errors(const std::function<int()>& run) {
  try {
    return run();
  } catch (const sim::SpecError& error) {
    fmt::print(stderr, "keel: {}: {}\n", Error(errc::test_specification_invalid).describe(), error.message);
  } catch (const OptionError& error) {
    fmt::print(stderr, "keel: {}: {}\n", Error(errc::invalid_option_value).describe(), error.message);
  }
  return 2;
}

}  // namespace keel::cmd
