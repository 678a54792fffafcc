#include "server/coordinator/election.h"

#include <algorithm>
#include <functional>
#include <tuple>

#include "runtime/assert.h"

namespace keel {
namespace {

// Before any reply: long enough ago that no lease or nomination counts.
constexpr double never_seconds = -1e18;

}  // namespace

bool better_candidate(const LeaderInfo& a, const LeaderInfo& b) {
  return std::tie(a.priority, a.candidate_id) > std::tie(b.priority, b.candidate_id);
}

LeaderRegister::LeaderRegister(double started_at, ElectionTiming timing) : timing_(timing), started_at_(started_at) {
  KEEL_ASSERT(timing.lease_seconds > 0 && timing.candidate_timeout_seconds > 0);
}

std::optional<LeaderInfo> LeaderRegister::leader(double now) const {
  if (!committed_ || now >= committed_until_) return std::nullopt;
  auto it = candidates_.find(*committed_);
  KEEL_ASSERT(it != candidates_.end());  // a committed candidate is never forgotten
  return it->second.info;
}

std::optional<LeaderInfo> LeaderRegister::nominee(double now) const {
  if (std::optional<LeaderInfo> committed = leader(now)) return committed;
  if (quiet(now)) return std::nullopt;
  const Candidate* best = nullptr;
  for (const auto& [id, candidate] : candidates_) {
    if (now - candidate.last_heard >= timing_.candidate_timeout_seconds) continue;
    if (best == nullptr || better_candidate(candidate.info, best->info)) best = &candidate;
  }
  if (best == nullptr) return std::nullopt;
  return best->info;
}

CandidacyReply LeaderRegister::candidacy(const LeaderInfo& candidate, bool claim, double now) {
  forget_silent(now);
  Candidate& entry = candidates_[candidate.candidate_id];
  entry.info = candidate;
  entry.last_heard = std::max(entry.last_heard, now);
  CandidacyReply reply;
  reply.nominee = nominee(now);
  // A claim is honoured unless this coordinator is committed to someone else (or quiet), even
  // from a candidate it would not nominate itself: the claimant was nominated by a majority, and
  // a leader that renews everywhere keeps its coordinators after one of them fails.
  const bool free = !quiet(now) && (!committed_ || *committed_ == candidate.candidate_id);
  if (claim && free) {
    committed_ = candidate.candidate_id;
    committed_until_ = std::max(committed_until_, now + timing_.lease_seconds);
    reply.confirmed = true;
    reply.nominee = candidate;
  }
  check_invariants(now);
  return reply;
}

void LeaderRegister::forget_silent(double now) {
  if (committed_ && now >= committed_until_) committed_.reset();
  std::erase_if(candidates_, [&](const auto& item) {
    const bool is_committed = committed_ && *committed_ == item.first;
    return !is_committed && now - item.second.last_heard >= timing_.candidate_timeout_seconds;
  });
}

void LeaderRegister::check_invariants(double now) const {
  if (committed_) KEEL_ASSERT(candidates_.count(*committed_) == 1);
  // Nothing is committed during the quiet start: commitments of a previous life are gone.
  if (quiet(now)) KEEL_ASSERT(!committed_);
}

LeaderLease::LeaderLease(uint64_t candidate_id, size_t coordinators, double lease_seconds, double margin_seconds)
    : candidate_id_(candidate_id),
      lease_seconds_(lease_seconds),
      margin_seconds_(margin_seconds),
      nominated_at_(coordinators, never_seconds),
      confirmed_at_(coordinators, never_seconds) {
  KEEL_ASSERT(coordinators > 0);
  KEEL_ASSERT(margin_seconds >= 0 && margin_seconds < lease_seconds);
}

void LeaderLease::on_reply(size_t coordinator, double sent_at, const CandidacyReply& reply) {
  KEEL_ASSERT(coordinator < confirmed_at_.size());
  const bool named = reply.nominee && reply.nominee->candidate_id == candidate_id_;
  KEEL_ASSERT(named || !reply.confirmed);
  // Replies may arrive out of order: only a newer request's answer replaces an older one's.
  if (named) {
    nominated_at_[coordinator] = std::max(nominated_at_[coordinator], sent_at);
  } else if (sent_at >= nominated_at_[coordinator]) {
    nominated_at_[coordinator] = never_seconds;
  }
  if (reply.confirmed) confirmed_at_[coordinator] = std::max(confirmed_at_[coordinator], sent_at);
}

double LeaderLease::kth_latest(const std::vector<double>& times) const {
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end(), std::greater<double>());
  return sorted[majority() - 1];
}

bool LeaderLease::should_claim(double now) const {
  return holds(now) || now < kth_latest(nominated_at_) + lease_seconds_;
}

bool LeaderLease::holds(double now) const { return now < expires_at(); }

double LeaderLease::expires_at() const {
  const double latest = kth_latest(confirmed_at_);
  if (latest == never_seconds) return 0;
  return latest + lease_seconds_ - margin_seconds_;
}

}  // namespace keel
