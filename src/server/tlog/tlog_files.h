// A transaction log's files (private to src/server/tlog): replaying them, appending to them,
// dropping popped segments, deleting them all.
//
// On-disk format (never change the names, the frame layout or TLogRecord's field order):
//   `<worker data directory>/tlog-<id, 16 lowercase hex digits>/log-<first version, 20 digits>`
// Each segment file is a sequence of records, in the frame format of rpc/frame.h:
//   u32 payload_length | u64 XXH3-64 checksum of payload | payload = u64 version | TLogRecord
// A record that is short or fails its checksum ends the log (a torn tail) if it is in the last
// segment; anywhere else it is corruption (checksum_failed). The last segment may also end in
// zeros: a log writes zeros ahead of its records (tlog_write_ahead_bytes at a time), so that a
// sync rarely has to change the file's length; zeros do not decode as a record.
//
// What a log writes, so that replay alone recovers its generation, chain end and known committed
// version (every record carries the log's one generation; the chain prev_version -> version has
// no gap):
// - A recruited log starts with the single segment `log-00000000000000000001`. It holds the seed:
//   one record per copied version (prev_version: the previous seeded version, 0 for the first),
//   then the generation-start record {prev_version: the last seeded version or 0, version: the
//   recovery version, known_committed_version: the recovery version, no mutations}, which joins
//   the seed to the chain the generation's first commit continues (its prev_version is the
//   recovery version). Then one record per commit.
// - A new segment, named by the version of its first record, starts once the current one passes
//   segment_bytes_max, after the current one is cut to its records' end and synced.
// - A segment goes once every tag popped past it and a later segment holds a durable record: the
//   newest durable record is never deleted.
// - A restarted log only reads: it cuts a torn tail (or zeros) off and syncs, and never appends.
#pragma once

#include <string>
#include <vector>

#include "runtime/future.h"
#include "server/tlog/tlog_state.h"

namespace keel {

// A log segment grows to about this size before the next one starts.
inline constexpr int64_t segment_bytes_max = 16 * 1024 * 1024;

// Replays the segments in state->directory (created if missing) into an empty state, spilling
// after each segment above tlog_spill_bytes; every replayed version is durable when it returns.
Future<Void> recover_files(TLogState* state);

// Deletes any segments left in state->directory (created if missing) and opens the first segment
// of a recruited log for appends.
Future<Void> start_empty_files(TLogState* state);

// Starts a new segment for a record of `version` if the current one is full.
Future<Void> roll_segment_if_full(TLogState* state, Version version);

// Indexes `records` (in chain order), adds them to state->unwritten and raises state->buffered.
void buffer_records(TLogState& state, std::vector<TLogRecord> records);

// Writes state->unwritten to the current segment and raises state->appended (no sync). At most
// one call at a time, and none beside the sync loop's writes (it runs before the log serves).
Future<Void> write_buffered(TLogState* state);

// What one write and sync of the sync loop covers: the bytes taken from state->unwritten (none:
// a sync of what is written) at `offset` of `file`, ending with the record of `last`.
struct ClaimedWrite {
  std::shared_ptr<IFile> file;
  int64_t offset = 0;
  std::string bytes;
  Version last = 0;
  bool extends_file = false;  // the bytes end in zeros past the file's length: later records go there
};

// Takes state->unwritten for one write, extended with zeros to the next step of the file's length
// when the records outran the zeros written ahead (finish_writing_zeros first). With nothing
// unwritten (a seeded log's records were written without a sync) the claim is the sync alone.
ClaimedWrite claim_buffered(TLogState* state);

// Writes and syncs `claimed`, then, once `previous` (the write claimed before it) is done, raises
// state->appended and state->durable to claimed.last: versions become durable in chain order
// whichever sync ends first.
Future<Void> write_and_sync_claimed(TLogState* state, ClaimedWrite claimed, Future<Void> previous);

// Waits for the zeros being written ahead of the records, if any; their failure is the log's.
Future<Void> finish_writing_zeros(TLogState* state);

// buffer_records, then write_buffered: not durable until a sync of state->file.
Future<Void> write_records(TLogState* state, std::vector<TLogRecord> records);

// Reads back the record at `where` (of a spilled version): operation_failed if its segment was
// dropped meanwhile, checksum_failed if the record does not verify.
Future<TLogRecord> read_record(TLogState* state, RecordRef where);

// Deletes the segments that popping made unnecessary (see above).
Future<Void> drop_popped_segments(TLogState* state);

// Deletes every segment file in `directory` (the directory itself stays: the world cannot remove
// directories).
Future<Void> delete_segment_files(std::string directory);

}  // namespace keel
