#include "server/ratekeeper/ratekeeper.h"

#include <map>
#include <optional>

#include "protocol/well_known.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "server/ratekeeper/rate_model.h"
#include "server/ratekeeper/ratekeeper_knobs.h"

namespace keel {
namespace {

// A proxy that has not asked for this long no longer shares the rate.
constexpr double proxy_silence_seconds = 1.0;

struct RatekeeperState {
  ClusterConfig cluster;
  uint64_t generation = 0;
  RateModel model;
  std::map<uint64_t, double> proxies_heard;  // proxy id -> when it last asked
  bool was_limited = false;
  // Per storage server of the configuration: its answer since the last poll (none: it has not
  // answered yet), and whether a question to it is outstanding.
  std::vector<std::optional<StorageServerStatus>> answers;
  std::vector<bool> asking;
  SequencerInterface sequencer;
  Version committed = 0;  // the live committed version, as last heard
  bool asking_sequencer = false;
};

RateModelSettings model_settings() {
  const RatekeeperKnobs& knobs = ratekeeper_knobs();
  RateModelSettings settings;
  settings.window_target_bytes = knobs.ratekeeper_storage_window_target_bytes;
  settings.window_spring_bytes =
      knobs.ratekeeper_storage_window_target_bytes * knobs.ratekeeper_storage_window_spring_fraction;
  settings.transactions_per_second_min = knobs.ratekeeper_transactions_per_second_min;
  settings.smoothing_seconds = knobs.ratekeeper_smoothing_seconds;
  settings.window_seconds = static_cast<double>(mvcc_window_versions) / versions_per_second;
  settings.memory_target_fraction = knobs.ratekeeper_memory_target_fraction;
  settings.memory_spring_fraction = knobs.ratekeeper_memory_spring_fraction;
  return settings;
}

// Asks one storage server for its status and keeps the answer (an unreachable entry when it
// does not answer within two poll intervals) for the next poll.
Future<Void> ask_storage(RatekeeperState* state, size_t index) {
  Future<StorageServerStatus> asked =
      ask_storage_status(state->cluster.storage[index], ratekeeper_knobs().ratekeeper_poll_seconds * 2);
  state->answers[index] = co_await asked;
  state->asking[index] = false;
  co_return Void{};
}

Future<Void> ask_sequencer(RatekeeperState* state) {
  Future<Version> asked = ask_live_committed_version(state->sequencer, ratekeeper_knobs().ratekeeper_poll_seconds * 2);
  state->committed = std::max(state->committed, co_await asked);
  state->asking_sequencer = false;
  co_return Void{};
}

// What the model needs of a storage server's answer (none: unreachable this poll).
StorageQueueSample sample_of(Tag tag, const std::optional<StorageServerStatus>& answer, Version committed) {
  if (!answer) return StorageQueueSample{tag, false};
  const StorageServerStatus& status = *answer;
  const double span = static_cast<double>(status.latest_version - status.durable_version) / versions_per_second;
  const double pull_lag =
      static_cast<double>(std::max<Version>(0, committed - status.latest_version)) / versions_per_second;
  return StorageQueueSample{tag,  status.reachable, status.window_bytes, status.logical_bytes_written, span, pull_lag,
                            status.memory_used_bytes, status.memory_budget_bytes};
}

// Every poll interval: recomputes the rate from the latest answers and asks every storage server
// that is not still answering an earlier question. A server still silent counts as unreachable
// (the model keeps its last answer for a while).
Future<Void> poll_storage(RatekeeperState* state) {
  ActorCollection asking;
  const size_t servers = state->cluster.storage.size();
  state->answers.resize(servers);
  state->asking.assign(servers, false);
  while (true) {
    for (size_t i = 0; i < servers; ++i) {
      if (state->asking[i]) continue;
      state->asking[i] = true;
      asking.add(ask_storage(state, i));
    }
    if (!state->asking_sequencer) {
      state->asking_sequencer = true;
      asking.add(ask_sequencer(state));
    }
    co_await delay(ratekeeper_knobs().ratekeeper_poll_seconds);
    std::vector<StorageQueueSample> samples;
    for (size_t i = 0; i < servers; ++i) {
      samples.push_back(sample_of(state->cluster.storage[i].tag, state->answers[i], state->committed));
      state->answers[i].reset();
    }
    state->model.add_poll(now(), samples);
    const RateStatus& rate = state->model.status();
    const bool limited = rate.transactions_per_second_limit >= 0;
    if (limited != state->was_limited) {
      TraceEvent(Severity::warn_always, limited ? "RatekeeperLimiting" : "RatekeeperUnlimited")
          .detail("Generation", state->generation)
          .detail("TransactionsPerSecond", rate.transactions_per_second_limit)
          .detail("Released", rate.released_per_second)
          .detail("LimitedBy", rate.limited_by);
      state->was_limited = limited;
    }
  }
}

Future<Void> serve_rate_info(RatekeeperState* state, FutureStream<GetRateInfoRequest> requests) {
  while (true) {
    GetRateInfoRequest request = co_await requests.next();
    state->model.add_released(request.released);
    state->proxies_heard[request.proxy_id] = now();
    std::erase_if(state->proxies_heard, [](const auto& heard) { return now() - heard.second > proxy_silence_seconds; });
    GetRateInfoReply reply;
    reply.transactions_per_second = state->model.status().transactions_per_second_limit;
    reply.proxies = static_cast<int32_t>(state->proxies_heard.size());
    request.reply.send(reply);
  }
}

Future<Void> serve_rate_status(RatekeeperState* state, FutureStream<GetRateStatusRequest> requests) {
  while (true) {
    GetRateStatusRequest request = co_await requests.next();
    request.reply.send(state->model.status());
  }
}

}  // namespace

Future<Void> run_ratekeeper(RatekeeperInterface interface, ClusterConfig cluster, uint64_t generation,
                           SequencerInterface sequencer) {
  RatekeeperState state{std::move(cluster), generation, RateModel(model_settings())};
  state.sequencer = std::move(sequencer);
  TraceEvent("RatekeeperStarted").detail("Generation", generation).detail("StorageServers", state.cluster.storage.size());
  ActorCollection actors;
  actors.add(poll_storage(&state));
  actors.add(serve_rate_info(&state, interface.get_rate_info.requests()));
  actors.add(serve_rate_status(&state, interface.get_status.requests()));
  actors.add(serve_wait_failure(interface.wait_failure.requests()));
  co_await actors.result();
  co_return Void{};
}

}  // namespace keel
