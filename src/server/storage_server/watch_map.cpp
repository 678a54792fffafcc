#include "server/storage_server/watch_map.h"

namespace keel {

WatchMap::Registration::Registration(WatchMap* map, Key key) : map_(map), key_(std::move(key)) {
  std::unique_ptr<Entry>& entry = map_->entries_[key_];
  if (!entry) entry = std::make_unique<Entry>();
  ++entry->registrations;
  entry_ = entry.get();
}

WatchMap::Registration::~Registration() {
  if (--entry_->registrations == 0) map_->entries_.erase(key_);
}

void WatchMap::changed_key(const Key& key, Version version) {
  if (entries_.empty()) return;
  const auto it = entries_.find(key);
  if (it != entries_.end()) it->second->last_change.set(version);
}

void WatchMap::changed(const KeyRange& range, Version version) {
  if (entries_.empty()) return;
  for (auto it = entries_.lower_bound(range.begin); it != entries_.end() && it->first < range.end; ++it) {
    it->second->last_change.set(version);
  }
}

}  // namespace keel
