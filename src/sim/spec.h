// SimSpec: a simulation test, parsed from a TOML file (format: docs/simulation.md).
//
// A spec names the simulated topology (machines, processes per machine, what each process
// runs), the correctness workloads that run concurrently in a protected tester process, the
// fault workloads, the length of the fault phase and the bound on the liveness (check) phase
// that follows, buggify, and knob overrides.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace keel::sim {

// The options of one workload or fault, as written in the spec. Reading an option marks it
// used; `unused()` lists the rest, so a misspelt option is an error rather than silently ignored.
class Options {
 public:
  double number(const std::string& key, double default_value) const;
  std::string text(const std::string& key, const std::string& default_value) const;
  std::vector<std::string> unused() const;

  std::map<std::string, double> numbers;
  std::map<std::string, std::string> texts;

 private:
  mutable std::set<std::string> used_;
};

struct WorkloadSpec {
  std::string name;
  // Swarm testing: each seed enables this workload with this probability.
  double probability = 1.0;
  Options options;
};

struct SimSpec {
  std::string path;
  std::string title;
  double duration_seconds = 30;
  double liveness_seconds = 30;
  std::string buggify = "random";  // "on", "off" or "random" (decided per seed)
  int machines = 3;
  int processes_per_machine = 1;
  std::string process_kind;
  std::vector<WorkloadSpec> workloads;
  std::vector<WorkloadSpec> faults;
  std::map<std::string, double> knobs;
};

// Thrown for an invalid spec (error code test_specification_invalid); says what is wrong.
struct SpecError {
  std::string message;
};

// Parses a spec; throws SpecError naming the problem.
SimSpec parse_spec(const std::string& toml_text, const std::string& path);

}  // namespace keel::sim
