// GenerationRegister: one coordinator's share of the core state, as a pure state machine (no I/O,
// no time). Reading and writing it are the two phases of single-decree Paxos; the coordinated
// state client (coordinated_state.h) runs them against a majority of coordinators.
//
// State: (read_generation, write_generation, value).
// - read(g): a promise. If g > read_generation, read_generation = g. The reply is the state
//   after the step: (value, write_generation, read_generation). The read "holds" for the reader
//   only if the reply's read_generation equals g.
// - write(g, v): accepted iff g >= read_generation and g >= write_generation; then
//   write_generation = read_generation = g and value = v. Else rejected, with read_generation
//   (the promise that fenced it out). A second write at the generation already accepted must
//   carry the same value: generations are unique per proposal, so a different value means two
//   proposers share a generation (a bug), and the write is rejected.
//
// Invariants (check_invariants):
// - write_generation <= read_generation;
// - both generations only grow, across every step and every restart (the shell persists the
//   state before it replies, so no reply ever reflects a state that a crash could take back);
// - value is "" while write_generation is zero (nothing accepted yet).
//
// Why this is enough for the coordinated state (docs/coordination.md has the argument): a write
// at g accepted by a majority M, and a later read at g' > g answered by a majority M', meet at a
// coordinator that accepted g before promising g' (had it promised first, it would have rejected
// g). So the reader sees a write generation >= g and, by induction on generations, adopts a value
// that extends the one written at g.
#pragma once

#include <string>

#include "protocol/coordinator_interface.h"

namespace keel {

struct GenerationRegisterState {
  Generation read_generation;
  Generation write_generation;
  std::string value;
  // Kept beside the register by the coordinator shell, not stepped by it: the connection
  // string this set moved to ("" while it has not), which retires the register.
  std::string forward;
  bool operator==(const GenerationRegisterState&) const = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(read_generation, write_generation, value, forward);
  }
};

class GenerationRegister {
 public:
  GenerationRegister() = default;
  // Resumes from a persisted state (asserts its invariants).
  explicit GenerationRegister(GenerationRegisterState state);

  RegisterReadReply read(const Generation& generation);
  RegisterWriteReply write(const Generation& generation, const std::string& value);

  const GenerationRegisterState& state() const { return state_; }
  // Asserts the invariants above (cheap: called after every step).
  void check_invariants() const;

 private:
  GenerationRegisterState state_;
};

// True for a generation no proposer ever uses (all zero): "nothing accepted yet".
inline bool is_initial(const Generation& generation) { return generation == Generation{}; }

}  // namespace keel
