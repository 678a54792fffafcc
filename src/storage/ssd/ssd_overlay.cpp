#include "storage/ssd/ssd_overlay.h"

#include "runtime/assert.h"

namespace keel::ssd {

void Overlay::clear_range(const KeyRange& range) {
  if (range.empty()) return;
  points.erase(points.lower_bound(range.begin), points.lower_bound(range.end));
  add_cleared_range(clears, range);
}

std::optional<KeyRange> Overlay::clear_holding(const Key& key) const { return cleared_range_holding(clears, key); }

Resolution resolve(const std::vector<const Overlay*>& newest_first, const Key& key) {
  Resolution resolution;
  for (const Overlay* layer : newest_first) {
    auto point = layer->points.find(key);
    if (point != layer->points.end()) {
      resolution.state = point->second ? Resolution::State::present : Resolution::State::absent;
      if (point->second) resolution.value = &*point->second;
      return resolution;
    }
    if (std::optional<KeyRange> cleared = layer->clear_holding(key)) {
      resolution.state = Resolution::State::absent;
      resolution.cleared_range = std::move(cleared);
      return resolution;
    }
  }
  return resolution;
}

namespace {

// The point writes of one layer inside a range, walked in one direction.
class PointCursor {
 public:
  using Points = std::map<Key, std::optional<Value>>;
  PointCursor(const Points& points, const KeyRange& range, bool reverse)
      : points_(&points), range_(&range), reverse_(reverse) {
    it_ = reverse ? points.lower_bound(range.end) : points.lower_bound(range.begin);
  }
  bool valid() const {
    if (!reverse_) return it_ != points_->end() && it_->first < range_->end;
    return it_ != points_->begin() && std::prev(it_)->first >= range_->begin;
  }
  const Key& key() const { return reverse_ ? std::prev(it_)->first : it_->first; }
  void next() {
    if (reverse_) --it_;
    else ++it_;
  }

 private:
  const Points* points_;
  const KeyRange* range_;
  bool reverse_;
  Points::const_iterator it_;
};

}  // namespace

std::vector<KeyValue> merged_range(const std::vector<const Overlay*>& newest_first, EntrySource& stored,
                                   const KeyRange& range, int limit, bool reverse, size_t bytes_limit) {
  std::vector<KeyValue> result;
  if (limit <= 0 || range.empty()) return result;
  std::vector<PointCursor> cursors;
  for (const Overlay* layer : newest_first) cursors.emplace_back(layer->points, range, reverse);
  stored.seek(reverse ? range.end : range.begin);
  auto before = [reverse](const Key& a, const Key& b) { return reverse ? b < a : a < b; };
  size_t bytes = 0;
  while (result.size() < static_cast<size_t>(limit)) {
    const bool stored_inside = stored.valid() && (reverse ? stored.key() >= range.begin : stored.key() < range.end);
    std::optional<Key> next;
    if (stored_inside) next = stored.key();
    for (const PointCursor& cursor : cursors) {
      if (cursor.valid() && (!next || before(cursor.key(), *next))) next = cursor.key();
    }
    if (!next) break;
    const Key key = std::move(*next);
    const Resolution resolution = resolve(newest_first, key);
    const bool from_stored = stored_inside && stored.key() == key;
    std::optional<Value> value;
    if (resolution.state == Resolution::State::present) value = *resolution.value;
    else if (resolution.state == Resolution::State::unknown && from_stored) value = stored.value();
    KEEL_ASSERT(resolution.state != Resolution::State::unknown || from_stored);
    for (PointCursor& cursor : cursors) {
      if (cursor.valid() && cursor.key() == key) cursor.next();
    }
    if (from_stored) {
      // Every stored key of a cleared range is either cleared or written again by a layer (and
      // then found through that layer's points): skip the stored ones.
      if (resolution.cleared_range) stored.seek(reverse ? resolution.cleared_range->begin : resolution.cleared_range->end);
      else stored.next();
    }
    if (!value) continue;
    bytes += key.size() + value->size();
    result.push_back(KeyValue{key, std::move(*value)});
    if (bytes >= bytes_limit) break;
  }
  return result;
}

}  // namespace keel::ssd
