#include "server/coordinator/generation_register.h"

#include "runtime/assert.h"

namespace keel {

GenerationRegister::GenerationRegister(GenerationRegisterState state) : state_(std::move(state)) { check_invariants(); }

RegisterReadReply GenerationRegister::read(const Generation& generation) {
  KEEL_ASSERT(!is_initial(generation));  // proposers start counters at 1
  if (generation > state_.read_generation) state_.read_generation = generation;
  check_invariants();
  return RegisterReadReply{state_.value, state_.write_generation, state_.read_generation};
}

RegisterWriteReply GenerationRegister::write(const Generation& generation, const std::string& value) {
  KEEL_ASSERT(!is_initial(generation));
  const bool fenced = generation < state_.read_generation || generation < state_.write_generation;
  // The same generation again is a retransmission of the same proposal; a different value at
  // an accepted generation would break "one value per generation", so it is refused.
  const bool clash = generation == state_.write_generation && value != state_.value;
  if (fenced || clash) return RegisterWriteReply{false, state_.read_generation};
  state_.write_generation = generation;
  state_.read_generation = generation;
  state_.value = value;
  check_invariants();
  return RegisterWriteReply{true, state_.read_generation};
}

void GenerationRegister::check_invariants() const {
  KEEL_ASSERT(state_.write_generation <= state_.read_generation);
  KEEL_ASSERT(!is_initial(state_.write_generation) || state_.value.empty());
}

}  // namespace keel
