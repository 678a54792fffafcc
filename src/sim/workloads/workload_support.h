// Pieces every database workload uses: the cluster's Database and a bounded problem log.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/database.h"
#include "client/status.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"

namespace keel::sim {

// How long a workload waits on one administrative request (status, settings, coordinators)
// before it counts the attempt as failed.
inline constexpr double attempt_timeout_seconds = 10;

// Rows per page when a workload reads its keys back to check them.
inline constexpr int check_page_rows = 1000;

// The atomic operations a random workload draws from (the versionstamped ones need their own
// operand layout and are left out).
inline constexpr MutationType atomic_types[] = {
    MutationType::add,      MutationType::bit_and,  MutationType::bit_or,         MutationType::bit_xor,
    MutationType::max,      MutationType::min,      MutationType::byte_min,       MutationType::byte_max,
    MutationType::append_if_fits, MutationType::compare_and_clear,
};

// A client's connection to a StaticCluster topology: its first processes are the first
// coordinators (the connection follows them when they move).
inline std::shared_ptr<ClusterConnection> static_cluster_connection(const RunContext& context) {
  ClusterConnectionString connection;
  for (size_t i = 0; i < context.coordinators && i < context.cluster.size(); ++i) {
    connection.coordinators.push_back(context.cluster[i]->local_address());
  }
  connection.id = default_cluster_id(connection.coordinators);
  return std::make_shared<ClusterConnection>(std::move(connection));
}

// The database of a StaticCluster topology.
inline Database static_cluster_database(const RunContext& context) { return Database(static_cluster_connection(context)); }

// Commits one transaction that sets `key` (a system-free probe key of the workload), retrying
// until it succeeds: the cluster accepts commits.
inline Future<Void> commit_probe(Database db, Key key) {
  auto body = [key](Transaction& transaction) -> Future<Void> {
    transaction.set(key, "1");
    co_return Void{};
  };
  Future<Void> committed = db.run(body);
  co_await committed;
  co_return Void{};
}

// One attempt at a settings change through the controller, as `keel cli configure`, `exclude`
// and `include` make: the settings after it, or nullopt when it was refused or not answered
// within `timeout_seconds` (traced as `failed_type`).
inline Future<std::optional<ClusterSettings>> change_settings_once(Database db, ChangeSettingsRequest request,
                                                                   double timeout_seconds, const char* failed_type) {
  Future<ClusterSettings> changed = timeout_error(change_settings(db, std::move(request)), timeout_seconds);
  co_await ready(changed);
  if (changed.is_error()) {
    TraceEvent(failed_type).error(changed.error());
    co_return std::nullopt;
  }
  co_return changed.get();
}

// A workload's problems: each one is traced (severity warn, type `trace_type`) and the first
// problems_max are kept for the run's report.
class ProblemLog {
 public:
  static constexpr size_t problems_max = 20;

  explicit ProblemLog(std::string trace_type) : trace_type_(std::move(trace_type)) {}

  void add(std::string text) {
    if (full()) return;
    TraceEvent(Severity::warn, trace_type_).detail("Problem", text);
    problems_.push_back(std::move(text));
  }
  bool full() const { return problems_.size() >= problems_max; }
  const std::vector<std::string>& list() const { return problems_; }

 private:
  std::string trace_type_;
  std::vector<std::string> problems_;
};

}  // namespace keel::sim
