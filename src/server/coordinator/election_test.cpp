#include "server/coordinator/election.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>
#include <optional>
#include <tuple>

#include "runtime/random.h"

namespace keel {
namespace {

constexpr ElectionTiming timing{1.0, 1.0};

LeaderInfo candidate(uint64_t id, int32_t priority = 0) { return LeaderInfo{id, id * 100, priority, fmt::format("c{}", id)}; }

TEST(ElectionTest, QuietForOneLeaseAfterStart) {
  LeaderRegister reg(10.0, timing);
  EXPECT_FALSE(reg.candidacy(candidate(1), true, 10.5).nominee);
  CandidacyReply reply = reg.candidacy(candidate(1), true, 11.0);
  ASSERT_TRUE(reply.nominee);
  EXPECT_EQ(reply.nominee->candidate_id, 1u);
  EXPECT_TRUE(reply.confirmed);
}

TEST(ElectionTest, NominatesTheBestLiveCandidateUntilCommitted) {
  LeaderRegister reg(0, timing);
  reg.candidacy(candidate(1, 5), false, 2.0);
  CandidacyReply reply = reg.candidacy(candidate(2, 1), false, 2.1);
  EXPECT_EQ(reply.nominee->candidate_id, 1u);  // higher priority
  // Candidate 1 falls silent: after the timeout candidate 2 is nominated.
  reply = reg.candidacy(candidate(2, 1), false, 3.05);
  EXPECT_EQ(reply.nominee->candidate_id, 2u);
  EXPECT_FALSE(reply.confirmed);
  // Candidate 2 claims and is committed to; candidate 1 comes back, better, but must wait.
  EXPECT_TRUE(reg.candidacy(candidate(2, 1), true, 3.1).confirmed);
  reply = reg.candidacy(candidate(1, 5), true, 3.2);
  EXPECT_EQ(reply.nominee->candidate_id, 2u);
  EXPECT_FALSE(reply.confirmed);
  EXPECT_EQ(reg.leader(4.0)->candidate_id, 2u);
  EXPECT_FALSE(reg.leader(4.1));  // the lease lapsed without another claim
  reply = reg.candidacy(candidate(1, 5), true, 4.2);
  EXPECT_TRUE(reply.confirmed);
  EXPECT_EQ(reg.leader(4.2)->candidate_id, 1u);
}

TEST(ElectionTest, LeaderPublishesItsDescriptionThroughHeartbeats) {
  LeaderRegister reg(0, timing);
  LeaderInfo info = candidate(3);
  reg.candidacy(info, true, 1.0);
  info.description = "proxies: a, b";
  info.change_id = 7;
  reg.candidacy(info, true, 1.2);
  EXPECT_EQ(reg.leader(1.3)->description, "proxies: a, b");
}

TEST(ElectionTest, LeaseNeedsAMajorityOfConfirmations) {
  LeaderLease lease(1, 3, 1.0, 0.1);
  CandidacyReply named{candidate(1), false};
  CandidacyReply confirmed{candidate(1), true};
  CandidacyReply other{candidate(2), false};
  lease.on_reply(0, 0.0, named);
  EXPECT_FALSE(lease.should_claim(0.1));
  lease.on_reply(1, 0.0, named);
  EXPECT_TRUE(lease.should_claim(0.1));
  lease.on_reply(0, 0.2, confirmed);
  EXPECT_FALSE(lease.holds(0.3));
  lease.on_reply(2, 0.25, confirmed);
  EXPECT_TRUE(lease.holds(0.3));
  EXPECT_DOUBLE_EQ(lease.expires_at(), 0.2 + 1.0 - 0.1);
  EXPECT_FALSE(lease.holds(1.1));
  // An older request's answer arriving late does not undo a newer one.
  lease.on_reply(1, 0.5, confirmed);
  lease.on_reply(1, 0.4, other);
  EXPECT_TRUE(lease.holds(1.14));  // now the second latest confirmation is 0.25's
  EXPECT_FALSE(lease.holds(1.15));
}

// Candidates and coordinators exchange messages with random delays and losses; coordinators
// restart and candidates crash. At every event: at most one candidate holds the lease, and a
// holder is the committed leader of a majority of coordinators. After the faults stop, some
// candidate is elected within a bound.
class ElectionModel {
 public:
  ElectionModel(uint64_t seed, size_t coordinators, size_t candidates) : random_(seed) {
    for (size_t i = 0; i < coordinators; ++i) registers_.emplace_back(0.0, timing);
    for (size_t i = 0; i < candidates; ++i) {
      Candidate entry{candidate(i + 1, static_cast<int32_t>(random_.random_int(0, 3))),
                      LeaderLease(i + 1, coordinators, timing.lease_seconds, 0.0), true};
      candidates_.push_back(std::move(entry));
      for (size_t c = 0; c < coordinators; ++c) schedule(random_.random01() * 0.2, Event{Kind::heartbeat, i, c, 0, {}});
    }
  }

  // Runs until `until`; faults (loss, long delays, restarts, crashes) only while `faulty`.
  void run(double until, bool faulty) {
    faulty_ = faulty;
    while (!events_.empty() && events_.begin()->first.first <= until) {
      auto it = events_.begin();
      now_ = it->first.first;
      Event event = it->second;
      events_.erase(it);
      handle(event);
      check();
      if (faulty_ && random_.coin(0.002)) registers_[pick(registers_.size())] = LeaderRegister(now_, timing);
      if (faulty_ && random_.coin(0.001)) {
        Candidate& victim = candidates_[pick(candidates_.size())];
        victim.alive = !victim.alive;
        if (victim.alive) {
          victim.lease = LeaderLease(victim.info.candidate_id, registers_.size(), timing.lease_seconds, 0.0);
          for (size_t c = 0; c < registers_.size(); ++c) {
            schedule(0.01, Event{Kind::heartbeat, static_cast<size_t>(&victim - candidates_.data()), c, 0, {}});
          }
        }
      }
    }
    now_ = until;
    check();
  }

  std::optional<size_t> holder() const {
    std::optional<size_t> found;
    for (size_t i = 0; i < candidates_.size(); ++i) {
      if (candidates_[i].alive && candidates_[i].lease.holds(now_)) found = i;
    }
    return found;
  }
  void revive_all() {
    for (size_t i = 0; i < candidates_.size(); ++i) {
      if (candidates_[i].alive) continue;
      candidates_[i].alive = true;
      candidates_[i].lease = LeaderLease(candidates_[i].info.candidate_id, registers_.size(), timing.lease_seconds, 0.0);
      for (size_t c = 0; c < registers_.size(); ++c) schedule(0.01, Event{Kind::heartbeat, i, c, 0, {}});
    }
  }
  double now() const { return now_; }

 private:
  enum class Kind { heartbeat, request, reply };
  struct Event {
    Kind kind;
    size_t candidate, coordinator;
    double sent_at;
    CandidacyReply reply;
    bool claim = false;
  };
  struct Candidate {
    LeaderInfo info;
    LeaderLease lease;
    bool alive;
  };

  size_t pick(size_t n) { return static_cast<size_t>(random_.random_int(0, static_cast<int64_t>(n))); }
  void schedule(double after, Event event) { events_.emplace(std::make_pair(now_ + after, sequence_++), std::move(event)); }
  double latency() { return faulty_ && random_.coin(0.05) ? random_.random01() * 2.0 : random_.random01() * 0.05; }
  bool lost() { return faulty_ && random_.coin(0.1); }

  void handle(Event& event) {
    Candidate& entry = candidates_[event.candidate];
    switch (event.kind) {
      case Kind::heartbeat: {
        if (!entry.alive) return;
        Event request{Kind::request, event.candidate, event.coordinator, now_, {}, entry.lease.should_claim(now_)};
        if (!lost()) schedule(latency(), request);
        schedule(0.2, Event{Kind::heartbeat, event.candidate, event.coordinator, 0, {}});
        return;
      }
      case Kind::request: {
        Event reply = event;
        reply.kind = Kind::reply;
        reply.reply = registers_[event.coordinator].candidacy(entry.info, event.claim, now_);
        if (!lost()) schedule(latency(), reply);
        return;
      }
      case Kind::reply:
        if (entry.alive) entry.lease.on_reply(event.coordinator, event.sent_at, event.reply);
        return;
    }
  }

  void check() {
    size_t holders = 0;
    for (const Candidate& entry : candidates_) {
      if (!entry.alive || !entry.lease.holds(now_)) continue;
      ++holders;
      // Every coordinator of the majority that confirmed is still committed to the holder, or
      // restarted and stays quiet.
      size_t committed = 0;
      for (const LeaderRegister& reg : registers_) {
        std::optional<LeaderInfo> leader = reg.leader(now_);
        if ((leader && leader->candidate_id == entry.info.candidate_id) || reg.quiet(now_)) ++committed;
      }
      ASSERT_GE(committed, registers_.size() / 2 + 1) << "a holder without a committed majority at " << now_;
    }
    ASSERT_LE(holders, 1u) << "two leaders at " << now_;
  }

  DeterministicRandom random_;
  std::vector<LeaderRegister> registers_;
  std::vector<Candidate> candidates_;
  std::map<std::pair<double, uint64_t>, Event> events_;
  uint64_t sequence_ = 0;
  double now_ = 0;
  bool faulty_ = false;
};

TEST(ElectionTest, RandomFaultsNeverMakeTwoLeadersAndCalmElectsOne) {
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    ElectionModel model(seed, seed % 2 == 0 ? 3 : 5, 1 + seed % 4);
    model.run(30.0, true);
    if (::testing::Test::HasFatalFailure()) return;
    model.revive_all();
    // Calm: within a few leases someone leads, and keeps leading.
    model.run(36.0, false);
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_TRUE(model.holder().has_value()) << "no leader 6 s after the faults stopped";
    const size_t leader = *model.holder();
    model.run(40.0, false);
    ASSERT_TRUE(model.holder().has_value());
    EXPECT_EQ(*model.holder(), leader) << "leadership moved without a fault";
  }
}

}  // namespace
}  // namespace keel
