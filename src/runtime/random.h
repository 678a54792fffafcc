// Randomness. Two sources, never mixed (CONVENTIONS.md, Determinism):
// - DeterministicRandom: seeded, for every decision that must replay in simulation.
// - nondeterministic_unique_id(): for debug ids only, never for control flow.
//
// buggify(): in simulation, each call site is enabled for the whole run with probability
// `site_probability` (decided at its first call), and an enabled site fires with probability
// `fire_probability` per call. Outside simulation it is always false.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace keel {

// xoshiro256** seeded through splitmix64: fast, small state, good statistical quality.
class DeterministicRandom {
 public:
  explicit DeterministicRandom(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, 1).
  double random01();
  // Uniform in [low, high); high > low.
  int64_t random_int(int64_t low, int64_t high);
  bool coin(double probability_true) { return random01() < probability_true; }
  // Exponentially distributed with the given mean.
  double random_exponential(double mean);
  std::string random_bytes(size_t length);

 private:
  uint64_t state_[4];
};

// The current thread's deterministic random source (installed by the world).
DeterministicRandom& deterministic_random();
void set_deterministic_random(DeterministicRandom* random);

uint64_t nondeterministic_unique_id();

class Buggify {
 public:
  Buggify(DeterministicRandom& random, double site_probability, double fire_probability)
      : random_(random), site_probability_(site_probability), fire_probability_(fire_probability) {}
  bool check(const char* file, uint32_t line);
  size_t sites_enabled() const;

 private:
  DeterministicRandom& random_;
  double site_probability_;
  double fire_probability_;
  std::map<std::pair<std::string, uint32_t>, bool> sites_;
};

// Installed by the simulator for the length of a run; null (buggify off) otherwise.
void set_buggify(Buggify* buggify);
// The default arguments name the call site (std::source_location is missing from clang 14).
bool buggify(const char* file = __builtin_FILE(), uint32_t line = __builtin_LINE());

}  // namespace keel
