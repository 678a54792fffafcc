#include "server/storage_server/versioned_data.h"

#include <algorithm>
#include <iterator>

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
  if (is_single_key_range(range)) {
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
  if (!inserted && entry->value.writes.empty()) --empty_histories_;
  if (!entry->value.listed) {
    list_new_key(entry);
  }
  entry->value.writes.push_back(Write{version, next_sequence_++, std::move(value)});
  log_.push_back(Logged{version, entry, bytes});
  bytes_ += bytes;
  latest_ = version;
}

std::optional<std::optional<Value>> VersionedData::get(const Key& key, Version version) const {
  const Write* latest = nullptr;
  if (const Entry* entry = histories_.find(key); entry != nullptr) {
    const std::span<const Write> writes = entry->value.writes.live();
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

void VersionedData::list_new_key(Entry* entry) {
  entry->value.listed = true;
  new_keys_.push_back(entry);
  if (new_keys_.size() == 1) {
    new_keys_lowest_ = new_keys_highest_ = entry->key();
  } else if (entry->key() < new_keys_lowest_) {
    new_keys_lowest_ = entry->key();
  } else if (entry->key() > new_keys_highest_) {
    new_keys_highest_ = entry->key();
  }
}

bool VersionedData::new_keys_may_intersect(const KeyRange& range) const {
  return !new_keys_.empty() && range.begin <= new_keys_highest_ && new_keys_lowest_ < range.end;
}

namespace {

template <class Entry>
bool key_less(const Entry* a, const Entry* b) {
  return a->key() < b->key();
}

}  // namespace

// Each run gives its first `limit` keys with writes in the range (from the end if `reverse`);
// the first `limit` of them all are the answer.
std::vector<Key> VersionedData::keys_with_writes(const KeyRange& range, bool reverse, size_t limit) const {
  std::vector<Key> keys;
  if (range.empty()) return keys;
  // New keys all outside the range (writes to one part of the keyspace, reads of another) stay
  // unsorted: the sort waits for a read that needs it.
  if (new_keys_may_intersect(range)) sort_new_keys();
  std::vector<const Entry*> found;
  for (const std::vector<Entry*>& run : runs_) {
    size_t taken = 0;
    if (!reverse) {
      auto it = std::partition_point(run.begin(), run.end(), [&](const Entry* entry) { return entry->key() < range.begin; });
      for (; it != run.end() && (*it)->key() < range.end && taken < limit; ++it) {
        if (!(*it)->value.writes.empty()) found.push_back(*it), ++taken;
      }
    } else {
      auto it = std::partition_point(run.begin(), run.end(), [&](const Entry* entry) { return entry->key() < range.end; });
      while (it != run.begin() && taken < limit) {
        --it;
        if ((*it)->key() < range.begin) break;
        if (!(*it)->value.writes.empty()) found.push_back(*it), ++taken;
      }
    }
  }
  std::sort(found.begin(), found.end(), key_less<Entry>);
  if (reverse) std::reverse(found.begin(), found.end());
  for (size_t i = 0; i < found.size() && i < limit; ++i) keys.emplace_back(found[i]->key());
  return keys;
}

// The new keys become the newest run; a run at least half the size of the one before merges
// into it. Empty histories are left out of both (unlisted, so a new write lists them again).
void VersionedData::sort_new_keys() const {
  if (new_keys_.empty()) return;
  auto drop_empty = [](std::vector<Entry*>& run) {
    std::erase_if(run, [](Entry* entry) {
      if (!entry->value.writes.empty()) return false;
      entry->value.listed = false;
      return true;
    });
  };
  drop_empty(new_keys_);
  std::sort(new_keys_.begin(), new_keys_.end(), key_less<Entry>);
  runs_.push_back(std::move(new_keys_));
  new_keys_.clear();
  while (runs_.size() >= 2 && 2 * runs_.back().size() >= runs_[runs_.size() - 2].size()) {
    std::vector<Entry*> newer = std::move(runs_.back());
    runs_.pop_back();
    std::vector<Entry*>& older = runs_.back();
    std::vector<Entry*> merged;
    merged.reserve(older.size() + newer.size());
    std::merge(older.begin(), older.end(), newer.begin(), newer.end(), std::back_inserter(merged), key_less<Entry>);
    drop_empty(merged);
    older = std::move(merged);
  }
}

std::vector<Mutation> VersionedData::make_durable(Version version, size_t writes_max) {
  KEEL_ASSERT(version >= oldest_ && version <= latest_);
  std::vector<Mutation> mutations;
  while (!log_.empty() && log_.front().version <= version && mutations.size() < writes_max) {
    const Logged& logged = log_.front();
    if (logged.set == nullptr) {
      KEEL_ASSERT(!clears_.empty() && clears_.front().version == logged.version);
      KeyRange& range = clears_.front().range;
      mutations.push_back(Mutation{MutationType::clear_range, std::move(range.begin), std::move(range.end)});
      clears_.pop_front();
    } else {
      WriteHistory& writes = logged.set->value.writes;
      KEEL_ASSERT(!writes.empty() && writes.front().version == logged.version);
      std::optional<Value> value = writes.take_front().value;
      if (writes.empty()) ++empty_histories_;
      Key key(logged.set->key());
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
  if (!mutations.empty()) ++handed_out_;
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
      WriteHistory& writes = logged.set->value.writes;
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

void VersionedData::WriteHistory::push_back(Write write) {
  if (single_) {
    writes_.clear();
    start_ = 0;
    writes_.push_back(std::move(*single_));
    single_.reset();
    writes_.push_back(std::move(write));
  } else if (start_ == writes_.size()) {
    single_.emplace(std::move(write));
  } else {
    writes_.push_back(std::move(write));
  }
}

void VersionedData::WriteHistory::pop_back() {
  KEEL_ASSERT(!empty());
  if (single_) {
    single_.reset();
    return;
  }
  writes_.pop_back();
  reclaim_taken();
}

VersionedData::Write VersionedData::WriteHistory::take_front() {
  KEEL_ASSERT(!empty());
  if (single_) {
    Write taken = std::move(*single_);
    single_.reset();
    return taken;
  }
  Write taken = std::move(writes_[start_++]);
  reclaim_taken();
  return taken;
}

void VersionedData::WriteHistory::reclaim_taken() {
  if (2 * start_ < writes_.size()) return;
  writes_.erase(writes_.begin(), writes_.begin() + static_cast<std::ptrdiff_t>(start_));
  start_ = 0;
}

// Once the empty histories are as many as the rest (and more than a few), they go in one pass:
// first from the key order, then from the table. No logged write points at them.
void VersionedData::purge_empty_histories() {
  constexpr size_t empty_histories_min = 1024;
  if (empty_histories_ < empty_histories_min || 2 * empty_histories_ < histories_.size()) return;
  auto empty = [](const Entry* entry) { return entry->value.writes.empty(); };
  std::erase_if(new_keys_, empty);
  for (std::vector<Entry*>& run : runs_) std::erase_if(run, empty);
  std::erase_if(runs_, [](const std::vector<Entry*>& run) { return run.empty(); });
  histories_.erase_if([](const Entry& entry) { return entry.value.writes.empty(); });
  empty_histories_ = 0;
}

}  // namespace keel
