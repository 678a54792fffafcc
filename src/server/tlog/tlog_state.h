// The state of one transaction log and the pure operations on its in-memory index (private to
// src/server/tlog). Single-threaded: only the log's own actors touch it.
//
// The index holds, per tag, every unpopped version that has mutations for the tag, oldest first.
// Versions are indexed when their record is appended or replayed (before they are durable):
// peeks and copies stop at `durable`.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "protocol/tlog_interface.h"
#include "runtime/notified.h"
#include "world/world.h"

namespace keel {

// One appended commit (or seeded version). Field order is the on-disk format: never change it.
struct TLogRecord {
  uint64_t generation = 0;
  Version prev_version = 0;
  Version version = 0;
  Version known_committed_version = 0;
  std::vector<TaggedMutation> mutations;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(generation, prev_version, version, known_committed_version, mutations);
  }
};

struct TLogSegment {
  std::string path;
  Version first_version = 0;  // from the file name: the version its first record was written for
  Version last_version = 0;   // of its last record (first_version - 1 while it has none)
};

struct TLogState {
  uint64_t id = 0;
  std::string directory;
  uint64_t generation = 0;  // the one generation this log was recruited into (0: unknown, no records)
  bool locked = false;      // no more pushes, for good
  Version last_version = 0;             // the last version indexed (appended or replayed)
  NotifiedValue<Version> appended{0};   // the last version whose write completed
  NotifiedValue<Version> durable{0};    // the last version covered by a sync; peeks stop here
  Version known_committed = 0;
  bool has_records = false;  // some record was indexed (replayed or appended)
  std::map<Tag, std::deque<VersionedMutations>> by_tag;
  std::map<Tag, Version> popped;
  std::vector<TLogSegment> segments;  // oldest first; a recruited log appends to the last one
  std::shared_ptr<IFile> file;        // the last segment, open for appends (none once restarted)
  int64_t file_size = 0;
  std::map<Version, TLogCommitRequest> waiting_commits;  // by prev_version, until the chain reaches them
};

// Adds a record's mutations to the index (moved there). Records come in chain order, all of one
// generation.
void index_record(TLogState& state, TLogRecord record);

// Drops a tag's versions up to `up_to`.
void pop_tag(TLogState& state, Tag tag, Version up_to);

// The newest version every tag has popped (or never had data at): segments wholly at or below it
// are no longer needed.
Version popped_everywhere(const TLogState& state);

// A tag's durable versions from `begin` on, whole versions, stopping after the version that
// reaches about `bytes_limit` key and value bytes (reply.end says where to continue).
TLogPeekReply collect_peek(const TLogState& state, Tag tag, Version begin, size_t bytes_limit);

// Every indexed version in [begin, last] with its mutations of every tag, oldest first, stopping
// at the version that brings the reply to `bytes_limit` (always at least one version). `last`
// must be durable.
TLogCopyReply collect_copy(const TLogState& state, Version begin, Version last, int64_t bytes_limit);

// One version's per-tag mutation lists as tagged mutations, merging a mutation that heads several
// lists at once into one entry with all their tags. Each tag's order is kept.
std::vector<TaggedMutation> merge_tags(const std::vector<std::pair<Tag, const std::vector<Mutation>*>>& lists);

}  // namespace keel
