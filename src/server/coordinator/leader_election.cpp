#include "server/coordinator/leader_election.h"

#include <algorithm>
#include <map>

#include "protocol/well_known.h"
#include "runtime/combinators.h"
#include "runtime/random.h"
#include "runtime/trace.h"
#include "server/coordinator/coordinator_knobs.h"

namespace keel {

LeaderCandidate::LeaderCandidate(CoordinatorSet coordinators, LeaderInfo info)
    : coordinators_(std::move(coordinators)),
      info_(std::move(info)),
      lease_(info_.candidate_id, coordinators_.coordinators.size(), coordinator_knobs().leader_lease_seconds,
             coordinator_knobs().leader_lease_margin_seconds) {}

Future<Void> LeaderCandidate::run() {
  std::vector<Future<Void>> heartbeats;
  for (size_t i = 0; i < coordinators_.coordinators.size(); ++i) heartbeats.push_back(heartbeat(i));
  Future<std::vector<Void>> all = when_all(std::move(heartbeats));
  co_await all;
  co_return Void{};
}

Future<Void> LeaderCandidate::heartbeat(size_t index) {
  const CoordinatorKnobs& knobs = coordinator_knobs();
  // A leader's lease lasts (lease - margin) from a majority's confirmation of a claim, so claims
  // go at least three times per lease: one late answer must not end it.
  const double interval = std::min(knobs.candidacy_interval_seconds,
                                   (knobs.leader_lease_seconds - knobs.leader_lease_margin_seconds) / 3);
  // Spread the first heartbeats so candidates do not move in lockstep.
  co_await delay(deterministic_random().random01() * interval);
  while (true) {
    const double sent_at = now();
    CandidacyRequest request;
    request.cluster_id = coordinators_.cluster_id;
    request.candidate = info_;
    request.claim = lease_.should_claim(sent_at);
    try {
      Future<CandidacyReply> pending = coordinators_.coordinators[index].candidacy.get_reply(request);
      CandidacyReply reply = co_await timeout_error(pending, knobs.coordinator_request_timeout_seconds);
      const bool held = lease_.holds(now());
      lease_.on_reply(index, sent_at, reply);
      if (!held && lease_.holds(now())) TraceEvent("LeaderElected").detail("Candidate", info_.candidate_id);
      replies_.set(++reply_count_);
    } catch (const Error& error) {
      // The set moved: campaigning here is pointless (the caller follows the forward).
      if (error.code() == errc::coordinators_changed) throw;
      // Unanswered: this coordinator's last answers age out of the lease on their own.
    }
    // The next heartbeat goes at the interval, or at once when the description changed (so
    // clients learn a new generation's proxies without waiting for the interval).
    Future<Void> described = descriptions_.when_at_least(description_count_ + 1);
    co_await timeout(described, std::max(0.0, sent_at + interval - now()));
  }
}

bool LeaderCandidate::holds_lease() const { return lease_.holds(now()); }

Future<Void> LeaderCandidate::wait_elected() {
  while (!lease_.holds(now())) co_await replies_.when_at_least(reply_count_ + 1);
  co_return Void{};
}

Future<Void> LeaderCandidate::hold() {
  while (lease_.holds(now())) co_await delay(lease_.expires_at() - now());
  TraceEvent("LeaderLeaseLost").detail("Candidate", info_.candidate_id);
  throw Error(errc::leadership_lost);
}

void LeaderCandidate::set_description(std::string description) {
  info_.description = std::move(description);
  info_.change_id = deterministic_random().next_u64();
  descriptions_.set(++description_count_);
}

namespace {

Future<GetLeaderReply> ask_leader(CoordinatorInterface coordinator, std::string cluster_id) {
  GetLeaderRequest request;
  request.cluster_id = std::move(cluster_id);
  try {
    Future<GetLeaderReply> pending = coordinator.get_leader.get_reply(request);
    co_return co_await timeout_error(pending, coordinator_knobs().coordinator_request_timeout_seconds);
  } catch (const Error&) {
  }
  co_return GetLeaderReply{};
}

// How many forwards one lookup follows before it gives up (a set moves rarely; a longer chain
// means the forwards loop).
constexpr int forwards_followed_max = 8;

}  // namespace

Future<LeaderQuery> query_leader(CoordinatorSet coordinators) {
  std::vector<Future<GetLeaderReply>> asks;
  for (const CoordinatorInterface& coordinator : coordinators.coordinators) {
    asks.push_back(ask_leader(coordinator, coordinators.cluster_id));
  }
  const size_t majority = asks.size() / 2 + 1;
  std::map<uint64_t, size_t> votes;
  std::vector<bool> counted(asks.size(), false);
  // Answers count as they arrive: a majority that agrees decides without waiting for a
  // coordinator that is down (each ask ends by its timeout, so the loop ends). One forward is
  // enough: a set is forwarded only after its successor holds the core state.
  for (size_t answered = 0; answered < asks.size();) {
    std::vector<Future<Void>> pending;
    for (size_t i = 0; i < asks.size(); ++i) {
      if (!counted[i]) pending.push_back(ready(asks[i]));
    }
    co_await when_any(std::move(pending));
    for (size_t i = 0; i < asks.size(); ++i) {
      if (counted[i] || !asks[i].is_ready()) continue;
      counted[i] = true;
      ++answered;
      const GetLeaderReply& reply = asks[i].get();
      if (!reply.forward.empty()) co_return LeaderQuery{std::nullopt, reply.forward};
      if (reply.leader && ++votes[reply.leader->candidate_id] >= majority) co_return LeaderQuery{reply.leader, ""};
    }
  }
  co_return LeaderQuery{};
}

Future<std::optional<LeaderInfo>> get_leader(CoordinatorSet coordinators) {
  Future<LeaderQuery> query = query_leader(std::move(coordinators));
  LeaderQuery found = co_await query;
  co_return std::move(found.leader);
}

Future<std::optional<LeaderInfo>> get_leader(std::shared_ptr<ClusterConnection> connection) {
  for (int followed = 0; followed <= forwards_followed_max; ++followed) {
    Future<LeaderQuery> query = query_leader(coordinator_set(connection->get()));
    LeaderQuery found = co_await query;
    if (found.forward.empty()) co_return std::move(found.leader);
    Future<Void> followed_forward = connection->follow(found.forward);
    co_await followed_forward;
  }
  TraceEvent(Severity::warn_always, "CoordinatorForwardsLoop").detail("Connection", format_connection_string(connection->get()));
  co_return std::nullopt;
}

}  // namespace keel
