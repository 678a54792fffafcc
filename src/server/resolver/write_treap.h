// WriteTreap: one generation of the resolver's write history (see conflict_set.h). A step
// function key -> newest write version, held as a treap of boundary keys. A boundary carries two
// versions: `version`, of its own key, and `tail`, of the keys after it up to the next boundary;
// keys before the first boundary read as never written. A range write [b, e) leaves a boundary
// at b whose two versions agree; a write of one key k, [k, k + '\0'), the commonest kind, leaves
// one boundary at k whose tail keeps what held after k: one node per point write, not two.
// A tail is never newer than its boundary's version (versions only grow, and a boundary's
// version is set last), so the max over a range is that of the boundary covering its begin
// (version or tail) and the versions of the boundaries inside it. Each node caches its
// subtree's max version, so "newest write anywhere in [b, e)" is O(log n); recording a range
// write splits out the boundaries inside [b, e) and replaces them by at most two, O(log n)
// amortized; a point write is one walk, then an update or an insert along its path. Treap
// priorities come from a DeterministicRandom seeded by the caller: they shape the tree, never
// the answers.
//
// It never forgets on its own: the conflict set drops a whole generation once every write in it
// has left the MVCC window, and reuses its nodes through clear().
//
// Not thread-safe. Expensive: check_invariants() is O(n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/types.h"
#include "runtime/random.h"

namespace keel {

class WriteTreap {
 public:
  // What a key never written reads as: below every version, so it never raises a max.
  static constexpr Version never_written = std::numeric_limits<Version>::min();

  explicit WriteTreap(uint64_t priority_seed);

  // Sets the step function to `version` on `range` (not empty); `version` is at least every
  // version recorded before.
  void record_write(const KeyRange& range, Version version);
  // The newest version written anywhere in `range` (not empty), or never_written.
  Version max_version_in(const KeyRange& range) const;

  // Boundaries held: one per recorded point write, at most two per range write, fewer where
  // writes overlap or touch.
  size_t size() const { return size_; }
  // Forgets every write, keeps the memory of the nodes for reuse, reseeds the priorities.
  void clear(uint64_t priority_seed);

  // Asserts order, heap and aggregate invariants, versions at most `newest_version`, tails at
  // most their versions, and that no never-written boundary follows a never-written tail or
  // starts the set. O(n).
  void check_invariants(Version newest_version) const;

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
    static constexpr uint32_t inline_bytes = 24;
    const char* heap() const;
    uint32_t size_ = 0;
    char bytes_[inline_bytes];  // the key, or the address of its heap copy
  };

  // One cache line.
  struct alignas(64) Node {
    Version version;      // newest write of the key, or never_written
    Version tail;         // of the keys after it up to the next boundary; at most `version`
    Version max_version;  // of `version` over the subtree
    NodeKey key;
    uint32_t priority;
    NodeId left;
    NodeId right;
  };
  static_assert(sizeof(Node) == 64);

  void record_key_write(const Key& key, Version version);

  Version max_from(NodeId node, const Key& begin, Version before) const;
  Version max_before(NodeId node, const Key& end) const;
  NodeId leftmost(NodeId node) const;
  NodeId rightmost(NodeId node) const;

  NodeId allocate(const Key& key, Version version, Version tail);
  void release_subtree(NodeId node);
  void update(NodeId node);
  Version max_of(NodeId node) const;
  std::pair<NodeId, NodeId> split(NodeId node, std::string_view key);
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
  // record_key_write's search path from the root: each node and the side taken below it (kept
  // between calls, so a walk allocates nothing).
  struct PathStep {
    NodeId node;
    bool went_left;
  };
  std::vector<PathStep> path_;
  DeterministicRandom random_;
};

}  // namespace keel
