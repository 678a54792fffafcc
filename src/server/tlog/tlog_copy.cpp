#include "server/tlog/tlog_copy.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "server/tlog/tlog_files.h"
#include "server/tlog/tlog_knobs.h"

namespace keel {
namespace {

// How long one copy request may take, how often it is tried, and the pause between tries.
constexpr double copy_timeout_seconds = 5.0;
constexpr int copy_attempts_max = 4;
constexpr double copy_retry_delay_seconds = 0.5;

// Throws recovery_failed unless `reply` continues a copy of [begin, last] in version order.
void check_copy_reply(const TLogCopyReply& reply, Version begin, Version last) {
  bool valid = reply.next > begin && reply.next <= last + 1;
  Version previous = begin - 1;
  for (const TLogCopyEntry& entry : reply.entries) {
    valid = valid && entry.version > previous && entry.version < reply.next;
    previous = entry.version;
  }
  if (valid) return;
  TraceEvent(Severity::error, "TLogSeedReplyInvalid")
      .detail("Begin", begin)
      .detail("Last", last)
      .detail("Next", reply.next)
      .detail("Entries", reply.entries.size());
  throw Error(errc::recovery_failed);
}

// The copied versions as records continuing the log's chain.
std::vector<TLogRecord> seed_records(const TLogState& state, std::vector<TLogCopyEntry> entries) {
  std::vector<TLogRecord> records;
  records.reserve(entries.size());
  Version prev_version = state.last_version;
  for (TLogCopyEntry& entry : entries) {
    records.push_back(TLogRecord{state.generation, prev_version, entry.version, 0, std::move(entry.mutations)});
    prev_version = entry.version;
  }
  return records;
}

// One copy reply from `source`, retried a few times before giving up with recovery_failed.
Future<TLogCopyReply> copy_with_retries(TLogInterface source, Version begin, Version last) {
  for (int attempt = 1;; ++attempt) {
    TLogCopyRequest request;
    request.begin = begin;
    request.last = last;
    request.bytes_limit = seed_copy_bytes_limit;
    Future<TLogCopyReply> replied = timeout_error(source.copy.get_reply(request), copy_timeout_seconds);
    co_await ready(replied);
    if (!replied.is_error()) {
      TLogCopyReply reply = co_await std::move(replied);
      co_return reply;
    }
    TraceEvent(Severity::warn, "TLogSeedCopyFailed")
        .detail("Source", source.id)
        .detail("Begin", begin)
        .detail("Attempt", attempt)
        .error(replied.error());
    if (attempt >= copy_attempts_max) throw Error(errc::recovery_failed);
    co_await delay(copy_retry_delay_seconds);
  }
}

// Appends records (already in chain order) to the log, starting a new segment first if needed.
Future<Void> append_seed(TLogState* state, std::vector<TLogRecord> records) {
  Future<Void> rolled = roll_segment_if_full(state, records.front().version);
  co_await rolled;
  Future<Void> written = write_records(state, std::move(records));
  co_await written;
  co_return Void{};
}

// What collect_copy would answer for [begin, last], from the records in the files (some of
// those versions are spilled): the mutations of the tags not popped at each version.
Future<TLogCopyReply> copy_from_files(TLogState* state, Version begin, Version last, int64_t bytes_limit) {
  const RecordsBetween between = records_between(*state, begin, last, bytes_limit);
  TLogCopyReply reply;
  reply.next = between.through + 1;
  int64_t bytes = 0;
  for (const auto& [version, where] : between.records) {
    Future<TLogRecord> read = read_record(state, where);
    TLogRecord record = co_await std::move(read);
    if (record.version != version) throw Error(errc::checksum_failed);
    TLogCopyEntry entry{version, unpopped_mutations(*state, std::move(record))};
    for (const TaggedMutation& tagged : entry.mutations) bytes += tagged_bytes(tagged);
    reply.entries.push_back(std::move(entry));
    if (bytes >= bytes_limit) {
      reply.next = version + 1;
      break;
    }
  }
  co_return reply;
}

}  // namespace

Future<Void> seed_log(TLogState* state, std::optional<TLogInterface> source, Version recovery_version) {
  KEEL_ASSERT(!state->has_records && state->last_version == 0);
  Version begin = 0;
  size_t versions = 0;
  while (source.has_value() && begin <= recovery_version) {
    Future<TLogCopyReply> copied = copy_with_retries(*source, begin, recovery_version);
    TLogCopyReply reply = co_await std::move(copied);
    check_copy_reply(reply, begin, recovery_version);
    begin = reply.next;
    versions += reply.entries.size();
    if (reply.entries.empty()) continue;
    Future<Void> appended = append_seed(state, seed_records(*state, std::move(reply.entries)));
    co_await appended;
    // A large seed (a storage server far behind) is spilled as it comes, once in the files.
    const auto spill_bytes = tlog_spill_threshold_bytes();
    if (state->memory_bytes > spill_bytes) {
      Future<Void> synced = state->file->sync();
      co_await synced;
      spill_to(*state, spill_bytes, state->last_version);
    }
  }
  // The generation-start record joins the seed to the chain of the generation.
  std::vector<TLogRecord> start;
  start.push_back(TLogRecord{state->generation, state->last_version, recovery_version, recovery_version, {}});
  Future<Void> appended = append_seed(state, std::move(start));
  co_await appended;
  Future<Void> synced = state->file->sync();
  co_await synced;
  KEEL_ASSERT(state->last_version == recovery_version && state->appended.get() == recovery_version);
  KEEL_ASSERT(state->known_committed == recovery_version);
  state->durable.set(recovery_version);
  TraceEvent("TLogSeeded")
      .detail("Id", state->id)
      .detail("Generation", state->generation)
      .detail("RecoveryVersion", recovery_version)
      .detail("Source", source.has_value() ? source->id : 0)
      .detail("Versions", versions);
  co_return Void{};
}

Future<Void> answer_copy(TLogState* state, TLogCopyRequest request) {
  if (request.last > state->last_version) {
    TraceEvent(Severity::warn, "TLogCopyBeyondEnd")
        .detail("Last", request.last)
        .detail("LastVersion", state->last_version);
    request.reply.send_error(Error(errc::operation_failed));
    co_return Void{};
  }
  // Locked, this log syncs whatever it appended; unlocked, it syncs all the time.
  Future<Void> durable = state->durable.when_at_least(request.last);
  co_await durable;
  const int64_t bytes_limit = std::min(request.bytes_limit, copy_reply_bytes_max);
  if (state->spilled_through == 0 || request.begin > state->spilled_through) {
    request.reply.send(collect_copy(*state, request.begin, request.last, bytes_limit));
    co_return Void{};
  }
  Future<TLogCopyReply> read = copy_from_files(state, request.begin, std::min(request.last, state->spilled_through),
                                               bytes_limit);
  co_await ready(read);  // a failed read fails this copy only (the seeding log retries), not the log
  if (read.is_error()) request.reply.send_error(read.error());
  else request.reply.send(read.get());
  co_return Void{};
}

}  // namespace keel
