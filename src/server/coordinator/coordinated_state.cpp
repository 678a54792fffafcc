#include "server/coordinator/coordinated_state.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "server/coordinator/coordinator_knobs.h"

namespace keel {
namespace {

// Phase 1 retries back off exponentially up to this long.
constexpr double retry_delay_max_seconds = 0.5;

// One phase against every coordinator: the replies so far, and a promise sent once the outcome
// is decided (a majority counted, or too few left to make one).
template <class Reply>
struct Round {
  std::vector<std::optional<Reply>> replies;
  size_t pending = 0;
  size_t good = 0;  // replies that count towards the majority
  size_t majority = 0;
  bool moved = false;  // a coordinator answered coordinators_changed
  Promise<Void> decided;

  void finish_one() {
    --pending;
    if (decided.is_set()) return;
    if (moved || good >= majority || good + pending < majority) decided.send(Void{});
  }
};

Future<Void> ask_read(std::shared_ptr<Round<RegisterReadReply>> round, size_t index, CoordinatorInterface coordinator,
                      std::string cluster_id, Generation generation) {
  RegisterReadRequest request;
  request.cluster_id = std::move(cluster_id);
  request.generation = generation;
  try {
    Future<RegisterReadReply> pending = coordinator.read.get_reply(request);
    RegisterReadReply reply = co_await timeout_error(pending, coordinator_knobs().coordinator_request_timeout_seconds);
    if (reply.read_generation == generation) ++round->good;
    round->replies[index] = std::move(reply);
  } catch (const Error& error) {
    if (error.code() == errc::internal_error) throw;
    if (error.code() == errc::coordinators_changed) round->moved = true;
  }
  round->finish_one();
  co_return Void{};
}

Future<Void> ask_write(std::shared_ptr<Round<RegisterWriteReply>> round, size_t index, CoordinatorInterface coordinator,
                       std::string cluster_id, Generation generation, std::string value) {
  RegisterWriteRequest request;
  request.cluster_id = std::move(cluster_id);
  request.generation = generation;
  request.value = std::move(value);
  try {
    Future<RegisterWriteReply> pending = coordinator.write.get_reply(request);
    RegisterWriteReply reply = co_await timeout_error(pending, coordinator_knobs().coordinator_request_timeout_seconds);
    if (reply.accepted) ++round->good;
    round->replies[index] = reply;
  } catch (const Error& error) {
    if (error.code() == errc::internal_error) throw;
    if (error.code() == errc::coordinators_changed) round->moved = true;
  }
  round->finish_one();
  co_return Void{};
}

template <class Reply>
std::shared_ptr<Round<Reply>> make_round(size_t coordinators) {
  auto round = std::make_shared<Round<Reply>>();
  round->replies.resize(coordinators);
  round->pending = coordinators;
  round->majority = coordinators / 2 + 1;
  return round;
}

}  // namespace

CoordinatedState::CoordinatedState(CoordinatorSet coordinators, uint64_t proposer_id)
    : coordinators_(std::move(coordinators)), proposer_id_(proposer_id) {
  KEEL_ASSERT(!coordinators_.coordinators.empty());
  KEEL_ASSERT(proposer_id_ != 0);
}

Future<std::string> CoordinatedState::read() {
  may_write_ = false;
  const CoordinatorKnobs& knobs = coordinator_knobs();
  bool fenced = false;
  for (int attempt = 0; attempt < static_cast<int>(knobs.coordinated_read_attempts_max); ++attempt) {
    if (attempt > 0) {
      const double backoff_max =
          std::min(retry_delay_max_seconds, knobs.coordinated_retry_delay_seconds * static_cast<double>(1 << std::min(attempt, 8)));
      co_await delay(deterministic_random().random01() * backoff_max);
    }
    const Generation generation{counter_seen_ + 1, proposer_id_, 0};
    counter_seen_ = generation.counter;
    const std::vector<CoordinatorInterface>& members = coordinators_.coordinators;
    auto round = make_round<RegisterReadReply>(members.size());
    std::vector<Future<Void>> asks;
    for (size_t i = 0; i < members.size(); ++i) {
      asks.push_back(ask_read(round, i, members[i], coordinators_.cluster_id, generation));
    }
    co_await round->decided.get_future();
    if (round->moved) throw Error(errc::coordinators_changed);
    fenced = false;
    const RegisterReadReply* adopted = nullptr;
    for (const std::optional<RegisterReadReply>& reply : round->replies) {
      if (!reply) continue;
      counter_seen_ = std::max(counter_seen_, reply->read_generation.counter);
      if (reply->read_generation != generation) {
        fenced = true;
        continue;
      }
      if (adopted == nullptr || reply->write_generation > adopted->write_generation) adopted = &*reply;
    }
    if (round->good >= round->majority) {
      KEEL_ASSERT(adopted != nullptr);
      generation_ = generation;
      may_write_ = true;
      co_return adopted->value;
    }
  }
  throw Error(fenced ? errc::coordinated_state_conflict : errc::timed_out);
}

Future<Void> CoordinatedState::write(std::string value) {
  if (!may_write_) throw Error(errc::client_invalid_operation);  // read() first, again after a failed write
  if (value.size() > coordinated_value_bytes_max) throw Error(errc::value_too_large);
  may_write_ = false;
  ++generation_.sequence;
  const Generation generation = generation_;
  const std::vector<CoordinatorInterface>& members = coordinators_.coordinators;
  auto round = make_round<RegisterWriteReply>(members.size());
  std::vector<Future<Void>> asks;
  for (size_t i = 0; i < members.size(); ++i) {
    asks.push_back(ask_write(round, i, members[i], coordinators_.cluster_id, generation, value));
  }
  co_await round->decided.get_future();
  if (round->moved) throw Error(errc::coordinators_changed);
  for (const std::optional<RegisterWriteReply>& reply : round->replies) {
    if (reply) counter_seen_ = std::max(counter_seen_, reply->read_generation.counter);
  }
  if (round->good < round->majority) {
    TraceEvent("CoordinatedStateWriteFailed").detail("Accepted", round->good).detail("Counter", generation.counter);
    throw Error(errc::coordinated_state_conflict);
  }
  may_write_ = true;
  co_return Void{};
}

}  // namespace keel
