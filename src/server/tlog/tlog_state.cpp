#include "server/tlog/tlog_state.h"

#include <algorithm>
#include <limits>

namespace keel {
namespace {

// A tag's versions from `begin` on (they are sorted).
std::deque<TagVersion>::const_iterator first_at_or_after(const std::deque<TagVersion>& versions, Version begin) {
  auto before = [](const TagVersion& entry, Version version) { return entry.version < version; };
  return std::lower_bound(versions.begin(), versions.end(), begin, before);
}

int64_t mutation_bytes(const std::vector<Mutation>& mutations) {
  int64_t bytes = 0;
  for (const Mutation& mutation : mutations) bytes += static_cast<int64_t>(mutation.param1.size() + mutation.param2.size());
  return bytes;
}

// True if every mutation (there is at least one) goes to the same tags, in the same order.
bool same_tags(const std::vector<TaggedMutation>& mutations) {
  if (mutations.empty()) return false;
  const std::vector<Tag>& first = mutations.front().tags;
  return std::all_of(mutations.begin(), mutations.end(), [&first](const TaggedMutation& tagged) { return tagged.tags == first; });
}

}  // namespace

int64_t tagged_bytes(const TaggedMutation& tagged) {
  return static_cast<int64_t>(tagged.mutation.expected_size() + sizeof(Tag) * tagged.tags.size() + 16);
}

void index_record(TLogState& state, TLogRecord record, RecordRef where) {
  KEEL_ASSERT(record.version >= record.prev_version);
  if (!state.has_records) {
    // The first record this log holds: older segments may have been popped and deleted.
    state.has_records = true;
    if (state.generation == 0) state.generation = record.generation;
    state.last_version = std::max(state.last_version, record.prev_version);
  }
  KEEL_ASSERT(record.generation == state.generation);
  KEEL_ASSERT(record.prev_version == state.last_version);
  std::map<Tag, std::shared_ptr<std::vector<Mutation>>> split;
  if (same_tags(record.mutations)) {
    // The usual record: every mutation for the same tags, which share one list.
    auto shared = std::make_shared<std::vector<Mutation>>();
    shared->reserve(record.mutations.size());
    for (TaggedMutation& tagged : record.mutations) shared->push_back(std::move(tagged.mutation));
    for (Tag tag : record.mutations.front().tags) split[tag] = shared;
  } else {
    auto list_of = [&split](Tag tag) -> std::vector<Mutation>& {
      std::shared_ptr<std::vector<Mutation>>& list = split[tag];
      if (!list) list = std::make_shared<std::vector<Mutation>>();
      return *list;
    };
    for (TaggedMutation& tagged : record.mutations) {
      // A copy per tag but the last, which takes the mutation itself.
      for (size_t i = 0; i + 1 < tagged.tags.size(); ++i) list_of(tagged.tags[i]).push_back(tagged.mutation);
      if (!tagged.tags.empty()) list_of(tagged.tags.back()).push_back(std::move(tagged.mutation));
    }
  }
  for (auto& [tag, mutations] : split) {
    if (state.popped[tag] >= record.version) continue;
    TagIndex& index = state.by_tag[tag];
    KEEL_ASSERT(index.versions.empty() || index.versions.back().version < record.version);
    const int64_t bytes = mutation_bytes(*mutations);
    index.versions.push_back(TagVersion{record.version, std::move(mutations), where, bytes});
    index.memory_bytes += bytes;
    state.memory_bytes += bytes;
  }
  state.last_version = record.version;
  state.known_committed = std::max(state.known_committed, record.known_committed_version);
}

void spill_to(TLogState& state, int64_t memory_bytes_max, Version through) {
  while (state.memory_bytes > memory_bytes_max) {
    TagIndex* fullest = nullptr;
    for (auto& [tag, index] : state.by_tag) {
      if (index.spilled == index.versions.size() || index.versions[index.spilled].version > through) continue;
      if (fullest == nullptr || index.memory_bytes > fullest->memory_bytes) fullest = &index;
    }
    if (fullest == nullptr) return;
    TagVersion& oldest = fullest->versions[fullest->spilled++];
    oldest.mutations.reset();  // freed with the last tag sharing it
    fullest->memory_bytes -= oldest.bytes;
    state.memory_bytes -= oldest.bytes;
    state.spilled_through = std::max(state.spilled_through, oldest.version);
  }
}

void pop_tag(TLogState& state, Tag tag, Version up_to) {
  Version& popped = state.popped[tag];
  popped = std::max(popped, up_to);
  auto found = state.by_tag.find(tag);
  if (found == state.by_tag.end()) return;
  TagIndex& index = found->second;
  while (!index.versions.empty() && index.versions.front().version <= popped) {
    if (index.spilled > 0) {
      --index.spilled;
    } else {
      index.memory_bytes -= index.versions.front().bytes;
      state.memory_bytes -= index.versions.front().bytes;
    }
    index.versions.pop_front();
  }
}

Version popped_everywhere(const TLogState& state) {
  Version popped = state.last_version;
  for (const auto& [tag, version] : state.popped) popped = std::min(popped, version);
  for (const auto& [tag, index] : state.by_tag) {
    if (!index.versions.empty()) popped = std::min(popped, index.versions.front().version - 1);
  }
  return popped;
}

TLogPeekReply collect_peek(const TLogState& state, Tag tag, Version begin, size_t bytes_limit) {
  TLogPeekReply reply;
  const Version limit = state.durable.get();
  reply.end = limit + 1;
  reply.known_committed_version = state.known_committed;
  auto found = state.by_tag.find(tag);
  if (found == state.by_tag.end()) return reply;
  const std::deque<TagVersion>& versions = found->second.versions;
  const auto first_in_memory = versions.begin() + static_cast<std::ptrdiff_t>(found->second.spilled);
  size_t bytes = 0;
  for (auto it = first_at_or_after(versions, begin); it != versions.end() && it->version <= limit; ++it) {
    if (it < first_in_memory) {
      reply.end = it->version;  // read from the files from here on
      break;
    }
    if (!reply.messages.empty() && bytes >= bytes_limit) {
      reply.end = reply.messages.back().version + 1;  // the next reply starts after the last one sent
      break;
    }
    reply.messages.push_back(PeekedVersion{it->version, it->mutations});
    bytes += static_cast<size_t>(it->bytes);
  }
  return reply;
}

std::vector<TagVersion> spilled_peek(const TLogState& state, Tag tag, Version begin, size_t bytes_limit) {
  std::vector<TagVersion> spilled;
  auto found = state.by_tag.find(tag);
  if (found == state.by_tag.end()) return spilled;
  const std::deque<TagVersion>& versions = found->second.versions;
  const auto first_in_memory = versions.begin() + static_cast<std::ptrdiff_t>(found->second.spilled);
  size_t bytes = 0;
  for (auto it = first_at_or_after(versions, begin); it < first_in_memory; ++it) {
    if (!spilled.empty() && bytes >= bytes_limit) break;
    spilled.push_back(*it);
    bytes += static_cast<size_t>(it->bytes);
  }
  return spilled;
}

RecordsBetween records_between(const TLogState& state, Version begin, Version last, int64_t bytes_limit) {
  std::map<Version, RecordRef> records;
  Version through = last;  // lowered to where a tag reaches the limit; later tags stop there
  for (const auto& [tag, index] : state.by_tag) {
    int64_t bytes = 0;
    for (auto it = first_at_or_after(index.versions, begin); it != index.versions.end() && it->version <= through; ++it) {
      records.emplace(it->version, it->record);
      bytes += it->bytes;
      if (bytes >= bytes_limit) {
        through = it->version;
        break;
      }
    }
  }
  RecordsBetween between;
  between.through = through;
  for (auto it = records.begin(); it != records.end() && it->first <= through; ++it) between.records.push_back(*it);
  return between;
}

std::vector<TaggedMutation> unpopped_mutations(const TLogState& state, TLogRecord record) {
  std::vector<TaggedMutation> kept;
  for (TaggedMutation& tagged : record.mutations) {
    std::erase_if(tagged.tags, [&](Tag tag) {
      auto popped = state.popped.find(tag);
      return popped != state.popped.end() && popped->second >= record.version;
    });
    if (!tagged.tags.empty()) kept.push_back(std::move(tagged));
  }
  return kept;
}

TLogCopyReply collect_copy(const TLogState& state, Version begin, Version last, int64_t bytes_limit) {
  KEEL_ASSERT(last <= state.durable.get());
  KEEL_ASSERT(state.spilled_through == 0 || begin > state.spilled_through);
  struct Cursor {
    Tag tag;
    std::deque<TagVersion>::const_iterator at;
    std::deque<TagVersion>::const_iterator end;
  };
  std::vector<Cursor> cursors;
  for (const auto& [tag, index] : state.by_tag) {
    cursors.push_back(Cursor{tag, first_at_or_after(index.versions, begin), index.versions.end()});
  }
  TLogCopyReply reply;
  reply.next = last + 1;
  int64_t bytes = 0;
  while (true) {
    Version version = std::numeric_limits<Version>::max();
    for (const Cursor& cursor : cursors) {
      if (cursor.at != cursor.end) version = std::min(version, cursor.at->version);
    }
    if (version > last) break;
    std::vector<std::pair<Tag, const std::vector<Mutation>*>> lists;
    for (Cursor& cursor : cursors) {
      if (cursor.at == cursor.end || cursor.at->version != version) continue;
      lists.emplace_back(cursor.tag, cursor.at->mutations.get());
      ++cursor.at;
    }
    TLogCopyEntry entry{version, merge_tags(lists)};
    for (const TaggedMutation& tagged : entry.mutations) bytes += tagged_bytes(tagged);
    reply.entries.push_back(std::move(entry));
    if (bytes >= bytes_limit) {
      reply.next = version + 1;
      break;
    }
  }
  return reply;
}

std::vector<TaggedMutation> merge_tags(const std::vector<std::pair<Tag, const std::vector<Mutation>*>>& lists) {
  std::vector<size_t> next(lists.size(), 0);
  std::vector<TaggedMutation> merged;
  while (true) {
    // The list with the most left is the likeliest to hold the earliest of the record's
    // mutations; whichever leads, every list is consumed in its own order.
    size_t lead = lists.size();
    size_t most = 0;
    for (size_t i = 0; i < lists.size(); ++i) {
      const size_t left = lists[i].second->size() - next[i];
      if (left > most) {
        most = left;
        lead = i;
      }
    }
    if (lead == lists.size()) break;
    TaggedMutation tagged{{}, (*lists[lead].second)[next[lead]]};
    for (size_t i = 0; i < lists.size(); ++i) {
      const std::vector<Mutation>& mutations = *lists[i].second;
      if (next[i] < mutations.size() && mutations[next[i]] == tagged.mutation) {
        tagged.tags.push_back(lists[i].first);
        ++next[i];
      }
    }
    merged.push_back(std::move(tagged));
  }
  return merged;
}

}  // namespace keel
