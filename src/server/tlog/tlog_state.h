// The state of one transaction log and the pure operations on its in-memory index (private to
// src/server/tlog). Single-threaded: only the log's own actors touch it.
//
// The index holds, per tag, every unpopped version that has mutations for the tag, oldest first.
// Versions are indexed when their record is appended or replayed (before they are durable):
// peeks and copies stop at `durable`.
//
// Spilling: when the mutations held in memory pass a threshold (tlog_spill_bytes), the oldest
// durable versions of the tags holding the most give up their mutations and keep only where
// their record is in the files (spill_to); peeks and copies of those versions read the records
// back (tlog.cpp, tlog_copy.cpp). So a storage server that is down or far behind costs its logs
// disk, not memory (about 60 bytes per version it has not popped stay in memory). A tag's
// spilled versions are always the oldest of its index.
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

// Where a record is in the log's files: its frame (tlog_files.h) at `offset` of the segment
// whose first version is `segment`.
struct RecordRef {
  Version segment = 0;
  int64_t offset = 0;
  int64_t length = 0;
};

// One tag's mutations at one version, or, spilled, where to read them again. Tags that carry
// every mutation of the version share one list (PeekedVersion), so the log holds it once, and
// each tag's `bytes` counts it: the spill threshold sees a shared list once per tag.
struct TagVersion {
  Version version = 0;
  std::shared_ptr<std::vector<Mutation>> mutations;  // null once spilled; never changed
  RecordRef record;
  int64_t bytes = 0;  // the mutations' key and value bytes (kept when spilled)
};

struct TagIndex {
  std::deque<TagVersion> versions;  // oldest first
  size_t spilled = 0;               // how many at the front are spilled (the others are not)
  int64_t memory_bytes = 0;         // of the versions not spilled
};

struct TLogSegment {
  std::string path;
  Version first_version = 0;  // from the file name: the version its first record was written for
  Version last_version = 0;   // of its last record (first_version - 1 while it has none)
  std::shared_ptr<IFile> reader;  // opened by the first read of a spilled record in it
};

struct TLogState {
  uint64_t id = 0;
  std::string directory;
  uint64_t generation = 0;  // the one generation this log was recruited into (0: unknown, no records)
  bool locked = false;      // no more pushes, for good
  Version last_version = 0;             // the last version indexed (appended or replayed)
  NotifiedValue<Version> buffered{0};   // the last version whose record waits in `unwritten` (or later)
  NotifiedValue<Version> appended{0};   // the last version whose write completed
  NotifiedValue<Version> durable{0};    // the last version covered by a sync; peeks stop here
  Version known_committed = 0;
  bool has_records = false;  // some record was indexed (replayed or appended)
  std::map<Tag, TagIndex> by_tag;
  std::map<Tag, Version> popped;
  int64_t memory_bytes = 0;  // of every tag's versions not spilled
  Version spilled_through = 0;  // the newest version any tag spilled (0: none); copies read up to it from disk
  std::vector<TLogSegment> segments;  // oldest first; a recruited log appends to the last one
  std::shared_ptr<IFile> file;        // the last segment, open for appends (none once restarted)
  int64_t file_size = 0;              // the records' end in `file`, counting `unwritten`
  int64_t file_allocated = 0;         // the file's length: records, then zeros written ahead
  Future<Void> extending;             // zeros being written after file_allocated in the background
  std::string unwritten;              // the newest records, not yet handed to `file`
  std::map<Version, TLogCommitRequest> waiting_commits;  // by prev_version, until the chain reaches them
};

// Adds a record's mutations to the index (moved there). Records come in chain order, all of one
// generation; `where` is the record's place in the files.
void index_record(TLogState& state, TLogRecord record, RecordRef where);

// Spills the oldest versions at or below `through` (they must be in the files) of the tags
// holding the most, until the index holds at most `memory_bytes_max` in memory or nothing more
// may be spilled.
void spill_to(TLogState& state, int64_t memory_bytes_max, Version through);

// Drops a tag's versions up to `up_to`.
void pop_tag(TLogState& state, Tag tag, Version up_to);

// The newest version every tag has popped (or never had data at): segments wholly at or below it
// are no longer needed.
Version popped_everywhere(const TLogState& state);

// A tag's durable versions from `begin` on, whole versions, stopping after the version that
// reaches about `bytes_limit` key and value bytes (reply.end says where to continue), and before
// its first spilled version (reply.end then names it, and spilled_peek reads on from there).
TLogPeekReply collect_peek(const TLogState& state, Tag tag, Version begin, size_t bytes_limit);

// The spilled versions of `tag` from `begin` on, as collect_peek would take them (the first
// always, then up to `bytes_limit`): empty when the first version from `begin` is not spilled.
std::vector<TagVersion> spilled_peek(const TLogState& state, Tag tag, Version begin, size_t bytes_limit);

// The records of the versions in [begin, last] with a mutation for an unpopped tag, oldest
// first, as far as about `bytes_limit` of some tag's key and value bytes: `through` is the last
// version they cover (every such record at or below it is listed).
struct RecordsBetween {
  std::vector<std::pair<Version, RecordRef>> records;
  Version through = 0;
};
RecordsBetween records_between(const TLogState& state, Version begin, Version last, int64_t bytes_limit);

// The mutations of `record` (read back from the files) for the tags still unpopped at its version.
std::vector<TaggedMutation> unpopped_mutations(const TLogState& state, TLogRecord record);

// About the serialized size of a tagged mutation, for copy replies' byte limit.
int64_t tagged_bytes(const TaggedMutation& tagged);

// Every indexed version in [begin, last] with its mutations of every tag, oldest first, stopping
// at the version that brings the reply to `bytes_limit` (always at least one version). `last`
// must be durable, and above spilled_through (copies of spilled versions read the records).
TLogCopyReply collect_copy(const TLogState& state, Version begin, Version last, int64_t bytes_limit);

// One version's per-tag mutation lists as tagged mutations, merging a mutation that heads several
// lists at once into one entry with all their tags. Each tag's order is kept.
std::vector<TaggedMutation> merge_tags(const std::vector<std::pair<Tag, const std::vector<Mutation>*>>& lists);

}  // namespace keel
