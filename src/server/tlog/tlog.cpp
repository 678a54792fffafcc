// The transaction log role: one coroutine per request stream over the shared TLogState, run
// together by tlog_core(); run_tlog() starts the log (recovered from disk, or recruited and
// seeded), serves it, and ends it when the cluster no longer lists it. See tlog.h.
#include "server/tlog/tlog.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "world/world.h"
#include "server/tlog/tlog_copy.h"
#include "server/tlog/tlog_files.h"
#include "server/tlog/tlog_knobs.h"
#include "server/tlog/tlog_state.h"

namespace keel {
namespace {

// How long a peek waits for new data before answering with nothing.
constexpr double peek_wait_seconds = 1.0;
// About how many key and value bytes one peek reply carries: a storage server far behind catches
// up in replies of this size, not one reply (and its copies) as large as its backlog.
constexpr size_t peek_reply_bytes_max = 2 << 20;

// True when `info` shows a generation at least as new as the log's accepting commits without it:
// nobody will lock, peek or seed from it again. (A log of a newer generation than `info` is being
// recruited and `info` is stale; a log of the same generation that is not listed is left over from
// a recovery that failed before it wrote the core state.)
bool removed_by(const ServerDBInfo& info, const TLogState& state) {
  if (!info.accepting_commits() || info.generation < state.generation) return false;
  for (const TLogInterface& listed : info.tlogs) {
    if (listed.id == state.id) return false;
  }
  return true;
}

// Ends pushes for good: commits waiting for their predecessor fail, and so do later ones.
void lock_log(TLogState* state) {
  if (state->locked) return;
  state->locked = true;
  std::map<Version, TLogCommitRequest> waiting = std::move(state->waiting_commits);
  state->waiting_commits.clear();
  for (auto& [prev_version, request] : waiting) request.reply.send_error(Error(errc::tlog_stopped));
  TraceEvent("TLogLocked")
      .detail("Id", state->id)
      .detail("Generation", state->generation)
      .detail("LastVersion", state->last_version)
      .detail("Durable", state->durable.get())
      .detail("FailedWaiting", waiting.size());
}

// Writes and syncs whatever was buffered, repeatedly: one write and one sync cover the commits
// that came while the earlier ones ran. Up to tlog_syncs_in_flight_max run at once, so commits
// that come late in a sync start theirs without waiting for it to end (early ones wait to share
// the next: tlog_sync_overlap_after_fraction; in the real world the sync lane gathers the trips
// handed to it during a sync under its next one); each one's versions become durable after the
// one before it. A write that extends the file has no later one beside it:
// their records would land in its zeros, which it may write after them.
Future<Void> sync_loop(TLogState* state) {
  struct Trip {
    Future<Void> done;
    bool extends_file = false;
    double started = 0;
  };
  std::optional<double> smoothed;  // trip durations, as seen when they leave `trips`
  std::deque<Trip> trips;  // oldest first
  Version claimed = state->durable.get();
  const auto in_flight_max = static_cast<size_t>(std::max(1.0, tlog_knobs().tlog_syncs_in_flight_max));
  while (true) {
    while (!trips.empty() && trips.front().done.is_ready()) {
      if (trips.front().done.is_error()) throw trips.front().done.error();
      const double took = now() - trips.front().started;
      smoothed = smoothed ? 0.9 * *smoothed + 0.1 * took : took;
      trips.pop_front();
    }
    if (trips.size() >= in_flight_max || (!trips.empty() && trips.back().extends_file)) {
      Future<Void> oldest = trips.front().done;
      co_await oldest;
      continue;
    }
    if (state->buffered.get() <= claimed) {
      Future<Void> more = state->buffered.when_at_least(claimed + 1);
      if (trips.empty()) {
        co_await more;
      } else {
        Future<std::variant<Void, Void>> either = race(std::move(more), trips.front().done);
        co_await either;
      }
      continue;
    }
    if (state->file_size > state->file_allocated && state->extending.is_valid()) {
      Future<Void> zeros = finish_writing_zeros(state);  // before taking `unwritten`: more may come meanwhile
      co_await zeros;
      continue;
    }
    if (!trips.empty() && smoothed) {  // beside the newest trip only once it has run a while
      // An absolute deadline: a timer of deadline - now() ends exactly at it, where a remainder
      // recomputed from durations could come out as a rounding error that never moves the clock.
      const double deadline = trips.back().started + tlog_knobs().tlog_sync_overlap_after_fraction * *smoothed;
      if (now() < deadline) {
        Future<std::variant<Void, Void>> either = race(trips.front().done, delay(deadline - now()));
        co_await either;
        continue;
      }
    }
    ClaimedWrite write = claim_buffered(state);
    KEEL_ASSERT(write.last > claimed);
    claimed = write.last;
    Future<Void> previous = trips.empty() ? make_ready(Void{}) : trips.back().done;
    const bool extends_file = write.extends_file;
    trips.push_back(Trip{write_and_sync_claimed(state, std::move(write), std::move(previous)), extends_file, now()});
  }
}

// A commit is acknowledged once durable, unless the log was locked meanwhile.
Future<Void> acknowledge_when_durable(TLogState* state, Version version, ReplyPromise<Void> reply) {
  Future<Void> durable = state->durable.when_at_least(version);
  co_await durable;
  if (state->locked) {
    reply.send_error(Error(errc::tlog_stopped));
  } else {
    reply.send(Void{});
  }
  co_return Void{};
}

// Appends the waiting commits that continue the chain, in chain order.
Future<Void> append_waiting_commits(TLogState* state, ActorCollection* actors) {
  while (!state->locked) {
    auto next = state->waiting_commits.find(state->last_version);
    if (next == state->waiting_commits.end()) break;
    TLogCommitRequest request = std::move(next->second);
    state->waiting_commits.erase(next);
    Future<Void> rolled = roll_segment_if_full(state, request.version);
    co_await rolled;
    if (state->locked) {  // the lock's reply did not wait for this one: it must not be appended
      request.reply.send_error(Error(errc::tlog_stopped));
      break;
    }
    std::vector<TLogRecord> records;
    records.push_back(TLogRecord{request.generation, request.prev_version, request.version,
                                 request.known_committed_version, std::move(request.mutations)});
    buffer_records(*state, std::move(records));
    actors->add(acknowledge_when_durable(state, request.version, request.reply));
  }
  co_return Void{};
}

Future<Void> serve_commits(TLogState* state, FutureStream<TLogCommitRequest> requests, ActorCollection* actors) {
  while (true) {
    TLogCommitRequest request = co_await requests.next();
    if (state->locked || request.generation != state->generation) {
      request.reply.send_error(Error(errc::tlog_stopped));
      continue;
    }
    if (request.version <= request.prev_version || request.prev_version < state->last_version ||
        state->waiting_commits.contains(request.prev_version)) {
      TraceEvent(Severity::warn, "TLogCommitOffChain")
          .detail("Prev", request.prev_version)
          .detail("Version", request.version)
          .detail("LastVersion", state->last_version);
      request.reply.send_error(Error(errc::operation_failed));
      continue;
    }
    state->waiting_commits.emplace(request.prev_version, std::move(request));
    Future<Void> appended = append_waiting_commits(state, actors);
    co_await appended;
  }
}

// Locks the log and answers with its durable end once everything appended before the lock is
// durable (so the end covers every commit this log may have acknowledged).
Future<Void> answer_lock(TLogState* state, TLogLockRequest request) {
  lock_log(state);
  Future<Void> durable = state->durable.when_at_least(state->last_version);
  co_await durable;
  request.reply.send(TLogLockReply{state->durable.get() + 1, state->generation, state->known_committed});
  co_return Void{};
}

Future<Void> serve_locks(TLogState* state, FutureStream<TLogLockRequest> requests, ActorCollection* actors) {
  while (true) {
    TLogLockRequest request = co_await requests.next();
    actors->add(answer_lock(state, std::move(request)));
  }
}

Future<Void> serve_copies(TLogState* state, FutureStream<TLogCopyRequest> requests, ActorCollection* actors) {
  while (true) {
    TLogCopyRequest request = co_await requests.next();
    actors->add(answer_copy(state, std::move(request)));
  }
}

Future<Void> serve_confirm_running(TLogState* state, FutureStream<TLogConfirmRunningRequest> requests) {
  while (true) {
    TLogConfirmRunningRequest request = co_await requests.next();
    if (!state->locked && request.generation == state->generation) {
      request.reply.send(Void{});
    } else {
      request.reply.send_error(Error(errc::tlog_stopped));
    }
  }
}

// A peek of spilled versions: each record read back from the files, with the tag's mutations.
Future<TLogPeekReply> read_spilled_peek(TLogState* state, Tag tag, std::vector<TagVersion> spilled) {
  TLogPeekReply reply;
  for (const TagVersion& version : spilled) {
    Future<TLogRecord> read = read_record(state, version.record);
    TLogRecord record = co_await std::move(read);
    PeekedVersion message{version.version, std::make_shared<std::vector<Mutation>>()};
    for (TaggedMutation& tagged : record.mutations) {
      if (std::find(tagged.tags.begin(), tagged.tags.end(), tag) != tagged.tags.end()) {
        message.mutations->push_back(std::move(tagged.mutation));
      }
    }
    if (record.version != version.version || message.mutations->empty()) throw Error(errc::checksum_failed);
    reply.messages.push_back(std::move(message));
  }
  reply.end = spilled.back().version + 1;
  reply.known_committed_version = state->known_committed;
  co_return reply;
}

Future<Void> answer_peek(TLogState* state, TLogPeekRequest request) {
  if (state->durable.get() < request.begin) {
    Future<Void> more = state->durable.when_at_least(request.begin);
    Future<std::optional<Void>> waited = timeout(more, peek_wait_seconds);
    co_await waited;
  }
  std::vector<TagVersion> spilled = spilled_peek(*state, request.tag, request.begin, peek_reply_bytes_max);
  if (spilled.empty()) {
    request.reply.send(collect_peek(*state, request.tag, request.begin, peek_reply_bytes_max));
    co_return Void{};
  }
  // A failed read fails this peek only (the storage server tries again), not the log.
  Future<TLogPeekReply> read = read_spilled_peek(state, request.tag, std::move(spilled));
  co_await ready(read);
  if (read.is_error()) {
    request.reply.send_error(read.error());
  } else {
    TLogPeekReply reply = co_await std::move(read);  // ready: taken, not copied
    request.reply.send(std::move(reply));
  }
  co_return Void{};
}

Future<Void> serve_peeks(TLogState* state, FutureStream<TLogPeekRequest> requests, ActorCollection* actors) {
  while (true) {
    TLogPeekRequest request = co_await requests.next();
    actors->add(answer_peek(state, std::move(request)));
  }
}

Future<Void> serve_pops(TLogState* state, FutureStream<TLogPopRequest> requests) {
  while (true) {
    TLogPopRequest request = co_await requests.next();
    pop_tag(*state, request.tag, request.up_to);
    request.reply.send(Void{});
    Future<Void> dropped = drop_popped_segments(state);
    co_await dropped;
  }
}

Future<Void> serve_durable_end(TLogState* state, FutureStream<TLogEndRequest> requests) {
  while (true) {
    TLogEndRequest request = co_await requests.next();
    request.reply.send(TLogEndReply{state->durable.get() + 1});
  }
}

// Serves every stream of `tlog` until one handler fails (it never returns normally).
Future<Void> tlog_core(TLogState* state, TLogInterface tlog) {
  ActorCollection actors;
  actors.add(sync_loop(state));
  actors.add(serve_commits(state, tlog.commit.requests(), &actors));
  actors.add(serve_peeks(state, tlog.peek.requests(), &actors));
  actors.add(serve_pops(state, tlog.pop.requests()));
  actors.add(serve_durable_end(state, tlog.durable_end.requests()));
  actors.add(serve_locks(state, tlog.lock.requests(), &actors));
  actors.add(serve_copies(state, tlog.copy.requests(), &actors));
  actors.add(serve_confirm_running(state, tlog.confirm_running.requests()));
  actors.add(serve_wait_failure(tlog.wait_failure.requests()));
  Future<Void> failed = actors.result();
  co_await failed;
  co_return Void{};
}

// Ready once the worker's ServerDBInfo removes the log (never without one).
Future<Void> wait_for_removal(const TLogState* state, AsyncVar<ServerDBInfo>* db_info) {
  if (db_info == nullptr) {
    Future<Void> forever = never();
    co_await forever;
  }
  while (!removed_by(db_info->get(), *state)) {
    Future<Void> changed = db_info->on_change();
    co_await changed;
  }
  co_return Void{};
}

// Recovers a restarted log from its files (locked from the start), or starts a recruited one
// empty and seeds it.
Future<Void> start_log(TLogState* state, std::optional<TLogRecruitment> recruitment) {
  if (!recruitment.has_value()) {
    Future<Void> recovered = recover_files(state);
    co_await recovered;
    state->locked = true;  // it was recruited in an earlier incarnation: no more pushes
    co_return Void{};
  }
  TraceEvent("TLogRecruited")
      .detail("Id", state->id)
      .detail("Generation", recruitment->generation)
      .detail("RecoveryVersion", recruitment->recovery_version)
      .detail("Source", recruitment->source.has_value() ? recruitment->source->id : 0);
  state->generation = recruitment->generation;
  Future<Void> started = start_empty_files(state);
  co_await started;
  Future<Void> seeded = seed_log(state, recruitment->source, recruitment->recovery_version);
  co_await seeded;
  co_return Void{};
}

}  // namespace

Future<Void> run_tlog(TLogInterface tlog, TLogOptions options, Promise<Void> ready) {
  KEEL_ASSERT(tlog.id == options.id);
  TLogState state;
  state.id = options.id;
  state.directory = options.directory;
  try {
    Future<Void> started = start_log(&state, options.recruitment);
    co_await started;
  } catch (const Error& error) {
    TraceEvent(Severity::warn, "TLogStartFailed")
        .detail("Id", state.id)
        .detail("Directory", state.directory)
        .error(error);
    ready.send_error(error);
    throw;
  }
  TraceEvent("TLogReady")
      .detail("Id", state.id)
      .detail("Generation", state.generation)
      .detail("Locked", state.locked)
      .detail("LastVersion", state.last_version)
      .detail("KnownCommitted", state.known_committed);
  ready.send(Void{});
  // Whichever ends first: a failure of the log, or its removal (which cancels the handlers).
  Future<std::variant<Void, Void>> ended = race(tlog_core(&state, tlog), wait_for_removal(&state, options.db_info));
  try {
    co_await ended;
  } catch (const Error& error) {
    TraceEvent(Severity::warn, "TLogFailed").detail("Id", state.id).detail("Generation", state.generation).error(error);
    throw;
  }
  KEEL_ASSERT(ended.get().index() == 1);
  TraceEvent("TLogRemoved")
      .detail("Id", state.id)
      .detail("Generation", state.generation)
      .detail("InfoGeneration", options.db_info->get().generation)
      .detail("Locked", state.locked)
      .detail("Directory", state.directory);
  Future<Void> deleted = delete_segment_files(state.directory);
  co_await deleted;
  Future<Void> removed = world().remove_directory(state.directory);
  co_await keel::ready(removed);  // `ready` here is the promise this function was given
  if (removed.is_error()) {
    TraceEvent(Severity::warn, "TLogDirectoryNotRemoved").detail("Directory", state.directory).error(removed.error());
  }
  co_return Void{};
}

}  // namespace keel
