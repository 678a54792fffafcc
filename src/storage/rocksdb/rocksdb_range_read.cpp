#include "storage/rocksdb/rocksdb_range_read.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <span>

namespace keel {
namespace {

// Collects pairs up to the request's limits.
class RangeResult {
 public:
  RangeResult(const RangeReadRequest& request, std::vector<KeyValue>* pairs) : request_(request), pairs_(pairs) {}

  // Adds one pair; false once either limit is reached.
  bool add(std::string_view key, std::string_view value) {
    pairs_->push_back(KeyValue{Key(key), Value(value)});
    bytes_ += key.size() + value.size();
    return pairs_->size() < static_cast<size_t>(request_.limit) && bytes_ < request_.bytes_limit;
  }

 private:
  const RangeReadRequest& request_;
  std::vector<KeyValue>* pairs_;
  size_t bytes_ = 0;
};

std::string_view view(const rocksdb::Slice& slice) { return std::string_view(slice.data(), slice.size()); }

// Moves a forward iterator past the keys the overlay's cleared ranges hide.
void skip_cleared_forward(rocksdb::Iterator& it, const WriteOverlay& overlay) {
  while (it.Valid()) {
    std::optional<KeyRange> cleared = overlay.cleared_range_containing(Key(view(it.key())));
    if (!cleared) return;
    it.Seek(cleared->end);
  }
}

// Moves a backward iterator before the keys the overlay's cleared ranges hide.
void skip_cleared_backward(rocksdb::Iterator& it, const WriteOverlay& overlay) {
  while (it.Valid()) {
    std::optional<KeyRange> cleared = overlay.cleared_range_containing(Key(view(it.key())));
    if (!cleared) return;
    it.SeekForPrev(cleared->begin);
    if (it.Valid() && view(it.key()) >= std::string_view(cleared->begin)) it.Prev();
  }
}

// Merges the iterator (positioned at its first key) with the overlay's point writes in
// [first, last), which run in the iterator's direction. `later` tells whether key a comes
// after key b in that direction.
template <class WriteIterator, class Later>
void merge(rocksdb::Iterator& it, const WriteOverlay& overlay, WriteIterator write, WriteIterator last,
           bool forward, Later later, RangeResult& result) {
  while (true) {
    if (forward) skip_cleared_forward(it, overlay);
    else skip_cleared_backward(it, overlay);
    const bool stored = it.Valid();
    const bool buffered = write != last;
    if (!stored && !buffered) return;
    bool more = true;
    if (stored && (!buffered || later((*write)->key(), view(it.key())))) {
      more = result.add(view(it.key()), view(it.value()));
      if (forward) it.Next();
      else it.Prev();
    } else {
      const bool same_key = stored && view(it.key()) == (*write)->key();
      if ((*write)->value) more = result.add((*write)->key(), *(*write)->value);
      if (same_key) {
        if (forward) it.Next();
        else it.Prev();
      }
      ++write;
    }
    if (!more) return;
  }
}

}  // namespace

rocksdb::Status read_merged_range(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                                  const rocksdb::Snapshot* snapshot, const WriteOverlay& overlay,
                                  const RangeReadRequest& request, std::vector<KeyValue>* result) {
  if (request.limit <= 0 || request.range.empty()) return rocksdb::Status::OK();
  const rocksdb::Slice lower(request.range.begin);
  const rocksdb::Slice upper(request.range.end);
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  options.iterate_lower_bound = &lower;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, family));

  const std::span<const WriteOverlay::Write* const> writes = overlay.ordered_writes();
  auto below = [](const WriteOverlay::Write* write, const Key& key) { return write->key() < std::string_view(key); };
  const auto first = std::lower_bound(writes.begin(), writes.end(), request.range.begin, below);
  const auto last = std::lower_bound(first, writes.end(), request.range.end, below);
  RangeResult collected(request, result);
  if (!request.reverse) {
    it->Seek(lower);
    auto later = [](std::string_view a, std::string_view b) { return a > b; };
    merge(*it, overlay, first, last, true, later, collected);
  } else {
    it->SeekToLast();
    auto later = [](std::string_view a, std::string_view b) { return a < b; };
    merge(*it, overlay, std::make_reverse_iterator(last), std::make_reverse_iterator(first), false, later, collected);
  }
  return it->status();
}

}  // namespace keel
