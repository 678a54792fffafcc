// Coordination: the coordinators (src/server/coordinator) under faults. Provides the
// "coordination" process kind: the first `coordinators` processes run a coordinator each; every
// other process runs a leader candidate and `proposers_per_process` proposers. A proposer does
// read-modify-write of the coordinated state: it reads the value (a list of operation tokens)
// and writes it back with its own token appended.
//
// Invariants (the global view is the workload's record of every operation and the live roles):
// - successful writes form one chain: ordered by length, each value strictly extends the
//   previous one (so no two successful writes share a predecessor);
// - linearizability in real time: a read that started after a write was acknowledged returns
//   a value extending it;
// - no acknowledged write is lost: after the faults stop, a read returns a value extending the
//   longest acknowledged one, made only of tokens proposers attempted, each at most once;
// - election safety, sampled every `sample_interval_seconds`: at most one candidate holds the
//   leader lease, and at most one candidate is the committed leader of a majority of
//   coordinators;
// - election liveness: after the faults stop, a candidate holds the lease, and a majority of
//   coordinators name it to get_leader, within `election_bound_seconds`.
// Options: coordinators (3), proposers_per_process (2), operations_per_second (4, per
// proposer), election_bound_seconds (10), sample_interval_seconds (0.01).
#include <fmt/format.h>

#include <map>
#include <set>

#include "protocol/well_known.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "server/coordinator/coordinated_state.h"
#include "server/coordinator/coordinator.h"
#include "server/coordinator/leader_election.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"

namespace keel::sim {
namespace {

constexpr size_t token_bytes = 12;  // "ppp.oooooooo"

class Coordination final : public Workload {
 public:
  Coordination(RunContext& context, const Options& options)
      : context_(context),
        coordinators_(static_cast<size_t>(options.number("coordinators", 3))),
        proposers_per_process_(static_cast<int>(options.number("proposers_per_process", 2))),
        operations_per_second_(options.number("operations_per_second", 4)),
        election_bound_seconds_(options.number("election_bound_seconds", 10)),
        sample_interval_seconds_(options.number("sample_interval_seconds", 0.01)) {}

  BootFunction process_kind(const std::string& kind, size_t index) override {
    if (kind != "coordination") return {};
    if (index < coordinators_) return [this, index] { return coordinator_process(index); };
    return [this, index] { return candidate_process(index); };
  }

  Future<Void> setup() override {
    if (context_.cluster.size() <= coordinators_) problem("the topology needs more processes than coordinators");
    co_return Void{};
  }

  // Samples the global view through the fault phase (and is cancelled at its end).
  Future<Void> start() override {
    while (true) {
      co_await delay(sample_interval_seconds_);
      check_election_safety();
    }
  }

  Future<std::vector<std::string>> check() override {
    const double started = now();
    while (in_flight_ > 0) co_await delay(0.1);  // operations cut short by the end of the faults
    TraceEvent("CoordinationOperationsEnded").detail("Seconds", now() - started);
    check_history();
    Future<Void> final_read = read_final_value(started);
    co_await final_read;
    TraceEvent("CoordinationFinalRead").detail("Seconds", now() - started);
    Future<Void> elected = wait_for_leader(started);
    co_await elected;
    TraceEvent("CoordinationLeaderFound").detail("Seconds", now() - started);
    TraceEvent("CoordinationResults")
        .detail("Attempted", attempted_.size())
        .detail("Acknowledged", successes_.size())
        .detail("Reads", reads_.size())
        .detail("Conflicts", conflicts_)
        .detail("LeaderChanges", leader_changes_);
    if (successes_.empty()) problem("no write was ever acknowledged");
    co_return problems_.list();
  }

 private:
  struct Success {
    std::string predecessor, value;
    double acknowledged_at;
  };
  struct Read {
    std::string value;
    double started_at;
  };
  // Counts an operation in flight until it ends or its process dies.
  struct InFlight {
    explicit InFlight(Coordination* workload) : workload(workload) { ++workload->in_flight_; }
    ~InFlight() { --workload->in_flight_; }
    Coordination* workload;
  };
  // Keeps a live role in the global view while its process lives.
  template <class T>
  struct Registration {
    Registration(std::map<size_t, T*>& table, size_t index, T* role) : table(table), index(index) { table[index] = role; }
    ~Registration() { table.erase(index); }
    std::map<size_t, T*>& table;
    size_t index;
  };

  CoordinatorSet interfaces() const {
    ClusterConnectionString connection;
    for (size_t i = 0; i < coordinators_; ++i) connection.coordinators.push_back(context_.cluster[i]->local_address());
    connection.id = default_cluster_id(connection.coordinators);
    return coordinator_set(connection);
  }

  Future<Void> coordinator_process(size_t index) {
    Transport::current().listen(world().local_address());
    CoordinatorProbe probe;
    Registration<CoordinatorProbe> registration(coordinator_probes_, index, &probe);
    co_await run_coordinator(serve_coordinator(), "coordinator", &probe);
    co_return Void{};
  }

  Future<Void> candidate_process(size_t index) {
    Transport::current().listen(world().local_address());
    co_await yield();  // every process of the topology exists once the first task runs
    DeterministicRandom& random = context_.simulator.random();
    LeaderInfo info{index, random.next_u64(), static_cast<int32_t>(random.random_int(0, 3)),
                    fmt::format("controller at {}", world().local_address().to_string())};
    LeaderCandidate candidate(interfaces(), info);
    Registration<LeaderCandidate> registration(candidates_, index, &candidate);
    ActorCollection actors;
    actors.add(candidate.run());
    for (int i = 0; i < proposers_per_process_; ++i) actors.add(proposer(index, i));
    co_await actors.result();
    co_return Void{};
  }

  Future<Void> proposer(size_t index, int slot) {
    DeterministicRandom& random = context_.simulator.random();
    const uint64_t proposer_id = index * 100 + static_cast<uint64_t>(slot) + 1;
    CoordinatedState state(interfaces(), random.next_u64() | 1);
    while (now() < context_.fault_phase_end) {
      co_await delay(random.random_exponential(1.0 / operations_per_second_));
      if (now() >= context_.fault_phase_end) break;
      InFlight counted(this);
      const std::string token = fmt::format("{:03}.{:08}", proposer_id, ++next_operation_);
      KEEL_ASSERT(token.size() == token_bytes);
      Future<Void> operation = read_modify_write(&state, token);
      co_await ready(operation);
    }
    co_return Void{};
  }

  Future<Void> read_modify_write(CoordinatedState* state, std::string token) {
    const double started = now();
    std::string value;
    try {
      value = co_await state->read();
    } catch (const Error& error) {
      expect_coordination_error(error, "read");
      co_return Void{};
    }
    reads_.push_back(Read{value, started});
    if (value.size() % token_bytes != 0) problem(fmt::format("read a value of {} bytes: not a list of tokens", value.size()));
    std::string next = value + token;
    attempted_.insert(token);
    try {
      Future<Void> written = state->write(next);
      co_await written;
    } catch (const Error& error) {
      expect_coordination_error(error, "write");
      co_return Void{};
    }
    successes_.push_back(Success{std::move(value), std::move(next), now()});
    co_return Void{};
  }

  void expect_coordination_error(const Error& error, const char* what) {
    if (error.code() == errc::coordinated_state_conflict || error.code() == errc::timed_out) {
      ++conflicts_;
      return;
    }
    problem(fmt::format("a {} failed with unexpected {}", what, error.describe()));
  }

  static bool extends(const std::string& value, const std::string& prefix) {
    return value.size() >= prefix.size() && value.compare(0, prefix.size(), prefix) == 0;
  }

  void check_history() {
    std::vector<const Success*> chain;
    for (const Success& success : successes_) chain.push_back(&success);
    std::sort(chain.begin(), chain.end(), [](const Success* a, const Success* b) { return a->value.size() < b->value.size(); });
    for (size_t i = 1; i < chain.size(); ++i) {
      if (chain[i]->value.size() == chain[i - 1]->value.size() || !extends(chain[i]->value, chain[i - 1]->value)) {
        problem(fmt::format("acknowledged writes fork: '{}' (predecessor '{}') and '{}' (predecessor '{}')", chain[i - 1]->value,
                            chain[i - 1]->predecessor, chain[i]->value, chain[i]->predecessor));
        return;
      }
    }
    for (const Read& read : reads_) {
      for (const Success& success : successes_) {
        if (success.acknowledged_at < read.started_at && !extends(read.value, success.value)) {
          problem(fmt::format("a read started at {:.3f}s returned '{}', missing the write acknowledged at {:.3f}s: '{}'",
                              read.started_at, read.value, success.acknowledged_at, success.value));
          return;
        }
      }
    }
  }

  Future<Void> read_final_value(double started) {
    CoordinatedState state(interfaces(), context_.simulator.random().next_u64() | 1);
    while (true) {
      try {
        Future<std::string> reading = state.read();
        std::string value = co_await reading;
        check_final_value(value);
        co_return Void{};
      } catch (const Error& error) {
        if (error.code() != errc::coordinated_state_conflict && error.code() != errc::timed_out) throw;
      }
      if (now() - started > election_bound_seconds_) {
        problem(fmt::format("no read succeeded within {}s after the faults stopped", election_bound_seconds_));
        co_return Void{};
      }
      co_await delay(0.1);
    }
  }

  void check_final_value(const std::string& value) {
    const Success* longest = nullptr;
    for (const Success& success : successes_) {
      if (longest == nullptr || success.value.size() > longest->value.size()) longest = &success;
    }
    if (longest != nullptr && !extends(value, longest->value)) {
      problem(fmt::format("the final value '{}' lost the acknowledged write '{}'", value, longest->value));
    }
    std::set<std::string> seen;
    for (size_t offset = 0; offset + token_bytes <= value.size(); offset += token_bytes) {
      const std::string token = value.substr(offset, token_bytes);
      if (attempted_.count(token) == 0) problem(fmt::format("the final value holds '{}', which no proposer wrote", token));
      if (!seen.insert(token).second) problem(fmt::format("the final value holds '{}' twice", token));
    }
  }

  Future<Void> wait_for_leader(double started) {
    while (true) {
      check_election_safety();
      std::optional<size_t> holder = lease_holder();
      if (holder) {
        Future<std::optional<LeaderInfo>> asked = get_leader(interfaces());
        std::optional<LeaderInfo> published = co_await asked;
        if (published && published->candidate_id == *holder) co_return Void{};
      }
      if (now() - started > election_bound_seconds_) {
        problem(fmt::format("no leader elected and published within {}s after the faults stopped", election_bound_seconds_));
        co_return Void{};
      }
      co_await delay(0.1);
    }
  }

  std::optional<size_t> lease_holder() {
    std::optional<size_t> holder;
    for (const auto& [index, candidate] : candidates_) {
      if (!candidate->holds_lease()) continue;
      if (holder) problem(fmt::format("two leaders at {:.4f}s: candidates {} and {}", now(), *holder, index));
      holder = index;
    }
    return holder;
  }

  void check_election_safety() {
    if (problems_.full()) return;
    std::optional<size_t> holder = lease_holder();
    if (holder != last_holder_ && holder) ++leader_changes_;
    last_holder_ = holder;
    std::map<uint64_t, size_t> named;
    for (const auto& [index, probe] : coordinator_probes_) {
      if (!probe->leader) continue;
      if (std::optional<LeaderInfo> leader = probe->leader(interfaces().cluster_id, now())) ++named[leader->candidate_id];
    }
    size_t majorities = 0;
    for (const auto& [id, count] : named) majorities += count >= coordinators_ / 2 + 1 ? 1 : 0;
    if (majorities > 1) problem(fmt::format("two candidates are each the leader of a majority of coordinators at {:.4f}s", now()));
  }

  void problem(std::string text) { problems_.add(std::move(text)); }

  RunContext& context_;
  size_t coordinators_;
  int proposers_per_process_;
  double operations_per_second_, election_bound_seconds_, sample_interval_seconds_;
  std::map<size_t, CoordinatorProbe*> coordinator_probes_;
  std::map<size_t, LeaderCandidate*> candidates_;
  std::optional<size_t> last_holder_;
  std::vector<Success> successes_;
  std::vector<Read> reads_;
  std::set<std::string> attempted_;
  uint64_t next_operation_ = 0;
  int in_flight_ = 0;
  uint64_t conflicts_ = 0, leader_changes_ = 0;
  ProblemLog problems_{"CoordinationProblem"};
};

}  // namespace

std::unique_ptr<Workload> make_coordination(RunContext& context, const Options& options) {
  return std::make_unique<Coordination>(context, options);
}

}  // namespace keel::sim
