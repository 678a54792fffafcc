#include "server/resolver/conflict_set.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "runtime/assert.h"

namespace keel {

namespace {

// A boundary whose write is forgotten: its keys read as never written. Below every version, so
// it never raises a max and never causes a conflict.
constexpr Version forgotten_version = std::numeric_limits<Version>::min();
// Boundaries each batch's sweep walks beyond four per recorded write (each write adds at most
// two, so the sweep comes round before the dead ones outnumber the live ones), so that idle
// batches still drain old writes.
constexpr size_t sweep_nodes_per_batch_min = 64;

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
  sweep(4 * writes_recorded + sweep_nodes_per_batch_min);
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
  auto [left, rest] = split(root_, range.begin);
  auto [inside, right] = split(rest, range.end);
  // What held at end: the last boundary before it, inside the range or before it.
  Version version_at_end = forgotten_version;
  if (inside != nil) {
    version_at_end = at(rightmost(inside)).version;
  } else if (left != nil) {
    version_at_end = at(rightmost(left)).version;
  }
  release_subtree(inside);
  NodeId middle = nil;
  if (left == nil || at(rightmost(left)).version != version) {
    middle = allocate(range.begin, version);
  }
  const bool boundary_at_end = right != nil && at(leftmost(right)).key.view() == range.end;
  if (!boundary_at_end && version_at_end != version) {
    middle = merge(middle, allocate(range.end, version_at_end));
  }
  root_ = merge(merge(left, middle), right);
}

// A boundary at or below oldest_version_ reads as forgotten: every transaction that could see
// its write is too_old.
Version ConflictSet::effective(Version version) const {
  return version <= oldest_version_ ? forgotten_version : version;
}

// Forgets old writes among the next `nodes_max` boundaries from sweep_from_ (from the start once
// the end is reached). A boundary whose effective version repeats its predecessor's changes
// nothing and goes; a dead one after a live one becomes forgotten. So no forgotten boundary
// follows a forgotten one or starts the set: at most half are forgotten. The stretch is split
// out, rebuilt from the nodes it keeps, and merged back.
void ConflictSet::sweep(size_t nodes_max) {
  if (root_ == nil) return;
  collect_from(sweep_from_, nodes_max + 1, sweep_nodes_);
  if (sweep_nodes_.empty()) {
    sweep_from_.clear();
    collect_from(sweep_from_, nodes_max + 1, sweep_nodes_);
  }
  std::optional<Key> end;  // the first boundary after the stretch, if any
  if (sweep_nodes_.size() > nodes_max) {
    end = Key(at(sweep_nodes_.back()).key.view());
    sweep_nodes_.pop_back();
  }
  auto [left, rest] = split(root_, sweep_from_);
  NodeId stretch = rest;
  NodeId right = nil;
  if (end) std::tie(stretch, right) = split(rest, *end);
  Version previous = left == nil ? forgotten_version : effective(at(rightmost(left)).version);
  kept_nodes_.clear();
  for (const NodeId node : sweep_nodes_) {
    const Version version = effective(at(node).version);
    if (version == previous) {
      release(node);
      continue;
    }
    at(node).version = version;
    kept_nodes_.push_back(node);
    previous = version;
  }
  // What follows the stretch may now repeat its last version too.
  while (right != nil && effective(at(leftmost(right)).version) == previous) right = pop_leftmost(right);
  root_ = merge(merge(left, build(kept_nodes_)), right);
  sweep_from_ = end ? std::move(*end) : Key{};
}

// Up to `nodes_max` boundaries from the first at or after `begin`, in key order.
void ConflictSet::collect_from(const Key& begin, size_t nodes_max, std::vector<NodeId>& nodes) const {
  nodes.clear();
  std::vector<NodeId> pending;  // nodes at or after begin whose right subtrees are still to walk
  for (NodeId node = root_; node != nil;) {
    if (at(node).key.view() < begin) {
      node = at(node).right;
    } else {
      pending.push_back(node);
      node = at(node).left;
    }
  }
  while (!pending.empty() && nodes.size() < nodes_max) {
    const NodeId node = pending.back();
    pending.pop_back();
    nodes.push_back(node);
    for (NodeId next = at(node).right; next != nil; next = at(next).left) pending.push_back(next);
  }
}

// --- Queries -----------------------------------------------------------------------------------

Version ConflictSet::max_version_in(const KeyRange& range) const {
  // The boundary at or before begin covers begin; every boundary inside covers the rest.
  Version result = version_at(range.begin);
  NodeId node = root_;
  while (node != nil) {
    const Node& current = at(node);
    if (current.key.view() < range.begin) {
      node = current.right;
    } else if (current.key.view() >= range.end) {
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
    if (current.key.view() >= begin) {
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
    if (current.key.view() < end) {
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
    if (current.key.view() <= key) {
      result = current.version;
      node = current.right;
    } else {
      node = current.left;
    }
  }
  return result;
}

ConflictSet::NodeId ConflictSet::leftmost(NodeId node) const {
  while (at(node).left != nil) node = at(node).left;
  return node;
}

ConflictSet::NodeId ConflictSet::rightmost(NodeId node) const {
  while (at(node).right != nil) node = at(node).right;
  return node;
}

// --- Node keys ---------------------------------------------------------------------------------

void ConflictSet::NodeKey::assign(std::string_view key) {
  clear();
  KEEL_ASSERT(key.size() <= UINT32_MAX);
  size_ = static_cast<uint32_t>(key.size());
  if (size_ <= inline_bytes) {
    std::memcpy(bytes_, key.data(), key.size());
    return;
  }
  char* copy = new char[key.size()];
  std::memcpy(copy, key.data(), key.size());
  std::memcpy(bytes_, &copy, sizeof copy);
}

void ConflictSet::NodeKey::clear() {
  if (size_ > inline_bytes) delete[] heap();
  size_ = 0;
}

const char* ConflictSet::NodeKey::heap() const {
  const char* address;
  std::memcpy(&address, bytes_, sizeof address);
  return address;
}

// --- Treap primitives --------------------------------------------------------------------------

ConflictSet::NodeId ConflictSet::allocate(const Key& key, Version version) {
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
  Node& node = at(id);
  node.version = version;
  node.key.assign(key);
  node.priority = static_cast<uint32_t>(random_.next_u64() >> 32);
  node.left = nil;
  node.right = nil;
  update(id);
  ++size_;
  return id;
}

void ConflictSet::release(NodeId node) {
  at(node).key.clear();
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
  current.max_version = std::max({current.version, max_of(current.left), max_of(current.right)});
}

Version ConflictSet::max_of(NodeId node) const {
  return node == nil ? forgotten_version : at(node).max_version;
}

// Splits into (keys < key, keys >= key).
std::pair<ConflictSet::NodeId, ConflictSet::NodeId> ConflictSet::split(NodeId node,
                                                                       const Key& key) {
  if (node == nil) return {nil, nil};
  if (at(node).key.view() < key) {
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

// The treap of `ordered` (in key order) by their priorities, built in one pass: a stack holds
// the right spine; a node takes the spine nodes it outranks as its left subtree.
ConflictSet::NodeId ConflictSet::build(const std::vector<NodeId>& ordered) {
  std::vector<NodeId> spine;
  for (const NodeId node : ordered) {
    NodeId below = nil;
    while (!spine.empty() && at(spine.back()).priority < at(node).priority) {
      below = spine.back();
      spine.pop_back();
      update(below);  // its subtree is complete
    }
    at(node).left = below;
    at(node).right = nil;
    if (!spine.empty()) at(spine.back()).right = node;
    spine.push_back(node);
  }
  for (auto it = spine.rbegin(); it != spine.rend(); ++it) update(*it);
  return spine.empty() ? nil : spine.front();
}

// The subtree without its leftmost node, which is released.
ConflictSet::NodeId ConflictSet::pop_leftmost(NodeId node) {
  if (at(node).left == nil) {
    const NodeId right = at(node).right;
    release(node);
    return right;
  }
  at(node).left = pop_leftmost(at(node).left);
  update(node);
  return node;
}

// --- Invariants --------------------------------------------------------------------------------

struct ConflictSet::InvariantWalk {
  std::optional<std::string_view> previous_key;
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
  KEEL_ASSERT(!walk.previous_key || *walk.previous_key < current.key.view());
  KEEL_ASSERT(current.version <= newest_version_);
  const bool forgotten = current.version == forgotten_version;
  KEEL_ASSERT(!forgotten || walk.previous_version != forgotten_version);
  walk.previous_key = current.key.view();
  walk.previous_version = current.version;
  ++walk.count;
  check_subtree(current.right, walk);
  KEEL_ASSERT(current.max_version ==
              std::max({current.version, max_of(current.left), max_of(current.right)}));
}

}  // namespace keel
