#include "server/storage_server/versioned_data.h"

#include <algorithm>

#include "runtime/assert.h"

namespace keel {

void VersionedData::advance_to(Version version) {
  KEEL_ASSERT(version >= latest_);
  latest_ = version;
}

void VersionedData::set(Version version, const Key& key, const Value& value) {
  KEEL_ASSERT(version > oldest_ && version >= latest_);
  writes_[key].push_back(Write{version, next_sequence_++, value});
  log_.push_back(Logged{version, Mutation{MutationType::set_value, key, value}});
  bytes_ += key.size() + value.size();
  latest_ = version;
}

void VersionedData::clear_range(Version version, const KeyRange& range) {
  KEEL_ASSERT(version > oldest_ && version >= latest_);
  if (range.empty()) return;
  clears_.push_back(Clear{version, next_sequence_++, range});
  log_.push_back(Logged{version, Mutation{MutationType::clear_range, range.begin, range.end}});
  bytes_ += range.begin.size() + range.end.size();
  latest_ = version;
}

std::optional<std::optional<Value>> VersionedData::get(const Key& key, Version version) const {
  const Write* latest = nullptr;
  if (auto it = writes_.find(key); it != writes_.end()) {
    for (auto write = it->second.rbegin(); write != it->second.rend(); ++write) {
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
  if (!reverse) {
    for (auto it = writes_.lower_bound(range.begin); it != writes_.end() && it->first < range.end && keys.size() < limit; ++it) {
      keys.push_back(it->first);
    }
    return keys;
  }
  for (auto it = writes_.lower_bound(range.end); it != writes_.begin() && keys.size() < limit;) {
    --it;
    if (it->first < range.begin) break;
    keys.push_back(it->first);
  }
  return keys;
}

std::vector<Mutation> VersionedData::make_durable(Version version) {
  KEEL_ASSERT(version >= oldest_ && version <= latest_);
  std::vector<Mutation> mutations;
  while (!log_.empty() && log_.front().version <= version) {
    Mutation& mutation = log_.front().mutation;
    if (mutation.type == MutationType::set_value) {
      auto it = writes_.find(mutation.param1);
      KEEL_ASSERT(it != writes_.end() && !it->second.empty());
      it->second.erase(it->second.begin());
      if (it->second.empty()) writes_.erase(it);
    }
    bytes_ -= mutation.param1.size() + mutation.param2.size();
    mutations.push_back(std::move(mutation));
    log_.pop_front();
  }
  clears_.erase(std::remove_if(clears_.begin(), clears_.end(),
                               [version](const Clear& clear) { return clear.version <= version; }),
                clears_.end());
  oldest_ = version;
  return mutations;
}

Version VersionedData::durable_step(Version target, size_t bytes_max) const {
  size_t bytes = 0;
  Version taken = oldest_;  // the newest version whose writes are counted
  for (const Logged& logged : log_) {
    if (logged.version > target) break;
    const size_t size = logged.mutation.param1.size() + logged.mutation.param2.size();
    // A version's writes go together: stop only where a new version begins.
    if (bytes > 0 && bytes + size > bytes_max && logged.version > taken) return logged.version - 1;
    bytes += size;
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
    const Mutation& mutation = logged.mutation;
    if (mutation.type == MutationType::set_value) {
      auto it = writes_.find(mutation.param1);
      KEEL_ASSERT(it != writes_.end() && !it->second.empty() && it->second.back().version == logged.version);
      it->second.pop_back();
      if (it->second.empty()) writes_.erase(it);
    } else {
      KEEL_ASSERT(!clears_.empty() && clears_.back().version == logged.version);
      KEEL_ASSERT(clears_.back().range == (KeyRange{mutation.param1, mutation.param2}));
      clears_.pop_back();
    }
    bytes_ -= mutation.param1.size() + mutation.param2.size();
    log_.pop_back();
  }
  latest_ = version;
}

}  // namespace keel
