#include "server/tlog/tlog_state.h"

#include <algorithm>
#include <limits>

namespace keel {
namespace {

// About the serialized size of a tagged mutation, for copy replies' byte limit.
int64_t tagged_bytes(const TaggedMutation& tagged) {
  return static_cast<int64_t>(tagged.mutation.expected_size() + sizeof(Tag) * tagged.tags.size() + 16);
}

// A tag's entries from `begin` on (entries are sorted by version).
std::deque<VersionedMutations>::const_iterator first_at_or_after(const std::deque<VersionedMutations>& entries,
                                                                 Version begin) {
  auto before = [](const VersionedMutations& entry, Version version) { return entry.version < version; };
  return std::lower_bound(entries.begin(), entries.end(), begin, before);
}

}  // namespace

void index_record(TLogState& state, TLogRecord record) {
  KEEL_ASSERT(record.version >= record.prev_version);
  if (!state.has_records) {
    // The first record this log holds: older segments may have been popped and deleted.
    state.has_records = true;
    if (state.generation == 0) state.generation = record.generation;
    state.last_version = std::max(state.last_version, record.prev_version);
  }
  KEEL_ASSERT(record.generation == state.generation);
  KEEL_ASSERT(record.prev_version == state.last_version);
  std::map<Tag, std::vector<Mutation>> split;
  for (TaggedMutation& tagged : record.mutations) {
    // A copy per tag but the last, which takes the mutation itself.
    for (size_t i = 0; i + 1 < tagged.tags.size(); ++i) split[tagged.tags[i]].push_back(tagged.mutation);
    if (!tagged.tags.empty()) split[tagged.tags.back()].push_back(std::move(tagged.mutation));
  }
  for (auto& [tag, mutations] : split) {
    if (state.popped[tag] >= record.version) continue;
    std::deque<VersionedMutations>& entries = state.by_tag[tag];
    KEEL_ASSERT(entries.empty() || entries.back().version < record.version);
    entries.push_back(VersionedMutations{record.version, std::move(mutations)});
  }
  state.last_version = record.version;
  state.known_committed = std::max(state.known_committed, record.known_committed_version);
}

void pop_tag(TLogState& state, Tag tag, Version up_to) {
  Version& popped = state.popped[tag];
  popped = std::max(popped, up_to);
  auto found = state.by_tag.find(tag);
  if (found == state.by_tag.end()) return;
  std::deque<VersionedMutations>& entries = found->second;
  while (!entries.empty() && entries.front().version <= popped) entries.pop_front();
}

Version popped_everywhere(const TLogState& state) {
  Version popped = state.last_version;
  for (const auto& [tag, version] : state.popped) popped = std::min(popped, version);
  for (const auto& [tag, entries] : state.by_tag) {
    if (!entries.empty()) popped = std::min(popped, entries.front().version - 1);
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
  const std::deque<VersionedMutations>& entries = found->second;
  size_t bytes = 0;
  for (auto it = first_at_or_after(entries, begin); it != entries.end() && it->version <= limit; ++it) {
    if (!reply.messages.empty() && bytes >= bytes_limit) {
      reply.end = reply.messages.back().version + 1;  // the next reply starts after the last one sent
      break;
    }
    reply.messages.push_back(*it);
    for (const Mutation& mutation : it->mutations) bytes += mutation.param1.size() + mutation.param2.size();
  }
  return reply;
}

TLogCopyReply collect_copy(const TLogState& state, Version begin, Version last, int64_t bytes_limit) {
  KEEL_ASSERT(last <= state.durable.get());
  struct Cursor {
    Tag tag;
    std::deque<VersionedMutations>::const_iterator at;
    std::deque<VersionedMutations>::const_iterator end;
  };
  std::vector<Cursor> cursors;
  for (const auto& [tag, entries] : state.by_tag) {
    cursors.push_back(Cursor{tag, first_at_or_after(entries, begin), entries.end()});
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
      lists.emplace_back(cursor.tag, &cursor.at->mutations);
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
