#include "server/storage_server/storage_server.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <variant>
#include <vector>

#include "protocol/atomic_ops.h"
#include "protocol/limits.h"
#include "rpc/serialize.h"
#include "rpc/transport.h"
#include "runtime/assert.h"
#include "runtime/combinators.h"
#include "runtime/notified.h"
#include "runtime/trace.h"
#include "server/storage_server/storage_server_knobs.h"
#include "server/storage_server/storage_state.h"
#include "storage/key_table.h"

namespace keel {
namespace {

// Where the engine records the version its contents are as of (outside the user keyspace).
const Key durable_version_key = "\xff\xff/storage/durable_version";
constexpr double durability_interval_seconds = 0.1;
// After a failed peek, the next log is tried after this long.
constexpr double peek_retry_seconds = 0.1;

std::string encode_version(Version version) {
  std::string bytes(sizeof(version), '\0');
  std::memcpy(bytes.data(), &version, sizeof(version));
  return bytes;
}

Version decode_version(const std::optional<Value>& bytes) {
  if (!bytes) return 0;
  if (bytes->size() != sizeof(Version)) throw Error(errc::checksum_failed);
  Version version = 0;
  std::memcpy(&version, bytes->data(), sizeof(version));
  return version;
}

Future<StorageServerStatus> get_status(StorageState* state, GetStorageStatusRequest) {
  StorageServerStatus status;
  status.tag = state->config.tag;
  status.address = Transport::current().local_address();
  status.engine = state->config.engine;
  status.latest_version = state->data.latest_version();
  status.durable_version = state->committed_durable;
  status.logical_bytes = state->engine->logical_bytes();
  status.disk_bytes = state->engine->disk_bytes();
  status.window_bytes = static_cast<int64_t>(state->data.bytes());
  for (const auto& [begin, shard] : state->shards) {
    status.shards.push_back(shard.range);
    if (!shard.complete()) status.fetching_shards.push_back(shard.range);
    else if (shard.readable_from <= status.durable_version) status.durable_shards.push_back(shard.range);
  }
  status.fetched_bytes = state->fetched_bytes;
  status.followed_generation = state->followed_generation;
  const EngineMetrics metrics = state->engine->metrics();
  status.logical_bytes_written = metrics.logical_bytes_written;
  status.device_bytes_written = metrics.device_bytes_written;
  status.cache_hits = metrics.cache_hits;
  status.cache_misses = metrics.cache_misses;
  status.filtered_reads = metrics.filtered_reads;
  status.engine_commits = state->engine_commits;
  if (state->engine_commits > 0) {
    status.engine_commit_seconds_mean = state->engine_commit_seconds_total / static_cast<double>(state->engine_commits);
  }
  status.engine_commit_seconds_max = state->engine_commit_seconds_max;
  const ProcessMemory memory = world().process_memory();
  status.memory_used_bytes = memory.used_bytes;
  status.memory_budget_bytes = memory.budget_bytes;
  return status;
}

// An atomic operation from the log at `version`: it reads the current value first.
Future<Void> apply_atomic_operation(StorageState* state, Version version, Mutation mutation) {
  VersionedData& data = state->data;
  state->watches.changed_key(mutation.param1, version);
  std::optional<Value> existing = co_await read_value(state, mutation.param1, data.latest_version());
  std::optional<Value> result = apply_atomic(mutation.type, existing, mutation.param2);
  if (result) data.set(version, mutation.param1, *result);
  else data.clear_range(version, single_key_range(mutation.param1));
  co_return Void{};
}

// Applies one mutation from the log at `version`: at once, or (an atomic operation, which
// reads the current value) when ready. A mutation of a shard this server no longer has is
// dropped (it may still come from versions of an older generation); one of a shard being
// fetched waits in the shard's buffer. Sets and clears, nearly every mutation, cost no
// coroutine.
std::optional<Future<Void>> apply(StorageState* state, Version version, Mutation mutation) {
  OwnedShard* shard = shard_for(state, mutation.param1);
  if (shard == nullptr || buffer_if_fetching(shard, version, mutation)) return std::nullopt;
  VersionedData& data = state->data;
  if (mutation.type == MutationType::set_value) {
    state->watches.changed_key(mutation.param1, version);  // its waiters run later, not here
    data.set(version, std::move(mutation.param1), std::move(mutation.param2));
    return std::nullopt;
  }
  if (mutation.type == MutationType::clear_range) {
    data.clear_range(version, KeyRange{mutation.param1, mutation.param2});
    state->watches.changed(KeyRange{mutation.param1, mutation.param2}, version);
    return std::nullopt;
  }
  return apply_atomic_operation(state, version, std::move(mutation));
}

// Whether the server may pull from the logs `info` lists: only a generation accepting commits
// (its recovery version is final), and never one older than a generation already followed.
bool can_pull_from(const StorageState& state, const ServerDBInfo& info) {
  return info.accepting_commits() && !info.tlogs.empty() && info.generation >= state.followed_generation;
}

// On first seeing a generation accepting commits: rolls the window back to what is surely in
// that generation's history, min(recovery version, known committed version) (the header says
// why), so that the pull goes on from there.
void follow_generation(StorageState* state, const ServerDBInfo& info) {
  if (state->following && info.generation <= state->followed_generation) return;
  const bool first = !state->following;
  const uint64_t previous_generation = state->followed_generation;
  const Version latest = state->data.latest_version();
  Version keep = latest;
  if (first) {
    // Nothing pulled yet: the window is empty, and the engine holds only committed versions,
    // which every later history has. (The recovery version may be lower than the durable one:
    // the server restarted during the generation that committed them.)
    KEEL_ASSERT(latest == state->data.oldest_version());
  } else {
    keep = std::min(info.recovery_version, state->known_committed);
    // Holds because only known committed versions are made durable, and every recovery
    // version is at least every known committed version before it.
    KEEL_ASSERT(keep >= state->data.oldest_version());
    state->known_committed = keep;
  }
  TraceEvent("StorageServerFollowedGeneration")
      .detail("Tag", state->config.tag)
      .detail("Generation", info.generation)
      .detail("RecoveryVersion", info.recovery_version)
      .detail("LatestVersion", latest)
      .detail("RollbackTo", std::min(latest, keep));
  if (latest > keep) {
    state->data.rollback(keep);
    state->version.lower_to(keep);
    ++state->rollbacks;
  }
  state->followed_generation = info.generation;
  follow_shard_map(state, info, previous_generation, std::min(latest, keep));
  if (first) {
    state->following = true;
    state->followed.send(Void{});
  }
}

// Waits for a peek unless the generation changes first: false if it did (the peek is then
// abandoned, and its reply would be of no use).
Future<bool> answered_in_generation(AsyncVar<ServerDBInfo>* db_info, Future<TLogPeekReply> peeked,
                                    uint64_t generation) {
  while (!peeked.is_ready()) {
    Future<Void> answered = ready(peeked);
    Future<Void> changed = db_info->on_change();
    Future<std::variant<Void, Void>> first = race(std::move(answered), std::move(changed));
    co_await first;
    // A publication of the same generation (e.g. a new id) leaves the peek outstanding.
    if (db_info->get().generation != generation) co_return false;
  }
  co_return true;
}

// Applies a peek's versions in order. The window's table slots and entries of the keys a few
// mutations ahead are fetched from memory while this one is applied (prefetch_ahead): a
// version of thousands of keys new to the window otherwise waits for a miss at each.
Future<Void> apply_reply(StorageState* state, TLogPeekReply reply) {
  VersionedData& data = state->data;
  for (PeekedVersion& batch : reply.messages) {
    if (batch.version <= data.latest_version()) continue;
    // A list read off the wire is this reply's alone; one a log in this process holds is shared.
    const bool owned = batch.mutations.use_count() == 1;
    std::vector<Mutation>& mutations = *batch.mutations;
    for (size_t i = 0; i < mutations.size(); ++i) {
      prefetch_ahead(
          i, mutations.size(), [&](size_t j) -> const Key& { return mutations[j].param1; },
          [&](const Key& key, int stage) { data.prefetch(key, stage); });
      std::optional<Future<Void>> applying =
          apply(state, batch.version, owned ? std::move(mutations[i]) : Mutation(mutations[i]));
      if (applying) co_await *applying;
    }
    state->data.advance_to(batch.version);
  }
  if (reply.end - 1 > state->data.latest_version()) state->data.advance_to(reply.end - 1);
  state->known_committed = std::max(state->known_committed, reply.known_committed_version);
  state->version.set(state->data.latest_version());
  co_return Void{};
}

Future<Void> pull(StorageState* state) {
  AsyncVar<ServerDBInfo>* db_info = state->config.db_info;
  while (true) {
    if (!can_pull_from(*state, db_info->get())) {
      Future<Void> changed = db_info->on_change();
      co_await changed;
      continue;
    }
    follow_generation(state, db_info->get());
    const uint64_t generation = db_info->get().generation;
    const std::vector<TLogInterface>& logs = db_info->get().tlogs;
    const TLogInterface log = logs[state->log_index % logs.size()];
    TLogPeekRequest request;
    request.tag = state->config.tag;
    request.begin = state->data.latest_version() + 1;
    Future<TLogPeekReply> peeked = log.peek.get_reply(request);
    Future<bool> answered = answered_in_generation(db_info, peeked, generation);
    if (!co_await answered) continue;
    if (peeked.is_error()) {
      TraceEvent(Severity::warn, "StorageServerPeekFailed")
          .detail("Tag", state->config.tag)
          .detail("Generation", generation)
          .detail("Log", log.id)
          .error(peeked.error())
          .suppress_for(5);
      ++state->log_index;  // every log holds every tag: try the next one
      co_await delay(peek_retry_seconds);
      continue;
    }
    TLogPeekReply reply = co_await std::move(peeked);  // ready: taken, not copied
    Future<Void> applied = apply_reply(state, std::move(reply));
    co_await applied;
  }
}

// Tells every log of the current generation (each holds this server's tag) that versions up to
// `version` are durable here. Errors are ignored: a log may be gone, and the next pop covers it.
Future<Void> pop_logs(StorageState* state, Version version) {
  std::vector<Future<Void>> popped;
  for (const TLogInterface& log : state->config.db_info->get().tlogs) {
    TLogPopRequest pop;
    pop.tag = state->config.tag;
    pop.up_to = version;
    popped.push_back(ready(log.pop.get_reply(pop)));
  }
  Future<std::vector<Void>> all = when_all(std::move(popped));
  co_await all;
  co_return Void{};
}

// Every durability interval, or at once while behind, moves the versions that left the MVCC
// window (and are committed on every log) into the engine, at most storage_durable_batch_bytes
// (or what the engine prefers) per commit.
Future<Void> make_durable(StorageState* state) {
  bool behind = false;
  while (true) {
    co_await delay(behind ? 0 : durability_interval_seconds);
    Version window_end = std::min(state->data.latest_version() - mvcc_window_versions, state->known_committed);
    if (state->stop_durable_through) {
      window_end = std::max(window_end, std::min(*state->stop_durable_through, state->known_committed));
    }
    behind = false;
    if (window_end <= state->data.oldest_version()) continue;
    const size_t batch_bytes = std::min(static_cast<size_t>(storage_server_knobs().storage_durable_batch_bytes),
                                        state->engine->preferred_commit_bytes());
    Version target = state->data.durable_step(window_end, batch_bytes);
    // A dropped shard is cleared from the engine after every write of it the window holds at
    // or below the version it was dropped at, and before any later one: the commit stops there.
    std::vector<PendingClear>& clears = state->pending_clears;  // in version order
    const Version oldest = state->data.oldest_version();
    size_t cleared = 0;
    for (; cleared < clears.size() && clears[cleared].version <= oldest; ++cleared) {
      state->engine->clear_range(clears[cleared].range);
    }
    if (cleared < clears.size()) target = std::min(target, clears[cleared].version);
    behind = target < window_end;
    // In pieces, yielding between them: a step can hold tens of thousands of writes, and the
    // commits and reads waiting on the event loop should not wait for all of them. A step that
    // fits one commit lets the loop read its sockets between pieces (yield_to_io: a pass of the
    // loop runs every task due, so after yield() the whole step ran before any new request was
    // read, a stall of several milliseconds every interval under load). One of several (the
    // window holds more than a commit takes) goes on within the pass, to catch up.
    const auto piece_writes = static_cast<size_t>(std::max(1.0, storage_server_knobs().storage_durable_piece_writes));
    while (true) {
      std::vector<Mutation> piece = state->data.make_durable(target, piece_writes);
      for (Mutation& mutation : piece) {
        if (mutation.type == MutationType::set_value) state->engine->set(mutation.param1, std::move(mutation.param2));
        else state->engine->clear_range(KeyRange{mutation.param1, mutation.param2});
      }
      if (piece.size() < piece_writes) break;
      if (behind) co_await yield();
      else co_await yield_to_io();
    }
    for (; cleared < clears.size() && clears[cleared].version <= target; ++cleared) {
      state->engine->clear_range(clears[cleared].range);
    }
    clears.erase(clears.begin(), clears.begin() + static_cast<std::ptrdiff_t>(cleared));
    ShardRecord record = shard_record(*state, target);
    if (record != state->recorded) {
      state->engine->set(shard_record_key(), serialize_to_string(record));
      state->recorded = std::move(record);
    }
    state->engine->set(durable_version_key, encode_version(target));
    const double commit_started = now();
    co_await state->engine->commit();
    const double commit_seconds = now() - commit_started;
    state->committed_durable = target;
    ++state->engine_commits;
    state->engine_commit_seconds_total += commit_seconds;
    state->engine_commit_seconds_max = std::max(state->engine_commit_seconds_max, commit_seconds);
    co_await pop_logs(state, target);
    state->popped_through = target;
  }
}

// A clean stop (StorageStopRequest): once requested, makes durable (make_durable, beyond the
// window) every version known committed then, and counts this server finished once the engine
// holds it and the logs were told.
Future<Void> finish_for_stop(StorageState* state) {
  StorageStopRequest* stop = state->config.stop;
  ++stop->servers;
  Future<Void> requested = stop->requested.get_future();
  co_await requested;
  const Version through = state->known_committed;
  state->stop_durable_through = through;
  while (state->committed_durable < through || state->popped_through < through) {
    Future<Void> later = delay(durability_interval_seconds);
    co_await later;
  }
  TraceEvent("StorageServerDurableForStop").detail("Tag", state->config.tag).detail("DurableVersion", through);
  stop->finished.set(stop->finished.get() + 1);
  co_return Void{};
}

}  // namespace

Future<Void> run_storage_server(StorageServerInterface interface, StorageServerConfig config) {
  KEEL_ASSERT(config.db_info != nullptr);
  StorageState state;
  state.config = std::move(config);
  state.engine = co_await open_kv_store(state.config.engine, state.config.directory);
  std::optional<Value> durable = co_await state.engine->get(durable_version_key);
  const Version durable_version = decode_version(durable);
  state.data = VersionedData(durable_version);
  state.version.set(durable_version);
  state.known_committed = durable_version;  // it was known committed when it was made durable
  state.committed_durable = durable_version;
  state.popped_through = durable_version;  // the logs hold nothing older that this server needs
  co_await load_shard_record(&state);
  TraceEvent("StorageServerStarted").detail("Tag", state.config.tag).detail("DurableVersion", durable_version);
  ActorCollection actors;
  actors.add(pull(&state));
  actors.add(make_durable(&state));
  if (state.config.stop != nullptr) actors.add(finish_for_stop(&state));
  serve_reads(&state, interface, &actors);
  actors.add(serve<GetStorageStatusRequest, StorageServerStatus>(&state, interface.get_status.requests(), &actors,
                                                                 get_status));
  co_await actors.result();
  co_return Void{};
}

}  // namespace keel
