// KeyValueModel: an in-memory model of the key-value store for correctness workloads, with the
// client's semantics for mutations (atomic operations through the same apply_atomic the storage
// servers use), range reads (limit, reverse) and key selectors. It knows only the keys of a
// window [begin, end) of the keyspace: a selector that walks out of the window resolves to
// "before" or "after" it, and the caller decides what the real answer may then be.
// Plain value type; copies are independent (workloads replay transactions on copies).
// Also here: spread_key (keys spread over a static cluster's shards) and helpers that print
// keys, values, selectors and mutations for problem reports.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocol/atomic_ops.h"
#include "protocol/types.h"
#include "runtime/trace.h"

namespace keel::sim {

class KeyValueModel {
 public:
  enum class Side { inside, before, after };
  struct Resolved {
    Side side = Side::inside;
    Key key;  // when inside
  };

  KeyValueModel(Key window_begin, Key window_end) : begin_(std::move(window_begin)), end_(std::move(window_end)) {}

  // Applies a set, clear_range or (non-versionstamped) atomic mutation.
  void apply(const Mutation& mutation) {
    switch (mutation.type) {
      case MutationType::set_value:
        data_[mutation.param1] = mutation.param2;
        return;
      case MutationType::clear_range:
        if (mutation.param1 < mutation.param2) {
          data_.erase(data_.lower_bound(mutation.param1), data_.lower_bound(mutation.param2));
        }
        return;
      default: {
        auto it = data_.find(mutation.param1);
        std::optional<Value> existing;
        if (it != data_.end()) existing = it->second;
        std::optional<Value> result = apply_atomic(mutation.type, existing, mutation.param2);
        if (result) data_[mutation.param1] = std::move(*result);
        else data_.erase(mutation.param1);
      }
    }
  }

  std::optional<Value> get(const Key& key) const {
    auto it = data_.find(key);
    if (it == data_.end()) return std::nullopt;
    return it->second;
  }

  // Up to `limit` rows of [range.begin, range.end), from the end when `reverse`.
  std::vector<KeyValue> get_range(const KeyRange& range, int limit, bool reverse) const {
    std::vector<KeyValue> rows;
    if (range.empty()) return rows;
    auto first = data_.lower_bound(range.begin);
    auto last = data_.lower_bound(range.end);
    if (reverse) {
      for (auto it = std::make_reverse_iterator(last); it != std::make_reverse_iterator(first); ++it) {
        if (static_cast<int>(rows.size()) >= limit) break;
        rows.push_back(KeyValue{it->first, it->second});
      }
    } else {
      for (auto it = first; it != last && static_cast<int>(rows.size()) < limit; ++it) {
        rows.push_back(KeyValue{it->first, it->second});
      }
    }
    return rows;
  }

  // What is wrong with a range read's `more` flag (empty if nothing): it may be set only when
  // the read stopped at its limit, and must be set when rows of the range were left out.
  std::string more_problem(const KeyRange& range, int limit, bool reverse, size_t returned, bool more) const {
    if (more && static_cast<int>(returned) < limit) return "more is set below the limit";
    if (!more && get_range(range, limit + 1, reverse).size() > static_cast<size_t>(limit)) {
      return "more is not set though rows were left out";
    }
    return std::string();
  }

  // The key `selector` names: the key `offset` keys after the last key < key (<= key if
  // or_equal). Requires the selector's key inside [window begin, window end].
  Resolved resolve(const KeySelector& selector) const {
    auto bound = selector.or_equal ? data_.upper_bound(selector.key) : data_.lower_bound(selector.key);
    const auto below = static_cast<int64_t>(std::distance(data_.begin(), bound));
    const int64_t index = below + selector.offset - 1;
    if (index < 0) return Resolved{Side::before, Key()};
    if (index >= static_cast<int64_t>(data_.size())) return Resolved{Side::after, Key()};
    return Resolved{Side::inside, std::next(data_.begin(), index)->first};
  }

  // Whether `actual` (what the database answered) agrees with `resolved`. Out of the window the
  // answer is some key beyond it; a window reaching an edge of the user keyspace ("" or "\xff")
  // makes the answer exactly that edge.
  bool agrees(const Resolved& resolved, const Key& actual) const {
    switch (resolved.side) {
      case Side::inside:
        return actual == resolved.key;
      case Side::before:
        return begin_.empty() ? actual.empty() : actual < begin_;
      case Side::after:
        return end_ == user_keys_end ? actual == end_ : actual >= end_;
    }
    return false;
  }

  // The key a resolved selector stands for when the window is the whole user keyspace.
  const Key& edge_or_key(const Resolved& resolved) const {
    if (resolved.side == Side::before) return begin_;
    if (resolved.side == Side::after) return end_;
    return resolved.key;
  }

  static inline const Key user_keys_end = "\xff";

  const std::map<Key, Value>& data() const { return data_; }
  const Key& window_begin() const { return begin_; }
  const Key& window_end() const { return end_; }

 private:
  Key begin_, end_;
  std::map<Key, Value> data_;
};

// Keys of `count` items spread over the shards of a static cluster (whose default shards split
// the keyspace by first byte): item `index` gets a first byte in [0x21, 0xe0) that grows with
// the index, then `name`. Keys of increasing indexes sort in increasing order.
inline constexpr unsigned char spread_byte_min = 0x21;
inline constexpr unsigned char spread_byte_end = 0xe0;
inline Key spread_key(int64_t index, int64_t count, const std::string& name) {
  const int64_t span = spread_byte_end - spread_byte_min;
  const auto byte = static_cast<unsigned char>(spread_byte_min + index * span / std::max<int64_t>(count, 1));
  return std::string(1, static_cast<char>(byte)) + name;
}

// Exact for strings, so that they do not convert to the optional overload below.
inline std::string printable(const std::string& bytes) { return keel::printable(std::string_view(bytes)); }

inline std::string printable(const std::optional<Value>& value) {
  return value ? "'" + printable(*value) + "'" : std::string("absent");
}

inline std::string printable(const std::vector<KeyValue>& rows) {
  std::string text = "[";
  for (const KeyValue& row : rows) {
    if (text.size() > 1) text += ", ";
    text += printable(row.key) + "=" + printable(row.value);
  }
  return text + "]";
}

// "name:count,..." of a tally of error names, for results trace events.
inline std::string describe_tally(const std::map<std::string, uint64_t>& tally) {
  std::string text;
  for (const auto& [name, count] : tally) text += fmt::format("{}{}:{}", text.empty() ? "" : ",", name, count);
  return text;
}

inline const char* mutation_name(MutationType type) {
  switch (type) {
    case MutationType::set_value: return "set";
    case MutationType::clear_range: return "clear_range";
    case MutationType::add: return "add";
    case MutationType::bit_and: return "bit_and";
    case MutationType::bit_or: return "bit_or";
    case MutationType::bit_xor: return "bit_xor";
    case MutationType::max: return "max";
    case MutationType::min: return "min";
    case MutationType::byte_min: return "byte_min";
    case MutationType::byte_max: return "byte_max";
    case MutationType::append_if_fits: return "append_if_fits";
    case MutationType::compare_and_clear: return "compare_and_clear";
    case MutationType::set_versionstamped_key: return "set_versionstamped_key";
    case MutationType::set_versionstamped_value: return "set_versionstamped_value";
  }
  return "unknown";
}

inline std::string describe(const Mutation& mutation) {
  return fmt::format("{}({}, {})", mutation_name(mutation.type), printable(mutation.param1), printable(mutation.param2));
}

inline std::string describe(const KeySelector& selector) {
  return fmt::format("{{{}, or_equal {}, offset {}}}", printable(selector.key), selector.or_equal, selector.offset);
}

}  // namespace keel::sim
