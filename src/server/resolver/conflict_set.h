// ConflictSet: the resolver's conflict-detection core (FoundationDB's ConflictSet). A pure data
// structure: no I/O, no coroutines, no clock; the same inputs always give the same outcomes.
//
// The set remembers, for every key, the newest commit version that wrote it, and resolves commit
// batches strictly in commit-version order. For each transaction of a batch, in batch order:
// - too_old: its read version is below oldest_version(), the oldest version whose writes the
//   set still remembers: newest commit version - mvcc_window_versions, never below the initial
//   version. Checked first, whatever the transaction reads or writes.
// - conflict: one of its read ranges intersects a write range recorded at a version above its
//   read version: a write of an earlier batch, or of an earlier transaction of the same batch
//   that committed (intra-batch conflicts follow batch order).
// - committed: otherwise. Its write ranges are recorded at the batch's commit version at once,
//   which is how later transactions of the same batch see them (their read versions are below
//   the commit version). The writes of those after the batch's last reader (all of a batch of
//   blind writes) no check of this batch needs: they are held, and recorded by
//   record_held_writes() or first thing in the next resolve(). The resolver answers the batch
//   in between, so that recording them (a tree descent per key) overlaps the batch's push to the
//   logs instead of delaying it.
// Ranges are [begin, end) in bytewise order; empty ranges (begin >= end) are ignored, so
// [a, b) and [b, c) never conflict.
//
// Preconditions (asserted): commit versions strictly increase, starting above the initial
// version; every read version is below its batch's commit version.
//
// Structure: the write history in generations, each a WriteTreap (write_treap.h) of the writes
// of consecutive batches. Writes go into the newest generation; it is sealed, and the next write
// starts a new one, once it spans generation_versions or holds generation_boundaries_max
// boundaries (checked between batches). A read range is checked against the generations newest first, down to the first
// whose last write is at or below the read version: a read version a few milliseconds old
// touches only the newest, small one, whose nodes stay in cache, where one tree of the whole
// window (often a million boundaries) costs a cache miss at every level. A generation whose last
// write is at or below oldest_version() can never cause a conflict again (every transaction that
// could see it is too_old), so it is dropped whole and its nodes reused: no per-key sweep.
//
// Not thread-safe; owned by one resolver. Expensive: check_invariants() is O(n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "protocol/limits.h"
#include "protocol/types.h"
#include "runtime/random.h"
#include "server/resolver/write_treap.h"

namespace keel {

// A transaction as the resolver sees it: its read snapshot and its conflict ranges.
struct ConflictTransaction {
  Version read_version = invalid_version;
  std::vector<KeyRange> reads;
  std::vector<KeyRange> writes;
};

// Numbered as ResolveOutcome (protocol/resolver_interface.h), which carries them on the wire.
enum class ConflictOutcome : uint8_t { committed = 0, conflict = 1, too_old = 2 };

const char* conflict_outcome_name(ConflictOutcome outcome);

class ConflictSet {
 public:
  // A generation is sealed once its writes span this many versions...
  static constexpr Version generation_versions = mvcc_window_versions / 8;
  // ...or once it holds this many boundaries (64 bytes each: a megabyte).
  static constexpr size_t default_generation_boundaries_max = 16'384;

  // Remembers no writes; read versions below `initial_version` are too old. Tests lower
  // `generation_boundaries_max` to exercise many generations with few writes.
  explicit ConflictSet(Version initial_version, uint64_t priority_seed = 1,
                       size_t generation_boundaries_max = default_generation_boundaries_max);

  // Resolves one batch at `commit_version`; returns one outcome per transaction, in order.
  // Held writes take their ranges from a batch passed as an rvalue, copies from any other.
  std::vector<ConflictOutcome> resolve(Version commit_version, std::vector<ConflictTransaction>&& batch);
  std::vector<ConflictOutcome> resolve(Version commit_version, const std::vector<ConflictTransaction>& batch);
  // Records the writes the last resolve() held, if any.
  void record_held_writes();
  bool holds_writes() const { return !held_writes_.empty(); }

  Version oldest_version() const { return oldest_version_; }
  Version newest_version() const { return newest_version_; }
  // Boundaries held over every generation: at most two per recorded write range (held writes
  // count once recorded); a generation's go when it leaves the window.
  size_t size() const;
  size_t generations() const { return generations_.size(); }

  // Asserts each generation's invariants, their order in versions and that none has left the
  // window. O(n).
  void check_invariants() const;

 private:
  struct Generation {
    std::unique_ptr<WriteTreap> writes;
    Version first_version;  // of its first write
    Version last_version;   // of its last write
    bool sealed = false;
  };

  template <typename Batch>
  std::vector<ConflictOutcome> resolve_batch(Version commit_version, Batch& batch);
  static bool reads_any(const ConflictTransaction& transaction);
  ConflictOutcome check(const ConflictTransaction& transaction) const;
  bool written_after(const KeyRange& range, Version version) const;
  WriteTreap& open_generation(Version commit_version);
  void drop_old_generations();

  std::deque<Generation> generations_;  // oldest first
  std::vector<KeyRange> held_writes_;   // of committed transactions, at newest_version_
  std::vector<std::unique_ptr<WriteTreap>> spare_;  // a dropped generation, for reuse
  size_t generation_boundaries_max_;
  Version oldest_version_;
  Version newest_version_;
  DeterministicRandom random_;  // seeds each generation's treap priorities
};

}  // namespace keel
