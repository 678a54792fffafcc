// The candidate's side of leader election (the cluster controller campaigns with it), and the
// query clients use to learn the leader from the coordinators. Protocol: election.h and
// docs/coordination.md.
//
// A LeaderCandidate heartbeats every coordinator independently (one slow or dead coordinator
// delays nobody), claiming once a majority nominates it. Usage:
//
//   LeaderCandidate candidate(coordinators, info);
//   Future<Void> campaign = candidate.run();         // keep it alive as long as the candidacy
//   co_await candidate.wait_elected();               // now the leader...
//   Future<Void> lost = candidate.hold();            // ...until this throws leadership_lost
//
// `holds_lease()` is exact at the current time; the future from hold() fires on a timer and so
// may fire a little late. Two leaders may briefly both act in the real world (a paused process
// wakes up believing it still leads), so safety must never rest on the election: recoveries are
// fenced by the coordinated state (coordinated_state.h). The candidate object must outlive the
// futures it returns.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/coordinator_interface.h"
#include "runtime/future.h"
#include "runtime/notified.h"
#include "server/coordinator/cluster_connection.h"
#include "server/coordinator/election.h"

namespace keel {

class LeaderCandidate {
 public:
  LeaderCandidate(CoordinatorSet coordinators, LeaderInfo info);

  // Heartbeats every coordinator until cancelled; throws coordinators_changed if the set moved.
  Future<Void> run();
  // Ready once this candidate holds the leadership.
  Future<Void> wait_elected();
  // Throws leadership_lost once the lease lapses (immediately if it does not hold it).
  Future<Void> hold();
  bool holds_lease() const;
  const LeaderInfo& info() const { return info_; }
  // Publishes a new description (e.g. the current proxies) through the coordinators, at once.
  void set_description(std::string description);

 private:
  Future<Void> heartbeat(size_t index);

  CoordinatorSet coordinators_;
  LeaderInfo info_;
  LeaderLease lease_;
  NotifiedValue<uint64_t> replies_{0};  // counts replies, so waiters re-check the lease
  uint64_t reply_count_ = 0;
  NotifiedValue<uint64_t> descriptions_{0};  // counts set_description calls: heartbeat at once
  uint64_t description_count_ = 0;
};

// One round of leader queries: the leader a majority of the set names (each asked once, in
// parallel), or the connection string one of them forwards to, or neither.
struct LeaderQuery {
  std::optional<LeaderInfo> leader;
  std::string forward;
};
Future<LeaderQuery> query_leader(CoordinatorSet coordinators);

// The leader named by a majority of coordinators, or none.
Future<std::optional<LeaderInfo>> get_leader(CoordinatorSet coordinators);
// The same for a process's connection, following (and adopting) forwards to newer sets.
Future<std::optional<LeaderInfo>> get_leader(std::shared_ptr<ClusterConnection> connection);

}  // namespace keel
