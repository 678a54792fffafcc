// Knobs: runtime-tunable settings, as opposed to hard limits (constants, `*_max`).
//
// Each module keeps its knobs in a plain struct and declares every field to the process-wide
// KnobRegistry with its default and the alternative values simulation may pick. Simulation
// resets all knobs to their defaults at the start of a run, then randomizes some (each knob with
// probability 1/4 takes one of its alternatives) when the run has buggify on. A spec or a
// command line can set a knob by name.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/random.h"

namespace keel {

class KnobRegistry {
 public:
  void declare(std::string name, double* value, std::vector<double> alternatives);
  // Sets a knob by name; false if no knob has that name.
  bool set(std::string_view name, double value);
  void reset_defaults();
  void randomize(DeterministicRandom& random);
  // Every knob and its current value, ordered by name.
  std::vector<std::pair<std::string, double>> values() const;

 private:
  struct Knob {
    std::string name;
    double* value;
    double default_value;
    std::vector<double> alternatives;
  };
  std::vector<Knob> knobs_;
};

KnobRegistry& knob_registry();

}  // namespace keel
