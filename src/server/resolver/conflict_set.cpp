#include "server/resolver/conflict_set.h"

#include <algorithm>
#include <limits>

#include "runtime/assert.h"

namespace keel {

namespace {

// A boundary whose write is forgotten: its keys read as never written. Below every version, so
// it never raises a max and never causes a conflict.
constexpr Version forgotten_version = std::numeric_limits<Version>::min();
// min_live_version of a subtree holding only forgotten boundaries.
constexpr Version no_live_version = std::numeric_limits<Version>::max();
// Forgetting steps per batch beyond two per recorded write (each write adds at most two
// boundaries, so forgetting keeps pace), so that idle batches still drain old writes.
constexpr size_t forget_steps_per_batch_min = 64;

}  // namespace

const char* conflict_outcome_name(ConflictOutcome outcome) {
  switch (outcome) {
    case ConflictOutcome::committed:
      return "committed";
    case ConflictOutcome::conflict:
      return "conflict";
    case ConflictOutcome::too_old:
      return "too_old";
  }
  return "unknown";
}

ConflictSet::ConflictSet(Version initial_version, uint64_t priority_seed)
    : oldest_version_(initial_version), newest_version_(initial_version), random_(priority_seed) {
  KEEL_ASSERT(initial_version >= 0);
}

std::vector<ConflictOutcome> ConflictSet::resolve(Version commit_version,
                                                  const std::vector<ConflictTransaction>& batch) {
  KEEL_ASSERT(commit_version > newest_version_);
  newest_version_ = commit_version;
  oldest_version_ = std::max(oldest_version_, commit_version - mvcc_window_versions);
  std::vector<ConflictOutcome> outcomes;
  outcomes.reserve(batch.size());
  size_t writes_recorded = 0;
  for (const ConflictTransaction& transaction : batch) {
    KEEL_ASSERT(transaction.read_version < commit_version);
    const ConflictOutcome outcome = check(transaction);
    outcomes.push_back(outcome);
    if (outcome != ConflictOutcome::committed) continue;
    for (const KeyRange& range : transaction.writes) {
      if (range.empty()) continue;
      record_write(range, commit_version);
      ++writes_recorded;
    }
  }
  forget_old_writes(2 * writes_recorded + forget_steps_per_batch_min);
  return outcomes;
}

// A transaction that read nothing (no read-conflict range) cannot conflict, however old its read
// version: blind writes commit without one.
ConflictOutcome ConflictSet::check(const ConflictTransaction& transaction) const {
  const bool reads = std::any_of(transaction.reads.begin(), transaction.reads.end(),
                                 [](const KeyRange& range) { return !range.empty(); });
  if (reads && transaction.read_version < oldest_version_) return ConflictOutcome::too_old;
  for (const KeyRange& range : transaction.reads) {
    if (range.empty()) continue;
    if (max_version_in(range) > transaction.read_version) return ConflictOutcome::conflict;
  }
  return ConflictOutcome::committed;
}

// Sets the step function to `version` on [begin, end): the boundaries inside go, a boundary at
// begin carries `version` and one at end restores what held there before. A boundary that would
// repeat its predecessor's version is left out.
void ConflictSet::record_write(const KeyRange& range, Version version) {
  const Version version_at_end = version_at(range.end);
  auto [left, rest] = split(root_, range.begin);
  auto [inside, right] = split(rest, range.end);
  release_subtree(inside);
  NodeId middle = nil;
  if (left == nil || at(rightmost(left)).version != version) {
    middle = allocate(range.begin, version);
  }
  const bool boundary_at_end = right != nil && at(leftmost(right)).key == range.end;
  if (!boundary_at_end && version_at_end != version) {
    middle = merge(middle, allocate(range.end, version_at_end));
  }
  root_ = merge(merge(left, middle), right);
}

// Forgets writes at or below oldest_version_, leftmost first, about `steps_max` boundaries (the
// last step finishes its run of dead boundaries).
void ConflictSet::forget_old_writes(size_t steps_max) {
  for (size_t steps = 0; steps < steps_max;) {
    const NodeId node = find_forgettable();
    if (node == nil) return;
    steps += forget_node(node);
  }
}

// A boundary at or below oldest_version_ is dead: it reads the same as forgotten. A dead boundary
// after a dead one (or first in the set) is redundant and goes; any other becomes forgotten. So
// no forgotten boundary follows a forgotten one or starts the set: at most half are forgotten.
// Returns the number of boundaries changed.
size_t ConflictSet::forget_node(NodeId node) {
  const Key key = at(node).key;
  const NodeId before = last_below(key);
  if (before == nil || at(before).version <= oldest_version_) {
    root_ = erase(root_, key);
  } else {
    root_ = set_version(root_, key, forgotten_version);
  }
  // Whatever now precedes the following boundaries is dead or absent.
  size_t changed = 1;
  for (NodeId after = first_above(key); after != nil && at(after).version <= oldest_version_;
       after = first_above(key)) {
    const Key after_key = at(after).key;
    root_ = erase(root_, after_key);
    ++changed;
  }
  return changed;
}

// --- Queries -----------------------------------------------------------------------------------

Version ConflictSet::max_version_in(const KeyRange& range) const {
  // The boundary at or before begin covers begin; every boundary inside covers the rest.
  Version result = version_at(range.begin);
  NodeId node = root_;
  while (node != nil) {
    const Node& current = at(node);
    if (current.key < range.begin) {
      node = current.right;
    } else if (current.key >= range.end) {
      node = current.left;
    } else {
      return std::max({result, current.version, max_at_or_after(current.left, range.begin),
                       max_before(current.right, range.end)});
    }
  }
  return result;
}

Version ConflictSet::max_at_or_after(NodeId node, const Key& begin) const {
  Version result = forgotten_version;
  while (node != nil) {
    const Node& current = at(node);
    if (current.key >= begin) {
      result = std::max({result, current.version, max_of(current.right)});
      node = current.left;
    } else {
      node = current.right;
    }
  }
  return result;
}

Version ConflictSet::max_before(NodeId node, const Key& end) const {
  Version result = forgotten_version;
  while (node != nil) {
    const Node& current = at(node);
    if (current.key < end) {
      result = std::max({result, current.version, max_of(current.left)});
      node = current.right;
    } else {
      node = current.left;
    }
  }
  return result;
}

// The version of the boundary at or before `key`: the newest write of `key`.
Version ConflictSet::version_at(const Key& key) const {
  Version result = forgotten_version;
  NodeId node = root_;
  while (node != nil) {
    const Node& current = at(node);
    if (current.key <= key) {
      result = current.version;
      node = current.right;
    } else {
      node = current.left;
    }
  }
  return result;
}

ConflictSet::NodeId ConflictSet::last_below(const Key& key) const {
  NodeId result = nil;
  for (NodeId node = root_; node != nil;) {
    if (at(node).key < key) {
      result = node;
      node = at(node).right;
    } else {
      node = at(node).left;
    }
  }
  return result;
}

ConflictSet::NodeId ConflictSet::first_above(const Key& key) const {
  NodeId result = nil;
  for (NodeId node = root_; node != nil;) {
    if (key < at(node).key) {
      result = node;
      node = at(node).left;
    } else {
      node = at(node).right;
    }
  }
  return result;
}

// The leftmost boundary holding a write at or below oldest_version_, or nil.
ConflictSet::NodeId ConflictSet::find_forgettable() const {
  NodeId node = root_;
  if (min_live_of(node) > oldest_version_) return nil;
  while (true) {
    const Node& current = at(node);
    if (min_live_of(current.left) <= oldest_version_) {
      node = current.left;
    } else if (current.version != forgotten_version && current.version <= oldest_version_) {
      return node;
    } else {
      node = current.right;
      KEEL_ASSERT(min_live_of(node) <= oldest_version_);
    }
  }
}

ConflictSet::NodeId ConflictSet::leftmost(NodeId node) const {
  while (at(node).left != nil) node = at(node).left;
  return node;
}

ConflictSet::NodeId ConflictSet::rightmost(NodeId node) const {
  while (at(node).right != nil) node = at(node).right;
  return node;
}

// --- Treap primitives --------------------------------------------------------------------------

ConflictSet::NodeId ConflictSet::allocate(const Key& key, Version version) {
  const Node node{key, version, forgotten_version, no_live_version, random_.next_u64()};
  NodeId id;
  if (free_nodes_.empty()) {
    KEEL_ASSERT(capacity_ < nil - chunk_nodes);
    // A new chunk: growing never moves (and never briefly doubles) the nodes already held.
    if (next_unused_ == capacity_) {
      chunks_.push_back(std::make_unique<Node[]>(chunk_nodes));
      capacity_ += chunk_nodes;
    }
    id = next_unused_++;
  } else {
    id = free_nodes_.back();
    free_nodes_.pop_back();
  }
  at(id) = node;
  update(id);
  ++size_;
  return id;
}

void ConflictSet::release(NodeId node) {
  at(node).key = Key{};  // gives back the key's memory
  free_nodes_.push_back(node);
  --size_;
}

void ConflictSet::release_subtree(NodeId node) {
  if (node == nil) return;
  release_subtree(at(node).left);
  release_subtree(at(node).right);
  release(node);
}

void ConflictSet::update(NodeId node) {
  Node& current = at(node);
  const Version live = current.version == forgotten_version ? no_live_version : current.version;
  current.max_version = std::max({current.version, max_of(current.left), max_of(current.right)});
  current.min_live_version =
      std::min({live, min_live_of(current.left), min_live_of(current.right)});
}

Version ConflictSet::max_of(NodeId node) const {
  return node == nil ? forgotten_version : at(node).max_version;
}

Version ConflictSet::min_live_of(NodeId node) const {
  return node == nil ? no_live_version : at(node).min_live_version;
}

// Splits into (keys < key, keys >= key).
std::pair<ConflictSet::NodeId, ConflictSet::NodeId> ConflictSet::split(NodeId node,
                                                                       const Key& key) {
  if (node == nil) return {nil, nil};
  if (at(node).key < key) {
    const auto [low, high] = split(at(node).right, key);
    at(node).right = low;
    update(node);
    return {node, high};
  }
  const auto [low, high] = split(at(node).left, key);
  at(node).left = high;
  update(node);
  return {low, node};
}

// Joins two treaps whose keys are all ordered left < right.
ConflictSet::NodeId ConflictSet::merge(NodeId left, NodeId right) {
  if (left == nil) return right;
  if (right == nil) return left;
  if (at(left).priority >= at(right).priority) {
    at(left).right = merge(at(left).right, right);
    update(left);
    return left;
  }
  at(right).left = merge(left, at(right).left);
  update(right);
  return right;
}

ConflictSet::NodeId ConflictSet::erase(NodeId node, const Key& key) {
  KEEL_ASSERT(node != nil);
  Node& current = at(node);
  if (key < current.key) {
    current.left = erase(current.left, key);
  } else if (current.key < key) {
    current.right = erase(current.right, key);
  } else {
    const NodeId replacement = merge(current.left, current.right);
    release(node);
    return replacement;
  }
  update(node);
  return node;
}

ConflictSet::NodeId ConflictSet::set_version(NodeId node, const Key& key, Version version) {
  KEEL_ASSERT(node != nil);
  Node& current = at(node);
  if (key < current.key) {
    current.left = set_version(current.left, key, version);
  } else if (current.key < key) {
    current.right = set_version(current.right, key, version);
  } else {
    current.version = version;
  }
  update(node);
  return node;
}

// --- Invariants --------------------------------------------------------------------------------

struct ConflictSet::InvariantWalk {
  const Key* previous_key = nullptr;
  Version previous_version = forgotten_version;  // a missing predecessor counts as forgotten
  size_t count = 0;
};

void ConflictSet::check_invariants() const {
  KEEL_ASSERT(oldest_version_ <= newest_version_);
  KEEL_ASSERT(size_ + free_nodes_.size() == next_unused_);
  InvariantWalk walk;
  check_subtree(root_, walk);
  KEEL_ASSERT(walk.count == size_);
}

// In-order walk: keys strictly increase, parents outrank children, aggregates are exact, live
// versions were committed, and no forgotten boundary follows a forgotten one or starts the set.
void ConflictSet::check_subtree(NodeId node, InvariantWalk& walk) const {
  if (node == nil) return;
  const Node& current = at(node);
  for (const NodeId child : {current.left, current.right}) {
    if (child != nil) KEEL_ASSERT(at(child).priority <= current.priority);
  }
  check_subtree(current.left, walk);
  KEEL_ASSERT(walk.previous_key == nullptr || *walk.previous_key < current.key);
  KEEL_ASSERT(current.version <= newest_version_);
  const bool forgotten = current.version == forgotten_version;
  KEEL_ASSERT(!forgotten || walk.previous_version != forgotten_version);
  walk.previous_key = &current.key;
  walk.previous_version = current.version;
  ++walk.count;
  check_subtree(current.right, walk);
  const Version live = forgotten ? no_live_version : current.version;
  KEEL_ASSERT(current.max_version ==
              std::max({current.version, max_of(current.left), max_of(current.right)}));
  KEEL_ASSERT(current.min_live_version ==
              std::min({live, min_live_of(current.left), min_live_of(current.right)}));
}

}  // namespace keel
