#include "server/resolver/write_treap.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "runtime/assert.h"

namespace keel {

WriteTreap::WriteTreap(uint64_t priority_seed) : random_(priority_seed) {}

// A boundary at begin carries `version` and one at end restores what held there before; the
// boundaries inside go. A boundary that would repeat its predecessor's version is left out.
void WriteTreap::record_write(const KeyRange& range, Version version) {
  KEEL_ASSERT(!range.empty());
  KEEL_ASSERT(version >= max_of(root_));
  if (is_single_key_range(range)) {
    record_key_write(range, version);
    return;
  }
  auto [left, rest] = split(root_, range.begin);
  auto [inside, right] = split(rest, range.end);
  // What held at end: the last boundary before it, inside the range or before it.
  Version version_at_end = never_written;
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

// The same for a range of one key, [k, k + '\0'): no key lies strictly inside, so the only
// boundary inside can be one at k. One walk finds it, the version before k and whether a
// boundary sits at the end; then at most two point changes, each one walk down.
void WriteTreap::record_key_write(const KeyRange& range, Version version) {
  const Key& key = range.begin;
  Version before = never_written;  // of the last boundary before key
  NodeId at_key = nil;
  NodeId after = nil;  // the first boundary after key
  for (NodeId node = root_; node != nil;) {
    const Node& current = at(node);
    const std::string_view current_key = current.key.view();
    if (current_key < key) {
      before = current.version;
      node = current.right;
    } else if (current_key > key) {
      after = node;
      node = current.left;
    } else {
      at_key = node;
      if (current.left != nil) before = at(rightmost(current.left)).version;
      if (current.right != nil) after = leftmost(current.right);
      break;
    }
  }
  const Version version_at_end = at_key != nil ? at(at_key).version : before;
  const bool boundary_at_end = after != nil && at(after).key.view() == range.end;
  if (before == version) {
    if (at_key != nil) root_ = erase(root_, key);
  } else if (at_key != nil) {
    root_ = assign(root_, key, version);
  } else {
    root_ = insert(root_, allocate(key, version));
  }
  if (!boundary_at_end && version_at_end != version) root_ = insert(root_, allocate(range.end, version_at_end));
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

Version WriteTreap::max_version_in(const KeyRange& range) const {
  KEEL_ASSERT(!range.empty());
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

Version WriteTreap::max_at_or_after(NodeId node, const Key& begin) const {
  Version result = never_written;
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

// The version of the boundary at or before `key`: the newest write of `key`.
Version WriteTreap::version_at(const Key& key) const {
  Version result = never_written;
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

WriteTreap::NodeId WriteTreap::allocate(const Key& key, Version version) {
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

// Adds `fresh` (a key not in the tree). Above the place its priority gives it, only the
// ancestors' max versions change, without a look at their other children.
WriteTreap::NodeId WriteTreap::insert(NodeId node, NodeId fresh) {
  if (node == nil) return fresh;
  Node& current = at(node);
  const std::string_view fresh_key = at(fresh).key.view();
  if (at(fresh).priority > current.priority) {
    const auto [low, high] = split(node, fresh_key);
    at(fresh).left = low;
    at(fresh).right = high;
    update(fresh);
    return fresh;
  }
  current.max_version = std::max(current.max_version, at(fresh).version);
  if (fresh_key < current.key.view()) {
    current.left = insert(current.left, fresh);
  } else {
    current.right = insert(current.right, fresh);
  }
  return node;
}

// Sets the version of the boundary at `key` (present) to `version`, the newest of the tree.
WriteTreap::NodeId WriteTreap::assign(NodeId node, const Key& key, Version version) {
  for (NodeId walk = node; walk != nil;) {
    Node& current = at(walk);
    current.max_version = version;
    const std::string_view current_key = current.key.view();
    if (current_key == key) {
      current.version = version;
      return node;
    }
    walk = key < current_key ? current.left : current.right;
  }
  KEEL_ASSERT(false);
  return node;
}

// Removes the boundary at `key` (present): its children merge into its place.
WriteTreap::NodeId WriteTreap::erase(NodeId node, const Key& key) {
  Node& current = at(node);
  const std::string_view current_key = current.key.view();
  if (current_key == key) {
    const NodeId joined = merge(current.left, current.right);
    current.key.clear();
    free_nodes_.push_back(node);
    --size_;
    return joined;
  }
  if (key < current_key) {
    current.left = erase(current.left, key);
  } else {
    current.right = erase(current.right, key);
  }
  update(node);
  return node;
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
  Version previous_version = never_written;  // a missing predecessor counts as never written
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
  KEEL_ASSERT(current.version != never_written || walk.previous_version != never_written);
  walk.previous_key = current.key.view();
  walk.previous_version = current.version;
  ++walk.count;
  check_subtree(current.right, walk);
  KEEL_ASSERT(current.max_version ==
              std::max({current.version, max_of(current.left), max_of(current.right)}));
}

}  // namespace keel
