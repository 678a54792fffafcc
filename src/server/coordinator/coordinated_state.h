// CoordinatedState: the client of the coordinators' generation registers. It reads and writes
// one value (the core state) through a majority of coordinators, as single-decree Paxos:
//
// - read(): phase 1. Picks a generation above every one it has seen and asks every coordinator
//   to promise it; once a majority promised, adopts the value with the highest write generation
//   among their replies. A coordinator that had promised a higher generation makes the attempt
//   retry with a higher one (after a random back-off), up to coordinated_read_attempts_max
//   attempts; then coordinated_state_conflict. If no majority answers, timed_out.
// - write(value): phase 2 at the read's generation (the k-th write after one read uses sequence
//   k). Succeeds once a majority accepted. Otherwise coordinated_state_conflict: a newer reader
//   fenced this writer out, or too few coordinators answered. A failed write's outcome is
//   unknown, like any Paxos proposal: it may have reached some coordinators, and a later read
//   may adopt it. After a failed write, write() needs a new read(). A value over
//   coordinated_value_bytes_max fails with value_too_large (and leaves the read usable).
//
// Guarantee (docs/coordination.md): if a write succeeded, every later read returns that value or
// the value of a later write whose proposer had read it (or a value derived from it).
//
// A coordinator that answers coordinators_changed (the set moved: docs/coordination.md) makes
// either phase fail with coordinators_changed at once.
//
// Requests to one coordinator end after coordinator_request_timeout_seconds; a minority that is
// down, partitioned or slow never blocks either phase. Not for concurrent use: one operation at
// a time per object.
#pragma once

#include <string>
#include <vector>

#include "protocol/coordinator_interface.h"
#include "runtime/future.h"

namespace keel {

class CoordinatedState {
 public:
  // `proposer_id` must be unique among proposers (draw it at random; zero is not allowed).
  CoordinatedState(CoordinatorSet coordinators, uint64_t proposer_id);

  Future<std::string> read();
  Future<Void> write(std::string value);

  // The generation of the last successful read (counter zero before any).
  const Generation& generation() const { return generation_; }
  size_t majority() const { return coordinators_.coordinators.size() / 2 + 1; }
  const CoordinatorSet& coordinators() const { return coordinators_; }

 private:
  CoordinatorSet coordinators_;
  uint64_t proposer_id_;
  uint64_t counter_seen_ = 0;  // the highest generation counter any reply showed
  Generation generation_;
  bool may_write_ = false;
};

}  // namespace keel
