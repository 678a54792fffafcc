#include "server/coordinator/leader_election.h"

#include <map>

#include "runtime/combinators.h"
#include "runtime/random.h"
#include "runtime/trace.h"
#include "server/coordinator/coordinator_knobs.h"

namespace keel {

LeaderCandidate::LeaderCandidate(std::vector<CoordinatorInterface> coordinators, LeaderInfo info)
    : coordinators_(std::move(coordinators)),
      info_(std::move(info)),
      lease_(info_.candidate_id, coordinators_.size(), coordinator_knobs().leader_lease_seconds,
             coordinator_knobs().leader_lease_margin_seconds) {}

Future<Void> LeaderCandidate::run() {
  std::vector<Future<Void>> heartbeats;
  for (size_t i = 0; i < coordinators_.size(); ++i) heartbeats.push_back(heartbeat(i));
  Future<std::vector<Void>> all = when_all(std::move(heartbeats));
  co_await all;
  co_return Void{};
}

Future<Void> LeaderCandidate::heartbeat(size_t index) {
  const CoordinatorKnobs& knobs = coordinator_knobs();
  // Spread the first heartbeats so candidates do not move in lockstep.
  co_await delay(deterministic_random().random01() * knobs.candidacy_interval_seconds);
  while (true) {
    const double sent_at = now();
    CandidacyRequest request;
    request.candidate = info_;
    request.claim = lease_.should_claim(sent_at);
    try {
      Future<CandidacyReply> pending = coordinators_[index].candidacy.get_reply(request);
      CandidacyReply reply = co_await timeout_error(pending, knobs.coordinator_request_timeout_seconds);
      const bool held = lease_.holds(now());
      lease_.on_reply(index, sent_at, reply);
      if (!held && lease_.holds(now())) TraceEvent("LeaderElected").detail("Candidate", info_.candidate_id);
      replies_.set(++reply_count_);
    } catch (const Error&) {
      // Unanswered: this coordinator's last answers age out of the lease on their own.
    }
    // The next heartbeat goes at the interval, or at once when the description changed (so
    // clients learn a new generation's proxies without waiting for the interval).
    Future<Void> described = descriptions_.when_at_least(description_count_ + 1);
    co_await timeout(described, std::max(0.0, sent_at + knobs.candidacy_interval_seconds - now()));
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

Future<std::optional<LeaderInfo>> ask_leader(CoordinatorInterface coordinator) {
  GetLeaderRequest request;
  try {
    Future<GetLeaderReply> pending = coordinator.get_leader.get_reply(request);
    GetLeaderReply reply = co_await timeout_error(pending, coordinator_knobs().coordinator_request_timeout_seconds);
    co_return reply.leader;
  } catch (const Error&) {
  }
  co_return std::nullopt;
}

}  // namespace

Future<std::optional<LeaderInfo>> get_leader(std::vector<CoordinatorInterface> coordinators) {
  std::vector<Future<std::optional<LeaderInfo>>> asks;
  for (const CoordinatorInterface& coordinator : coordinators) asks.push_back(ask_leader(coordinator));
  const size_t majority = coordinators.size() / 2 + 1;
  std::map<uint64_t, size_t> votes;
  std::vector<bool> counted(asks.size(), false);
  // Answers count as they arrive: a majority that agrees decides without waiting for a
  // coordinator that is down (each ask ends by its timeout, so the loop ends).
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
      const std::optional<LeaderInfo>& leader = asks[i].get();
      if (leader && ++votes[leader->candidate_id] >= majority) co_return *leader;
    }
  }
  co_return std::nullopt;
}

}  // namespace keel
