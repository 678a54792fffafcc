#include "runtime/knobs.h"

#include <algorithm>

#include "runtime/assert.h"

namespace keel {

void KnobRegistry::declare(std::string name, double* value, std::vector<double> alternatives) {
  auto same_name = [&](const Knob& knob) { return knob.name == name; };
  KEEL_ASSERT(std::none_of(knobs_.begin(), knobs_.end(), same_name));
  knobs_.push_back(Knob{std::move(name), value, *value, std::move(alternatives)});
  std::sort(knobs_.begin(), knobs_.end(),
            [](const Knob& a, const Knob& b) { return a.name < b.name; });
}

bool KnobRegistry::set(std::string_view name, double value) {
  for (Knob& knob : knobs_) {
    if (knob.name == name) {
      *knob.value = value;
      return true;
    }
  }
  return false;
}

void KnobRegistry::reset_defaults() {
  for (Knob& knob : knobs_) *knob.value = knob.default_value;
}

void KnobRegistry::randomize(DeterministicRandom& random) {
  for (Knob& knob : knobs_) {
    if (!knob.alternatives.empty() && random.coin(0.25)) {
      const auto choice = random.random_int(0, static_cast<int64_t>(knob.alternatives.size()));
      *knob.value = knob.alternatives[static_cast<size_t>(choice)];
    }
  }
}

std::vector<std::pair<std::string, double>> KnobRegistry::values() const {
  std::vector<std::pair<std::string, double>> result;
  for (const Knob& knob : knobs_) result.emplace_back(knob.name, *knob.value);
  return result;
}

KnobRegistry& knob_registry() {
  static KnobRegistry registry;
  return registry;
}

}  // namespace keel
