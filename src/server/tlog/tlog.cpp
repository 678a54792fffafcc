#include "server/tlog/tlog.h"

#include <deque>
#include <map>

#include <fmt/format.h>

#include "rpc/frame.h"
#include "rpc/serialize.h"
#include "runtime/combinators.h"
#include "runtime/notified.h"
#include "runtime/trace.h"
#include "world/world.h"

namespace keel {
namespace {

// A log segment grows to about this size before the next one starts.
constexpr int64_t segment_bytes_max = 16 * 1024 * 1024;
// How long a peek waits for new data before answering with nothing.
constexpr double peek_wait_seconds = 1.0;

// One appended commit. Field order is the on-disk format: never change it.
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

struct Segment {
  std::string path;
  Version last_version = 0;
};

struct TLogState {
  std::string directory;
  uint64_t generation = 0;
  Version last_version = 0;  // the last version appended
  NotifiedValue<Version> durable{0};  // the last version covered by a sync
  NotifiedValue<Version> peek_limit{0};  // peeks never return versions above this
  bool settled = false;               // a commit of the current generation arrived
  bool has_records = false;           // some record was indexed (replayed or appended)
  Version known_committed = 0;
  std::map<Tag, std::deque<VersionedMutations>> by_tag;
  std::map<Tag, Version> popped;
  std::vector<Segment> segments;  // oldest first; the last one is being appended to
  std::shared_ptr<IFile> file;
  int64_t file_size = 0;
  NotifiedValue<Version> appended{0};  // the last version whose write completed
  bool syncing = false;
};

std::string segment_name(Version first_version) { return fmt::format("log-{:020d}", first_version); }

// A newer generation starts its chain at `prev_version`: versions above it were never
// acknowledged, so they are dropped.
void start_generation(TLogState& state, uint64_t generation, Version prev_version) {
  KEEL_ASSERT(generation > state.generation);
  KEEL_ASSERT(prev_version <= state.last_version);
  if (prev_version < state.last_version) {
    for (auto& [tag, entries] : state.by_tag) {
      while (!entries.empty() && entries.back().version > prev_version) entries.pop_back();
    }
    TraceEvent("TLogRolledBack").detail("From", state.last_version).detail("To", prev_version);
  }
  state.generation = generation;
  state.last_version = prev_version;
}

// Adds a record's mutations to the in-memory index.
void index_record(TLogState& state, TLogRecord& record) {
  if (!state.has_records) {
    // The first record this log holds: older segments were popped and deleted.
    state.has_records = true;
    state.generation = record.generation;
    state.last_version = std::max(state.last_version, record.prev_version);
  }
  if (record.generation > state.generation) start_generation(state, record.generation, record.prev_version);
  KEEL_ASSERT(record.prev_version == state.last_version);
  std::map<Tag, std::vector<Mutation>> split;
  for (TaggedMutation& tagged : record.mutations) {
    for (Tag tag : tagged.tags) split[tag].push_back(tagged.mutation);
  }
  for (auto& [tag, mutations] : split) {
    if (state.popped[tag] >= record.version) continue;
    state.by_tag[tag].push_back(VersionedMutations{record.version, std::move(mutations)});
  }
  state.last_version = record.version;
  state.known_committed = std::max(state.known_committed, record.known_committed_version);
}

// Replays one segment's records and returns the length of its valid prefix; a bad record is a
// torn tail only in the last segment (the caller cuts it off).
size_t replay_segment(TLogState& state, const std::string& data, bool last_segment, const std::string& path) {
  size_t offset = 0;
  while (offset < data.size()) {
    Frame frame;
    const size_t record_start = offset;
    const FrameStatus status = decode_frame_at(data, offset, frame);
    if (status != FrameStatus::ok) {
      if (last_segment) {
        TraceEvent("TLogTornTail").detail("Path", path).detail("Offset", offset).detail("Bytes", data.size() - offset);
        return record_start;
      }
      TraceEvent(Severity::error, "TLogCorrupt").detail("Path", path).detail("Offset", offset);
      throw Error(errc::checksum_failed);
    }
    auto record = deserialize_from_string<TLogRecord>(frame.message);
    index_record(state, record);
    state.segments.back().last_version = record.version;
  }
  return data.size();
}

Future<Void> recover(TLogState* state) {
  IWorld& files = world();
  Future<Void> made = files.create_directories(state->directory);
  co_await made;
  std::vector<std::string> names = co_await files.list_directory(state->directory);
  std::vector<std::string> segment_names;
  for (const std::string& name : names) {
    if (name.rfind("log-", 0) == 0) segment_names.push_back(name);
  }
  for (size_t i = 0; i < segment_names.size(); ++i) {
    const std::string path = state->directory + "/" + segment_names[i];
    std::shared_ptr<IFile> file = co_await files.open_file(path, open_flags::read_only);
    const int64_t size = co_await file->size();
    std::string data = co_await file->read(0, size);
    state->segments.push_back(Segment{path, state->last_version});
    const Version before = state->last_version;
    const size_t valid = replay_segment(*state, data, i + 1 == segment_names.size(), path);
    TraceEvent("TLogSegmentReplayed")
        .detail("Path", path)
        .detail("From", before)
        .detail("To", state->last_version)
        .detail("Bytes", data.size())
        .detail("Valid", valid);
    // What a killed process left in the page cache is not durable yet: a power loss could
    // still take it. Sync before trusting it, and cut a torn tail off for good (once a newer
    // segment follows, it would read as corruption).
    std::shared_ptr<IFile> writable = co_await files.open_file(path, open_flags::read_write);
    if (valid < data.size()) co_await writable->truncate(static_cast<int64_t>(valid));
    co_await writable->sync();
  }
  // Start a fresh segment: a torn tail is never appended to.
  const std::string path = state->directory + "/" + segment_name(state->last_version + 1);
  if (!state->segments.empty() && state->segments.back().path == path) state->segments.pop_back();
  state->file = co_await files.open_file(path, open_flags::read_write | open_flags::create);
  co_await state->file->truncate(0);
  state->segments.push_back(Segment{path, state->last_version});
  state->durable.set(state->last_version);
  state->appended.set(state->last_version);
  // Versions above the known committed one may not have reached every log: hold them back
  // until the new generation's first commit says which survive.
  state->peek_limit.set(std::min(state->last_version, state->known_committed));
  TraceEvent("TLogRecovered")
      .detail("Directory", state->directory)
      .detail("LastVersion", state->last_version)
      .detail("KnownCommitted", state->known_committed)
      .detail("Segments", segment_names.size());
  co_return Void{};
}

// Syncs whatever was appended, repeatedly, so one sync covers many commits.
Future<Void> sync_loop(TLogState* state) {
  while (true) {
    co_await state->appended.when_at_least(state->durable.get() + 1);
    const Version target = state->appended.get();
    std::shared_ptr<IFile> file = state->file;
    co_await file->sync();
    state->durable.set(target);
    if (state->settled) state->peek_limit.set(state->durable.get());
  }
}

Future<Void> start_new_segment(TLogState* state, Version first_version) {
  const std::string path = state->directory + "/" + segment_name(first_version);
  Future<std::shared_ptr<IFile>> opened = world().open_file(path, open_flags::read_write | open_flags::create);
  std::shared_ptr<IFile> next = co_await opened;
  co_await state->durable.when_at_least(state->appended.get());  // the old file is fully synced
  state->file = next;
  state->file_size = 0;
  state->segments.push_back(Segment{path, first_version - 1});
  co_return Void{};
}

Future<Void> append(TLogState* state, TLogCommitRequest request) {
  if (state->file_size > segment_bytes_max) co_await start_new_segment(state, request.version);
  TLogRecord record{request.generation, request.prev_version, request.version, request.known_committed_version,
                    std::move(request.mutations)};
  std::string bytes;
  encode_frame(static_cast<uint64_t>(record.version), serialize_to_string(record), bytes);
  const int64_t offset = state->file_size;
  state->file_size += static_cast<int64_t>(bytes.size());
  std::shared_ptr<IFile> file = state->file;
  Future<Void> written = file->write(offset, std::move(bytes));
  index_record(*state, record);
  state->settled = true;
  state->segments.back().last_version = record.version;
  co_await written;
  state->appended.set(record.version);
  co_return Void{};
}

Future<Void> acknowledge_when_durable(TLogState* state, Version version, ReplyPromise<Void> reply) {
  co_await state->durable.when_at_least(version);
  reply.send(Void{});
  co_return Void{};
}

Future<Void> serve_commits(TLogState* state, FutureStream<TLogCommitRequest> requests, ActorCollection* actors) {
  std::map<Version, TLogCommitRequest> waiting;  // by prev_version
  while (true) {
    TLogCommitRequest request = co_await requests.next();
    if (request.generation < state->generation) {
      request.reply.send_error(Error(errc::operation_failed));
      continue;
    }
    if (request.generation > state->generation) {
      if (request.prev_version > state->last_version) {
        // The chain would have a hole here: this log misses versions another log has.
        TraceEvent(Severity::error, "TLogChainGap").detail("Last", state->last_version).detail("Prev", request.prev_version);
        request.reply.send_error(Error(errc::operation_failed));
        continue;
      }
      waiting.clear();  // whatever waited belongs to the old generation
      start_generation(*state, request.generation, request.prev_version);
    }
    waiting.emplace(request.prev_version, std::move(request));
    for (auto it = waiting.find(state->last_version); it != waiting.end(); it = waiting.find(state->last_version)) {
      TLogCommitRequest ready = std::move(it->second);
      waiting.erase(it);
      const Version version = ready.version;
      ReplyPromise<Void> reply = ready.reply;
      co_await append(state, std::move(ready));
      actors->add(acknowledge_when_durable(state, version, reply));
    }
  }
}

TLogPeekReply collect(const TLogState& state, Tag tag, Version begin) {
  TLogPeekReply reply;
  const Version limit = state.peek_limit.get();
  reply.end = limit + 1;
  reply.known_committed_version = state.known_committed;
  auto it = state.by_tag.find(tag);
  if (it == state.by_tag.end()) return reply;
  for (const VersionedMutations& entry : it->second) {
    if (entry.version < begin) continue;
    if (entry.version > limit) break;
    reply.messages.push_back(entry);
  }
  return reply;
}

Future<Void> answer_peek(TLogState* state, TLogPeekRequest request) {
  if (state->peek_limit.get() < request.begin) {
    Future<Void> more = state->peek_limit.when_at_least(request.begin);
    co_await timeout(more, peek_wait_seconds);
  }
  request.reply.send(collect(*state, request.tag, request.begin));
  co_return Void{};
}

Future<Void> serve_peeks(TLogState* state, FutureStream<TLogPeekRequest> requests, ActorCollection* actors) {
  while (true) {
    TLogPeekRequest request = co_await requests.next();
    actors->add(answer_peek(state, std::move(request)));
  }
}

// Deletes segments whose every version was popped by every tag that has data.
Future<Void> drop_popped_segments(TLogState* state) {
  Version popped_everywhere = state->last_version;
  for (const auto& [tag, version] : state->popped) popped_everywhere = std::min(popped_everywhere, version);
  for (const auto& [tag, entries] : state->by_tag) {
    if (!entries.empty()) popped_everywhere = std::min(popped_everywhere, entries.front().version - 1);
  }
  while (state->segments.size() > 1 && state->segments.front().last_version <= popped_everywhere) {
    const std::string path = state->segments.front().path;
    state->segments.erase(state->segments.begin());
    Future<Void> deleted = world().delete_file(path);
    co_await deleted;
  }
  co_return Void{};
}

Future<Void> serve_pops(TLogState* state, FutureStream<TLogPopRequest> requests) {
  while (true) {
    TLogPopRequest request = co_await requests.next();
    Version& popped = state->popped[request.tag];
    popped = std::max(popped, request.up_to);
    std::deque<VersionedMutations>& entries = state->by_tag[request.tag];
    while (!entries.empty() && entries.front().version <= popped) entries.pop_front();
    request.reply.send(Void{});
    co_await drop_popped_segments(state);
  }
}

Future<Void> serve_durable_end(TLogState* state, FutureStream<TLogEndRequest> requests) {
  while (true) {
    TLogEndRequest request = co_await requests.next();
    request.reply.send(TLogEndReply{state->durable.get() + 1});
  }
}

}  // namespace

Future<Void> run_tlog(TLogInterface tlog, std::string directory) {
  TLogState state;
  state.directory = std::move(directory);
  co_await recover(&state);
  ActorCollection actors;
  actors.add(sync_loop(&state));
  actors.add(serve_commits(&state, tlog.commit.requests(), &actors));
  actors.add(serve_peeks(&state, tlog.peek.requests(), &actors));
  actors.add(serve_pops(&state, tlog.pop.requests()));
  actors.add(serve_durable_end(&state, tlog.durable_end.requests()));
  co_await actors.result();
  co_return Void{};
}

}  // namespace keel
