#include "server/resolver/write_treap.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "runtime/assert.h"

namespace keel {

WriteTreap::WriteTreap(uint64_t priority_seed) : random_(priority_seed) {}

// A boundary at begin carries `version` and one at end restores what held there before; the
// boundaries inside go. A boundary that would repeat its predecessor's tail is left out.
void WriteTreap::record_write(const KeyRange& range, Version version) {
  KEEL_ASSERT(!range.empty());
  KEEL_ASSERT(version >= max_of(root_));
  if (is_single_key_range(range)) {
    record_key_write(range.begin, version);
    return;
  }
  auto [left, rest] = split(root_, range.begin);
  auto [inside, right] = split(rest, range.end);
  // What held at end: the tail of the last boundary before it, inside the range or before it.
  Version version_at_end = never_written;
  if (inside != nil) {
    version_at_end = at(rightmost(inside)).tail;
  } else if (left != nil) {
    version_at_end = at(rightmost(left)).tail;
  }
  release_subtree(inside);
  NodeId middle = nil;
  if (left == nil || at(rightmost(left)).tail != version) {
    middle = allocate(range.begin, version, version);
  }
  const bool boundary_at_end = right != nil && at(leftmost(right)).key.view() == range.end;
  if (!boundary_at_end && version_at_end != version) {
    middle = merge(middle, allocate(range.end, version_at_end, version_at_end));
  }
  root_ = merge(merge(left, middle), right);
}

// The write of one key: the boundary at key takes `version` and keeps its tail, or a new one
// takes `version` with the tail of the boundary before it (what held after key until now). One
// walk from the root compares keys; the update or the insert then follows the path it kept.
void WriteTreap::record_key_write(const Key& key, Version version) {
  path_.clear();
  Version before = never_written;  // the tail of the last boundary before key
  for (NodeId node = root_; node != nil;) {
    Node& current = at(node);
    const int order = current.key.view().compare(key);
    if (order == 0) {
      // `version` is the newest of the tree: the max of every subtree holding key.
      for (const PathStep& step : path_) at(step.node).max_version = version;
      current.max_version = version;
      current.version = version;
      return;
    }
    path_.push_back(PathStep{node, order > 0});
    if (order < 0) {
      before = current.tail;
      node = current.right;
    } else {
      node = current.left;
    }
  }
  if (before == version) return;  // a range write of this batch covers key already
  // The new node goes where its priority places it on the path: above that, only the max
  // versions change; there, the subtree it takes splits around key (nil at the path's end).
  const NodeId fresh = allocate(key, version, before);
  const uint32_t priority = at(fresh).priority;
  size_t depth = 0;
  while (depth < path_.size() && at(path_[depth].node).priority >= priority) {
    at(path_[depth].node).max_version = version;
    ++depth;
  }
  const auto [low, high] = split(depth < path_.size() ? path_[depth].node : nil, key);
  at(fresh).left = low;
  at(fresh).right = high;
  update(fresh);
  if (depth == 0) {
    root_ = fresh;
  } else {
    Node& parent = at(path_[depth - 1].node);
    (path_[depth - 1].went_left ? parent.left : parent.right) = fresh;
  }
}

void WriteTreap::clear(uint64_t priority_seed) {
  for (NodeId id = 0; id < next_unused_; ++id) at(id).key.clear();
  next_unused_ = 0;
  free_nodes_.clear();
  root_ = nil;
  size_ = 0;
  random_ = DeterministicRandom(priority_seed);
}

// --- Queries -----------------------------------------------------------------------------------

// The boundary covering begin (one at begin, else the last before it, by its tail) and every
// boundary inside. One walk from the root reaches the first boundary inside, keeping the tail of
// the last boundary before begin it passed; below that one, max_from walks toward begin and
// max_before toward end.
Version WriteTreap::max_version_in(const KeyRange& range) const {
  KEEL_ASSERT(!range.empty());
  Version before = never_written;  // the tail of the nearest boundary before begin passed so far
  NodeId node = root_;
  while (node != nil) {
    const Node& current = at(node);
    const std::string_view key = current.key.view();
    if (key < range.begin) {
      before = current.tail;
      node = current.right;
    } else if (key >= range.end) {
      node = current.left;
    } else {
      const Version inside = std::max(current.version, max_before(current.right, range.end));
      // A boundary at begin covers begin itself, and the boundaries left of it precede begin.
      if (key == range.begin) return inside;
      return std::max(inside, max_from(current.left, range.begin, before));
    }
  }
  return before;  // no boundary inside, none at begin
}

// Of subtree `node`: the max version of its boundaries at or after `begin`, and what covers
// begin: the version of a boundary at begin (one of them), else the tail of the nearest boundary
// before begin, in the subtree or, if it has none, `before`.
Version WriteTreap::max_from(NodeId node, const Key& begin, Version before) const {
  Version result = never_written;
  while (node != nil) {
    const Node& current = at(node);
    const int order = current.key.view().compare(begin);
    if (order >= 0) {
      result = std::max({result, current.version, max_of(current.right)});
      if (order == 0) return result;
      node = current.left;
    } else {
      before = current.tail;
      node = current.right;
    }
  }
  return std::max(result, before);
}

Version WriteTreap::max_before(NodeId node, const Key& end) const {
  Version result = never_written;
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

WriteTreap::NodeId WriteTreap::leftmost(NodeId node) const {
  while (at(node).left != nil) node = at(node).left;
  return node;
}

WriteTreap::NodeId WriteTreap::rightmost(NodeId node) const {
  while (at(node).right != nil) node = at(node).right;
  return node;
}

// --- Node keys ---------------------------------------------------------------------------------

void WriteTreap::NodeKey::assign(std::string_view key) {
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

void WriteTreap::NodeKey::clear() {
  if (size_ > inline_bytes) delete[] heap();
  size_ = 0;
}

const char* WriteTreap::NodeKey::heap() const {
  const char* address;
  std::memcpy(&address, bytes_, sizeof address);
  return address;
}

// --- Treap primitives --------------------------------------------------------------------------

WriteTreap::NodeId WriteTreap::allocate(const Key& key, Version version, Version tail) {
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
  node.tail = tail;
  node.key.assign(key);
  node.priority = static_cast<uint32_t>(random_.next_u64() >> 32);
  node.left = nil;
  node.right = nil;
  update(id);
  ++size_;
  return id;
}

void WriteTreap::release_subtree(NodeId node) {
  if (node == nil) return;
  release_subtree(at(node).left);
  release_subtree(at(node).right);
  at(node).key.clear();
  free_nodes_.push_back(node);
  --size_;
}

void WriteTreap::update(NodeId node) {
  Node& current = at(node);
  current.max_version = std::max({current.version, max_of(current.left), max_of(current.right)});
}

Version WriteTreap::max_of(NodeId node) const {
  return node == nil ? never_written : at(node).max_version;
}

// Splits into (keys < key, keys >= key).
std::pair<WriteTreap::NodeId, WriteTreap::NodeId> WriteTreap::split(NodeId node, std::string_view key) {
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
WriteTreap::NodeId WriteTreap::merge(NodeId left, NodeId right) {
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

// --- Invariants --------------------------------------------------------------------------------

struct WriteTreap::InvariantWalk {
  Version newest_version;
  std::optional<std::string_view> previous_key;
  Version previous_tail = never_written;  // a missing predecessor counts as never written
  size_t count = 0;
};

void WriteTreap::check_invariants(Version newest_version) const {
  KEEL_ASSERT(size_ + free_nodes_.size() == next_unused_);
  InvariantWalk walk{newest_version};
  check_subtree(root_, walk);
  KEEL_ASSERT(walk.count == size_);
}

void WriteTreap::check_subtree(NodeId node, InvariantWalk& walk) const {
  if (node == nil) return;
  const Node& current = at(node);
  for (const NodeId child : {current.left, current.right}) {
    if (child != nil) KEEL_ASSERT(at(child).priority <= current.priority);
  }
  check_subtree(current.left, walk);
  KEEL_ASSERT(!walk.previous_key || *walk.previous_key < current.key.view());
  KEEL_ASSERT(current.version <= walk.newest_version);
  KEEL_ASSERT(current.tail <= current.version);
  KEEL_ASSERT(current.version != never_written || walk.previous_tail != never_written);
  walk.previous_key = current.key.view();
  walk.previous_tail = current.tail;
  ++walk.count;
  check_subtree(current.right, walk);
  KEEL_ASSERT(current.max_version ==
              std::max({current.version, max_of(current.left), max_of(current.right)}));
}

}  // namespace keel
