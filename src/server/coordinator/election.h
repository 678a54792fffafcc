// Leader election of the cluster controller, as two pure state machines (no I/O; time is an
// argument). The shells are coordinator.cpp (LeaderRegister) and leader_election.h
// (LeaderLease). docs/coordination.md has the whole protocol and the safety argument.
//
// Candidates heartbeat every coordinator. A coordinator that is not committed to anyone
// nominates the best candidate it heard from within `candidate_timeout_seconds` (higher
// priority, then higher candidate id). A candidate nominated by a majority at its last round
// claims: each coordinator not committed to another commits to it for `lease_seconds` from the
// moment the claim arrives, and confirms (even where a better candidate would be its nominee, so
// a leader keeps every coordinator it renews with). While committed, a coordinator nominates and
// confirms nobody else. A candidate holds the leadership while a majority confirmed claims it sent less than
// `lease_seconds - margin_seconds` ago.
//
// Safety (at most one holder at any instant): two holders would need a coordinator that
// confirmed both with overlapping leases, but a coordinator confirms nobody else while its
// commitment lasts, and one that restarts stays silent for a lease first (its commitments were
// in memory only). The argument assumes clocks run at the same rate within the margin; it does
// not depend on message delays, because a holder counts its lease from when it sent the claim.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "protocol/coordinator_interface.h"

namespace keel {

struct ElectionTiming {
  double lease_seconds = 1.0;
  double candidate_timeout_seconds = 1.0;
};

// Higher priority wins, then the higher candidate id.
bool better_candidate(const LeaderInfo& a, const LeaderInfo& b);

// One coordinator's side.
class LeaderRegister {
 public:
  // `started_at`: when this coordinator (re)started; it nominates nobody for one lease after.
  LeaderRegister(double started_at, ElectionTiming timing);

  CandidacyReply candidacy(const LeaderInfo& candidate, bool claim, double now);
  // The candidate this coordinator is committed to at `now`, with its latest description.
  std::optional<LeaderInfo> leader(double now) const;
  // Whom a candidacy at `now` would be told is the nominee (none during the quiet start).
  std::optional<LeaderInfo> nominee(double now) const;
  // During the quiet start: it nominates and commits to nobody.
  bool quiet(double now) const { return now < started_at_ + timing_.lease_seconds; }
  void check_invariants(double now) const;

 private:
  struct Candidate {
    LeaderInfo info;
    double last_heard = 0;
  };
  void forget_silent(double now);

  ElectionTiming timing_;
  double started_at_;
  std::map<uint64_t, Candidate> candidates_;  // by candidate id
  std::optional<uint64_t> committed_;          // candidate id
  double committed_until_ = 0;
};

// One candidate's view of its coordinators' answers.
class LeaderLease {
 public:
  LeaderLease(uint64_t candidate_id, size_t coordinators, double lease_seconds, double margin_seconds);

  // The reply to a candidacy request sent to `coordinator` at `sent_at`.
  void on_reply(size_t coordinator, double sent_at, const CandidacyReply& reply);
  // Whether to claim in the next requests: a majority nominated this candidate within a lease.
  bool should_claim(double now) const;
  // Whether this candidate is the leader at `now` (exact; timers may run late, this may not).
  bool holds(double now) const;
  // When holds() turns false unless more confirmations arrive (0 if it does not hold).
  double expires_at() const;
  size_t majority() const { return confirmed_at_.size() / 2 + 1; }

 private:
  double kth_latest(const std::vector<double>& times) const;

  uint64_t candidate_id_;
  double lease_seconds_;
  double margin_seconds_;
  std::vector<double> nominated_at_;  // per coordinator: send time of the last reply naming us
  std::vector<double> confirmed_at_;  // per coordinator: send time of the last confirmed claim
};

}  // namespace keel
