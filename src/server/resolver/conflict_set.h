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
//   the commit version).
// Ranges are [begin, end) in bytewise order; empty ranges (begin >= end) are ignored, so
// [a, b) and [b, c) never conflict.
//
// Preconditions (asserted): commit versions strictly increase, starting above the initial
// version; every read version is below its batch's commit version.
//
// Structure: a treap of boundary keys forming a step function key -> newest write version
// (a boundary's version holds from its key up to the next boundary). Each node caches its
// subtree's max version, so "newest write anywhere in [b, e)" is O(log n); recording a write
// splits out the boundaries inside [b, e) and replaces them by at most two, O(log n) amortized.
// Writes at or below oldest_version() can never cause a conflict (every transaction that could
// see them is too_old), so they are forgotten by a sweep: each batch walks the next boundaries
// in key order from where the last one stopped (wrapping around), a few more than the batch
// added, drops the redundant ones and rebuilds that stretch of the treap in one pass. A walk
// costs one pass over adjacent nodes instead of a search per forgotten write, and it keeps
// pace with the inserts: at most about twice the live boundaries are held. Treap priorities
// come from a DeterministicRandom seeded by the caller: they shape the tree, never the outcomes.
//
// Not thread-safe; owned by one resolver. Expensive: check_invariants() is O(n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/limits.h"
#include "protocol/types.h"
#include "runtime/random.h"

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
  // Remembers no writes; read versions below `initial_version` are too old.
  explicit ConflictSet(Version initial_version, uint64_t priority_seed = 1);

  // Resolves one batch at `commit_version`; returns one outcome per transaction, in order.
  std::vector<ConflictOutcome> resolve(Version commit_version,
                                       const std::vector<ConflictTransaction>& batch);

  Version oldest_version() const { return oldest_version_; }
  Version newest_version() const { return newest_version_; }
  // Boundaries held: at most two per recorded write range, fewer where writes overlap or touch;
  // shrinks as writes are forgotten (about twice the live ones at most).
  size_t size() const { return size_; }

  // Asserts the treap's order, heap, aggregate and forgetting invariants. O(n).
  void check_invariants() const;

 private:
  using NodeId = uint32_t;
  static constexpr NodeId nil = UINT32_MAX;

  // A boundary's key: inside the node when it fits (most keys do), so a comparison on the way
  // down touches the node's cache line only, not then the key's memory elsewhere; longer keys
  // live on the heap.
  class NodeKey {
   public:
    NodeKey() = default;
    NodeKey(const NodeKey&) = delete;
    NodeKey& operator=(const NodeKey&) = delete;
    ~NodeKey() { clear(); }
    void assign(std::string_view key);
    void clear();  // gives back the heap memory of a long key
    std::string_view view() const { return {size_ <= inline_bytes ? bytes_ : heap(), size_}; }

   private:
    static constexpr uint32_t inline_bytes = 32;
    const char* heap() const;
    uint32_t size_ = 0;
    char bytes_[inline_bytes];  // the key, or the address of its heap copy
  };

  // One cache line.
  struct alignas(64) Node {
    Version version;      // newest write of [key, next boundary), or forgotten_version
    Version max_version;  // over the subtree
    NodeKey key;
    uint32_t priority;
    NodeId left;
    NodeId right;
  };

  ConflictOutcome check(const ConflictTransaction& transaction) const;
  void record_write(const KeyRange& range, Version version);
  void sweep(size_t nodes_max);
  void collect_from(const Key& begin, size_t nodes_max, std::vector<NodeId>& nodes) const;
  NodeId build(const std::vector<NodeId>& ordered);
  NodeId pop_leftmost(NodeId node);
  Version effective(Version version) const;

  // Queries.
  Version max_version_in(const KeyRange& range) const;
  Version max_at_or_after(NodeId node, const Key& begin) const;
  Version max_before(NodeId node, const Key& end) const;
  Version version_at(const Key& key) const;
  NodeId leftmost(NodeId node) const;
  NodeId rightmost(NodeId node) const;

  // Treap primitives.
  NodeId allocate(const Key& key, Version version);
  void release(NodeId node);
  void release_subtree(NodeId node);
  void update(NodeId node);
  Version max_of(NodeId node) const;
  std::pair<NodeId, NodeId> split(NodeId node, const Key& key);
  NodeId merge(NodeId left, NodeId right);

  struct InvariantWalk;
  void check_subtree(NodeId node, InvariantWalk& walk) const;

  // The node pool: fixed-size chunks, so it grows without copying; ids below next_unused_ are in
  // the tree or in free_nodes_.
  static constexpr NodeId chunk_shift = 12;
  static constexpr NodeId chunk_nodes = NodeId{1} << chunk_shift;
  Node& at(NodeId id) { return chunks_[id >> chunk_shift][id & (chunk_nodes - 1)]; }
  const Node& at(NodeId id) const { return chunks_[id >> chunk_shift][id & (chunk_nodes - 1)]; }
  std::vector<std::unique_ptr<Node[]>> chunks_;
  NodeId capacity_ = 0;
  NodeId next_unused_ = 0;
  std::vector<NodeId> free_nodes_;
  NodeId root_ = nil;
  size_t size_ = 0;
  Key sweep_from_;                    // where the next sweep starts ("" after wrapping around)
  std::vector<NodeId> sweep_nodes_;   // scratch of sweep(), kept to reuse its memory
  std::vector<NodeId> kept_nodes_;
  Version oldest_version_;
  Version newest_version_;
  DeterministicRandom random_;
};

}  // namespace keel
