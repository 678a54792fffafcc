#include "server/storage_server/versioned_data.h"

#include <algorithm>

#include "runtime/assert.h"

namespace keel {

void VersionedData::advance_to(Version version) {
  KEEL_ASSERT(version >= latest_);
  latest_ = version;
}

void VersionedData::set(Version version, Key key, Value value) {
  append(version, std::move(key), std::move(value));
}

void VersionedData::clear_range(Version version, const KeyRange& range) {
  KEEL_ASSERT(version > oldest_ && version >= latest_);
  if (range.empty()) return;
  if (range.end.size() == range.begin.size() + 1 && range.end.back() == '\0' &&
      range.end.compare(0, range.begin.size(), range.begin) == 0) {
    // One key: a write of "absent" to it, which reads find in its history like a set.
    append(version, range.begin, std::nullopt);
    return;
  }
  clears_.push_back(Clear{version, next_sequence_++, range});
  log_.push_back(Logged{version, nullptr, range.begin.size() + range.end.size()});
  bytes_ += range.begin.size() + range.end.size();
  latest_ = version;
}

// A clear of one key counts its key twice, as the range it came as did.
void VersionedData::append(Version version, Key key, std::optional<Value> value) {
  KEEL_ASSERT(version > oldest_ && version >= latest_);
  const size_t bytes = value ? key.size() + value->size() : 2 * key.size() + 1;
  const auto [entry, inserted] = histories_.try_emplace(std::move(key));
  if (inserted) {
    unindexed_.push_back(&*entry);
  } else if (entry->second.writes.empty()) {
    --empty_histories_;
  }
  entry->second.writes.push_back(Write{version, next_sequence_++, std::move(value)});
  log_.push_back(Logged{version, &*entry, bytes});
  bytes_ += bytes;
  latest_ = version;
}

std::optional<std::optional<Value>> VersionedData::get(const Key& key, Version version) const {
  const Write* latest = nullptr;
  if (auto it = histories_.find(key); it != histories_.end()) {
    const std::vector<Write>& writes = it->second.writes;
    for (auto write = writes.rbegin(); write != writes.rend(); ++write) {
      if (write->version <= version) {
        latest = &*write;
        break;
      }
    }
  }
  for (auto clear = clears_.rbegin(); clear != clears_.rend(); ++clear) {
    if (latest != nullptr && clear->sequence < latest->sequence) break;
    if (clear->version <= version && clear->range.contains(key)) return std::optional<Value>();
  }
  const std::optional<Value>* value = latest ? &latest->value : nullptr;
  if (value != nullptr) return *value;
  return std::nullopt;
}

std::vector<Key> VersionedData::keys_with_writes(const KeyRange& range, bool reverse, size_t limit) const {
  std::vector<Key> keys;
  if (range.empty()) return keys;
  index_new_keys();
  auto take = [&](const auto& indexed) {
    if (!indexed.second->second.writes.empty()) keys.emplace_back(indexed.first);
  };
  if (!reverse) {
    for (auto it = index_.lower_bound(range.begin); it != index_.end() && it->first < range.end && keys.size() < limit; ++it) {
      take(*it);
    }
    return keys;
  }
  for (auto it = index_.lower_bound(range.end); it != index_.begin() && keys.size() < limit;) {
    --it;
    if (it->first < range.begin) break;
    take(*it);
  }
  return keys;
}

void VersionedData::index_new_keys() const {
  for (Entry* entry : unindexed_) {
    index_.emplace(entry->first, entry);
    entry->second.indexed = true;
  }
  unindexed_.clear();
}

std::vector<Mutation> VersionedData::make_durable(Version version) {
  KEEL_ASSERT(version >= oldest_ && version <= latest_);
  std::vector<Mutation> mutations;
  while (!log_.empty() && log_.front().version <= version) {
    const Logged& logged = log_.front();
    if (logged.set == nullptr) {
      KEEL_ASSERT(!clears_.empty() && clears_.front().version == logged.version);
      KeyRange& range = clears_.front().range;
      mutations.push_back(Mutation{MutationType::clear_range, std::move(range.begin), std::move(range.end)});
      clears_.pop_front();
    } else {
      std::vector<Write>& writes = logged.set->second.writes;
      KEEL_ASSERT(!writes.empty() && writes.front().version == logged.version);
      std::optional<Value> value = std::move(writes.front().value);
      writes.erase(writes.begin());
      if (writes.empty()) ++empty_histories_;
      Key key = logged.set->first;
      if (value) {
        mutations.push_back(Mutation{MutationType::set_value, std::move(key), std::move(*value)});
      } else {
        Key end = key_after(key);
        mutations.push_back(Mutation{MutationType::clear_range, std::move(key), std::move(end)});
      }
    }
    bytes_ -= logged.bytes;
    log_.pop_front();
  }
  oldest_ = version;
  purge_empty_histories();
  return mutations;
}

Version VersionedData::durable_step(Version target, size_t bytes_max) const {
  size_t bytes = 0;
  Version taken = oldest_;  // the newest version whose writes are counted
  for (const Logged& logged : log_) {
    if (logged.version > target) break;
    // A version's writes go together: stop only where a new version begins.
    if (bytes > 0 && bytes + logged.bytes > bytes_max && logged.version > taken) return logged.version - 1;
    bytes += logged.bytes;
    taken = logged.version;
  }
  return target;
}

void VersionedData::rollback(Version version) {
  KEEL_ASSERT(version >= oldest_ && version <= latest_);
  // The log holds every write in order, so the writes to undo are its tail, and each is the
  // newest entry of its key (a set) or the newest clear.
  while (!log_.empty() && log_.back().version > version) {
    const Logged& logged = log_.back();
    if (logged.set == nullptr) {
      KEEL_ASSERT(!clears_.empty() && clears_.back().version == logged.version);
      clears_.pop_back();
    } else {
      std::vector<Write>& writes = logged.set->second.writes;
      KEEL_ASSERT(!writes.empty() && writes.back().version == logged.version);
      writes.pop_back();
      if (writes.empty()) ++empty_histories_;
    }
    bytes_ -= logged.bytes;
    log_.pop_back();
  }
  latest_ = version;
  purge_empty_histories();
}

// Once the empty histories are as many as the rest (and more than a few), they go in one pass:
// first from the key order, then from the table. No logged write points at them.
void VersionedData::purge_empty_histories() {
  constexpr size_t empty_histories_min = 1024;
  if (empty_histories_ < empty_histories_min || 2 * empty_histories_ < histories_.size()) return;
  std::erase_if(unindexed_, [](const Entry* entry) { return entry->second.writes.empty(); });
  std::erase_if(index_, [](const auto& indexed) { return indexed.second->second.writes.empty(); });
  std::erase_if(histories_, [](const Entry& entry) { return entry.second.writes.empty(); });
  empty_histories_ = 0;
}

}  // namespace keel
