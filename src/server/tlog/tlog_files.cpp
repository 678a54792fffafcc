#include "server/tlog/tlog_files.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "rpc/frame.h"
#include "rpc/serialize.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "server/tlog/tlog.h"
#include "server/tlog/tlog_knobs.h"

namespace keel {
namespace {

constexpr std::string_view segment_prefix = "log-";
constexpr size_t segment_digits = 20;
constexpr std::string_view directory_prefix = "tlog-";
constexpr size_t id_hex_digits = 16;

std::string segment_name(Version first_version) { return fmt::format("log-{:020d}", first_version); }

std::string path_in(const std::string& directory, const std::string& name) { return directory + "/" + name; }

// The first version of a segment file name, or nullopt for other names.
std::optional<Version> parse_segment_name(const std::string& name) {
  if (name.size() != segment_prefix.size() + segment_digits || name.rfind(segment_prefix, 0) != 0) return std::nullopt;
  Version version = 0;
  const char* begin = name.data() + segment_prefix.size();
  const char* end = name.data() + name.size();
  const auto [stop, error] = std::from_chars(begin, end, version);
  if (error != std::errc() || stop != end || version < 0) return std::nullopt;
  return version;
}

int64_t write_ahead_step() { return std::max<int64_t>(static_cast<int64_t>(tlog_knobs().tlog_write_ahead_bytes), 1); }

// Writes and syncs zeros on [from, to) of `file`, after its records, then counts them as written
// ahead if `file` is still the one appended to. As a commit's write: in the real world the sync
// lane runs it in order with the records' writes asked after it, so its zeros never land on
// records, and the file's syncs never overlap.
Future<Void> write_zeros_ahead(TLogState* state, std::shared_ptr<IFile> file, int64_t from, int64_t to) {
  Future<Void> synced = file->write_and_sync_for_commit(from, std::string(static_cast<size_t>(to - from), '\0'));
  co_await synced;
  if (state->file == file) state->file_allocated = std::max(state->file_allocated, to);
  co_return Void{};
}

// Starts writing the next step of zeros once the records come within half a step of the zeros'
// end. It runs beside the commits' writes and syncs (the records never reach it: a write that
// would waits for it), so that a commit never waits for a write of a whole step and its sync,
// milliseconds where the records alone take a tenth of one.
void write_zeros_ahead_if_near(TLogState* state) {
  const int64_t step = write_ahead_step();
  if (step <= 1 || state->file == nullptr || state->file_size > segment_bytes_max) return;  // off, or a roll is next
  // One at a time; a failed one stays for finish_writing_zeros to report.
  if (state->extending.is_valid() && (!state->extending.is_ready() || state->extending.is_error())) return;
  if (state->file_size > state->file_allocated || state->file_allocated - state->file_size >= step / 2) return;
  state->extending = write_zeros_ahead(state, state->file, state->file_allocated, state->file_allocated + step);
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
        const bool zeros = data.find_first_not_of('\0', record_start) == std::string::npos;
        TraceEvent(zeros ? "TLogZerosAtEnd" : "TLogTornTail")
            .detail("Path", path)
            .detail("Offset", record_start)
            .detail("Bytes", data.size() - record_start);
        return record_start;
      }
      TraceEvent(Severity::error, "TLogCorrupt").detail("Path", path).detail("Offset", offset);
      throw Error(errc::checksum_failed);
    }
    auto record = deserialize_from_string<TLogRecord>(frame.message);
    const Version version = record.version;
    const RecordRef where{state.segments.back().first_version, static_cast<int64_t>(record_start),
                          static_cast<int64_t>(offset - record_start)};
    index_record(state, std::move(record), where);
    state.segments.back().last_version = version;
  }
  return data.size();
}

// Reads, replays and syncs one segment, cutting off a torn tail if it is the last.
Future<Void> recover_segment(TLogState* state, std::string path, Version first_version, bool last_segment) {
  IWorld& files = world();
  Future<std::shared_ptr<IFile>> opened = files.open_file(path, open_flags::read_write);
  std::shared_ptr<IFile> file = co_await opened;
  Future<int64_t> sized = file->size();
  const int64_t size = co_await sized;
  Future<std::string> read = file->read(0, size);
  const std::string data = co_await std::move(read);
  state->segments.push_back(TLogSegment{path, first_version, state->last_version});
  const Version before = state->last_version;
  const size_t valid = replay_segment(*state, data, last_segment, path);
  TraceEvent("TLogSegmentReplayed")
      .detail("Path", path)
      .detail("From", before)
      .detail("To", state->last_version)
      .detail("Bytes", data.size())
      .detail("Valid", valid);
  // What a killed process left in the page cache is not durable yet: a power loss could still
  // take it. Sync before trusting it, and cut a torn tail off for good.
  if (valid < data.size()) {
    Future<Void> truncated = file->truncate(static_cast<int64_t>(valid));
    co_await truncated;
  }
  Future<Void> synced = file->sync();
  co_await synced;
  // Replayed and synced: a backlog larger than the threshold is read back only when needed.
  spill_to(*state, tlog_spill_threshold_bytes(), state->last_version);
  co_return Void{};
}

// The segment holding records from `first_version` on, if it is still there.
TLogSegment* segment_starting_at(TLogState& state, Version first_version) {
  for (TLogSegment& segment : state.segments) {
    if (segment.first_version == first_version) return &segment;
  }
  return nullptr;
}

// The segment files of `directory` (created if missing), by first version, oldest first.
Future<std::vector<std::pair<Version, std::string>>> list_segments(std::string directory) {
  IWorld& files = world();
  Future<Void> made = files.create_directories(directory);
  co_await made;
  Future<std::vector<std::string>> listed = files.list_directory(directory);
  const std::vector<std::string> names = co_await listed;
  std::vector<std::pair<Version, std::string>> segments;
  for (const std::string& name : names) {
    if (std::optional<Version> first = parse_segment_name(name)) segments.emplace_back(*first, name);
  }
  std::sort(segments.begin(), segments.end());
  co_return segments;
}

}  // namespace

Future<Void> finish_writing_zeros(TLogState* state) {
  // Another write of zeros may start while this one is awaited (write_zeros_ahead_if_near, once
  // the awaited one is done): it is awaited too, never dropped while its write may still run.
  while (state->extending.is_valid()) {
    Future<Void> extending = state->extending;
    co_await extending;
    if (state->extending.is_ready()) break;
  }
  state->extending = Future<Void>();
  co_return Void{};
}

std::string tlog_directory_name(uint64_t id) { return fmt::format("tlog-{:016x}", id); }

std::optional<uint64_t> parse_tlog_directory_name(const std::string& name) {
  if (name.size() != directory_prefix.size() + id_hex_digits || name.rfind(directory_prefix, 0) != 0) {
    return std::nullopt;
  }
  for (size_t i = directory_prefix.size(); i < name.size(); ++i) {
    const char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  uint64_t id = 0;
  std::from_chars(name.data() + directory_prefix.size(), name.data() + name.size(), id, 16);
  return id;
}

Future<Void> recover_files(TLogState* state) {
  KEEL_ASSERT(!state->has_records && state->segments.empty());
  Future<std::vector<std::pair<Version, std::string>>> listed = list_segments(state->directory);
  const std::vector<std::pair<Version, std::string>> segments = co_await listed;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string path = path_in(state->directory, segments[i].second);
    Future<Void> recovered = recover_segment(state, path, segments[i].first, i + 1 == segments.size());
    co_await recovered;
  }
  state->buffered.set(state->last_version);
  state->appended.set(state->last_version);
  state->durable.set(state->last_version);
  TraceEvent("TLogRecovered")
      .detail("Directory", state->directory)
      .detail("Generation", state->generation)
      .detail("LastVersion", state->last_version)
      .detail("KnownCommitted", state->known_committed)
      .detail("Segments", segments.size());
  co_return Void{};
}

Future<Void> start_empty_files(TLogState* state) {
  KEEL_ASSERT(!state->has_records && state->segments.empty() && state->last_version == 0);
  Future<std::vector<std::pair<Version, std::string>>> listed = list_segments(state->directory);
  const std::vector<std::pair<Version, std::string>> stale = co_await listed;
  if (!stale.empty()) {
    TraceEvent(Severity::warn, "TLogStaleSegmentsDeleted")
        .detail("Directory", state->directory)
        .detail("Count", stale.size());
    Future<Void> deleted = delete_segment_files(state->directory);
    co_await deleted;
  }
  const Version first_version = state->last_version + 1;
  const std::string path = path_in(state->directory, segment_name(first_version));
  Future<std::shared_ptr<IFile>> opened = world().open_file(path, open_flags::read_write | open_flags::create);
  state->file = co_await opened;
  Future<Void> truncated = state->file->truncate(0);
  co_await truncated;
  state->file_size = 0;
  state->file_allocated = 0;
  state->segments.push_back(TLogSegment{path, first_version, state->last_version});
  co_return Void{};
}

Future<Void> roll_segment_if_full(TLogState* state, Version version) {
  if (state->file_size <= segment_bytes_max) co_return Void{};
  const std::string path = path_in(state->directory, segment_name(version));
  if (path == state->segments.back().path) co_return Void{};  // only a first segment can be named so
  // Every record of the current file is written, its zeros written ahead are cut off and it is
  // synced before the next file exists: only the last segment may end in zeros or a torn record.
  Future<Void> written = state->appended.when_at_least(state->last_version);
  co_await written;
  Future<Void> zeros = finish_writing_zeros(state);
  co_await zeros;
  KEEL_ASSERT(state->unwritten.empty());
  if (state->file_allocated > state->file_size) {
    Future<Void> cut = state->file->truncate(state->file_size);
    co_await cut;
  }
  Future<Void> synced = state->file->sync();
  co_await synced;
  Future<std::shared_ptr<IFile>> opened = world().open_file(path, open_flags::read_write | open_flags::create);
  std::shared_ptr<IFile> next = co_await opened;
  Future<Void> truncated = next->truncate(0);
  co_await truncated;
  state->file = next;
  state->file_size = 0;
  state->file_allocated = 0;
  state->segments.push_back(TLogSegment{path, version, state->last_version});
  TraceEvent("TLogSegmentStarted").detail("Path", path);
  co_return Void{};
}

void buffer_records(TLogState& state, std::vector<TLogRecord> records) {
  KEEL_ASSERT(!records.empty() && state.file != nullptr);
  for (TLogRecord& record : records) {
    const size_t start = state.unwritten.size();
    const int64_t offset = state.file_size;
    encode_frame(static_cast<uint64_t>(record.version), serialize_to_string(record), state.unwritten);
    const int64_t length = static_cast<int64_t>(state.unwritten.size() - start);
    const RecordRef where{state.segments.back().first_version, offset, length};
    index_record(state, std::move(record), where);
    state.file_size += length;
  }
  const Version last = records.back().version;
  state.segments.back().last_version = last;
  state.buffered.set(last);
}

ClaimedWrite claim_buffered(TLogState* state) {
  ClaimedWrite claimed;
  claimed.file = state->file;  // a roll waits for this write, not for its sync
  if (state->unwritten.empty()) {  // written without a sync (a seeded log): only the sync is left
    claimed.last = state->appended.get();
    return claimed;
  }
  KEEL_ASSERT(state->file_size <= state->file_allocated || !state->extending.is_valid());
  claimed.bytes = std::move(state->unwritten);
  state->unwritten.clear();
  claimed.last = state->buffered.get();
  claimed.offset = state->file_size - static_cast<int64_t>(claimed.bytes.size());
  // Past the file's end, zeros are written ahead in steps, so most syncs find the file's length
  // unchanged and have only the data to make durable. They are written in the background
  // (write_zeros_ahead_if_near); this write carries them only when records outran them.
  if (state->file_size > state->file_allocated) {
    const int64_t step = write_ahead_step();
    state->file_allocated = (state->file_size + step - 1) / step * step;
    claimed.bytes.resize(static_cast<size_t>(state->file_allocated - claimed.offset), '\0');
    claimed.extends_file = true;
  }
  return claimed;
}

Future<Void> write_and_sync_claimed(TLogState* state, ClaimedWrite claimed, Future<Void> previous) {
  // One trip for both: the write (if any) and its sync.
  Future<Void> synced = claimed.file->write_and_sync_for_commit(claimed.offset, std::move(claimed.bytes));
  co_await synced;
  co_await previous;
  if (claimed.last > state->appended.get()) state->appended.set(claimed.last);
  state->durable.set(claimed.last);
  write_zeros_ahead_if_near(state);
  spill_to(*state, tlog_spill_threshold_bytes(), state->durable.get());
  co_return Void{};
}

Future<Void> write_buffered(TLogState* state) {
  if (state->file_size > state->file_allocated) {
    Future<Void> zeros = finish_writing_zeros(state);  // before taking `unwritten`: more may come meanwhile
    co_await zeros;
  }
  if (state->unwritten.empty()) co_return Void{};
  ClaimedWrite claimed = claim_buffered(state);
  Future<Void> written = claimed.file->write(claimed.offset, std::move(claimed.bytes));
  co_await written;
  state->appended.set(claimed.last);
  write_zeros_ahead_if_near(state);
  co_return Void{};
}

Future<Void> write_records(TLogState* state, std::vector<TLogRecord> records) {
  buffer_records(*state, std::move(records));
  Future<Void> written = write_buffered(state);
  co_await written;
  co_return Void{};
}

Future<TLogRecord> read_record(TLogState* state, RecordRef where) {
  TLogSegment* segment = segment_starting_at(*state, where.segment);
  if (segment == nullptr) throw Error(errc::operation_failed);  // popped meanwhile
  std::shared_ptr<IFile> reader = segment->reader;
  if (reader == nullptr) {
    const std::string path = segment->path;
    Future<std::shared_ptr<IFile>> opened = world().open_file(path, open_flags::read_only);
    reader = co_await opened;
    segment = segment_starting_at(*state, where.segment);
    if (segment == nullptr) throw Error(errc::operation_failed);
    segment->reader = reader;
  }
  Future<std::string> read = reader->read(where.offset, where.length);
  const std::string data = co_await std::move(read);
  size_t offset = 0;
  Frame frame;
  if (decode_frame_at(data, offset, frame) != FrameStatus::ok || offset != data.size()) {
    TraceEvent(Severity::error, "TLogSpilledRecordCorrupt")
        .detail("Segment", where.segment)
        .detail("Offset", where.offset)
        .detail("Length", where.length);
    throw Error(errc::checksum_failed);
  }
  co_return deserialize_from_string<TLogRecord>(frame.message);
}

Future<Void> drop_popped_segments(TLogState* state) {
  const Version popped = popped_everywhere(*state);
  while (state->segments.size() > 1 && state->segments[0].last_version <= popped &&
         state->segments[1].first_version <= state->durable.get()) {
    const std::string path = state->segments.front().path;
    state->segments.erase(state->segments.begin());
    Future<Void> deleted = world().delete_file(path);
    co_await deleted;
  }
  co_return Void{};
}

Future<Void> delete_segment_files(std::string directory) {
  Future<std::vector<std::pair<Version, std::string>>> listed = list_segments(directory);
  const std::vector<std::pair<Version, std::string>> segments = co_await listed;
  for (const auto& [first_version, name] : segments) {
    Future<Void> deleted = world().delete_file(path_in(directory, name));
    co_await ready(deleted);
    if (deleted.is_error() && deleted.error().code() != errc::file_not_found) throw deleted.error();
  }
  co_return Void{};
}

}  // namespace keel
