// The coordinator role and its clients in a small simulated cluster: durability across kills
// and power loss, fencing, a minority down, corruption, leader election, and sets of
// coordinators kept apart by cluster id, one retired by a forward.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "protocol/well_known.h"
#include "runtime/combinators.h"
#include "server/coordinator/coordinated_state.h"
#include "server/coordinator/coordinator.h"
#include "server/coordinator/leader_election.h"
#include "sim/simulator.h"

namespace keel::sim {
namespace {

Future<Void> coordinator_process() {
  Transport::current().listen(world().local_address());
  co_await run_coordinator(serve_coordinator(), "coordinator");
  co_return Void{};
}

struct Cluster {
  explicit Cluster(uint64_t seed, size_t count) : simulator(seed, false) {
    for (size_t i = 0; i < count; ++i) {
      SimMachine& machine = simulator.add_machine(fmt::format("c{}", i));
      processes.push_back(&simulator.add_process(machine, fmt::format("coordinator{}", i), coordinator_process));
    }
  }
  ClusterConnectionString connection(std::string id = "shell-test") const {
    ClusterConnectionString named{std::move(id), {}};
    for (SimProcess* process : processes) named.coordinators.push_back(process->local_address());
    return named;
  }
  CoordinatorSet interfaces(std::string id = "shell-test") const { return coordinator_set(connection(std::move(id))); }
  // Runs `body` in a protected client process (on its own machine, or `machine`) until it
  // finishes.
  bool run(std::function<Future<Void>()> body, double seconds = 60, SimMachine* machine = nullptr) {
    Promise<Void> done;
    Future<Void> finished = done.get_future();
    if (machine == nullptr) machine = &simulator.add_machine(fmt::format("client{}", clients.size()));
    clients.push_back(&simulator.add_process(*machine, "client",
                                             [body, done]() -> Future<Void> { return run_body(body, done); }, true));
    return simulator.run_until(finished, now() + seconds);
  }
  static Future<Void> run_body(std::function<Future<Void>()> body, Promise<Void> done) {
    Transport::current().listen(world().local_address());
    Future<Void> ran = body();
    co_await ran;
    done.send(Void{});
    co_return Void{};
  }

  Simulator simulator;
  std::vector<SimProcess*> processes;
  std::vector<SimProcess*> clients;
};

template <class T>
Future<int> error_of(Future<T> future) {
  try {
    co_await future;
  } catch (const Error& error) {
    co_return error.code();
  }
  co_return 0;
}

TEST(CoordinatorShellTest, WriteThenReadThroughAMajority) {
  Cluster cluster(1, 3);
  std::string seen;
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    CoordinatedState state(cluster.interfaces(), 11);
    std::string first = co_await state.read();
    EXPECT_EQ(first, "");
    co_await state.write("one");
    co_await state.write("one-two");  // a second write after the same read
    CoordinatedState other(cluster.interfaces(), 12);
    seen = co_await other.read();
    co_return Void{};
  }));
  EXPECT_EQ(seen, "one-two");
}

TEST(CoordinatorShellTest, NewerReaderFencesOutOlderWriter) {
  Cluster cluster(2, 3);
  int older_error = 0;
  std::string final_value;
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    CoordinatedState older(cluster.interfaces(), 21);
    CoordinatedState newer(cluster.interfaces(), 22);
    co_await older.read();
    co_await newer.read();
    older_error = co_await error_of(older.write("older"));
    co_await newer.write("newer");
    CoordinatedState reader(cluster.interfaces(), 23);
    final_value = co_await reader.read();
    co_return Void{};
  }));
  EXPECT_EQ(older_error, static_cast<int>(errc::coordinated_state_conflict));
  EXPECT_EQ(final_value, "newer");
}

TEST(CoordinatorShellTest, MinorityDownDoesNotBlockAndMajorityDownFails) {
  Cluster cluster(3, 5);
  cluster.simulator.kill(*cluster.processes[0], KillKind::process);
  cluster.simulator.kill(*cluster.processes[3], KillKind::process);
  std::string seen;
  double took = 0;
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    const double started = now();
    CoordinatedState state(cluster.interfaces(), 31);
    co_await state.read();
    co_await state.write("survives");
    took = now() - started;
    co_return Void{};
  }));
  EXPECT_LT(took, 0.5);  // no waiting on the dead pair
  cluster.simulator.kill(*cluster.processes[1], KillKind::process);
  int error = 0;
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    CoordinatedState state(cluster.interfaces(), 32);
    error = co_await error_of(state.read());
    co_return Void{};
  }));
  EXPECT_EQ(error, static_cast<int>(errc::timed_out));
}

TEST(CoordinatorShellTest, AcknowledgedWritesSurviveKillsAndPowerLoss) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    Cluster cluster(seed, 3);
    ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
      CoordinatedState state(cluster.interfaces(), 41);
      co_await state.read();
      co_await state.write(fmt::format("value-{}", seed));
      co_return Void{};
    }));
    for (SimProcess* process : cluster.processes) {
      if (seed % 2 == 0) {
        cluster.simulator.power_cycle(process->machine(), 0.5);
      } else {
        cluster.simulator.reboot(*process, KillKind::process, 0.5);
      }
    }
    std::string seen;
    ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
      co_await delay(1);
      CoordinatedState state(cluster.interfaces(), 42);
      seen = co_await state.read();
      co_return Void{};
    }));
    EXPECT_EQ(seen, fmt::format("value-{}", seed));
  }
}

TEST(CoordinatorShellTest, CorruptRegisterFailsWithChecksumFailed) {
  Cluster cluster(5, 1);
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    CoordinatedState state(cluster.interfaces(), 51);
    co_await state.read();
    co_await state.write("precious");
    co_return Void{};
  }));
  SimProcess& process = *cluster.processes[0];
  cluster.simulator.kill(process, KillKind::process);
  std::shared_ptr<SimFileData> file = process.machine().disk.find("coordinator/shell-test/register");
  ASSERT_TRUE(file);
  file->current[file->current.size() - 2] ^= 0x10;
  file->durable = file->current;
  int error = 0;
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    error = co_await error_of(run_coordinator(serve_coordinator(), "coordinator"));
    co_return Void{};
  }, 60, &process.machine()));  // the same machine: the same disk
  EXPECT_EQ(error, static_cast<int>(errc::checksum_failed));
}

TEST(CoordinatorShellTest, SetsAreKeptApartAndAForwardRetiresOneDurably) {
  Cluster cluster(8, 3);
  const std::string forward = format_connection_string(cluster.connection("set-b"));
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    CoordinatedState a(cluster.interfaces("set-a"), 61);
    co_await a.read();
    co_await a.write("a-value");
    CoordinatedState b(cluster.interfaces("set-b"), 62);
    const std::string b_first = co_await b.read();
    EXPECT_EQ(b_first, "");  // the same processes, another register
    co_await b.write("b-value");
    for (const CoordinatorInterface& coordinator : cluster.interfaces("set-a").coordinators) {
      ForwardRequest request;
      request.cluster_id = "set-a";
      request.forward = forward;
      co_await coordinator.forward.get_reply(request);
    }
    co_return Void{};
  }));
  for (SimProcess* process : cluster.processes) cluster.simulator.power_cycle(process->machine(), 0.5);
  int error = 0;
  LeaderQuery query;
  LeaderQuery unknown;
  ClusterConnectionString followed;
  std::string b_value;
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    co_await delay(1);
    CoordinatedState a(cluster.interfaces("set-a"), 63);
    error = co_await error_of(a.read());
    query = co_await query_leader(cluster.interfaces("set-a"));
    unknown = co_await query_leader(cluster.interfaces("never-used"));
    auto connection = std::make_shared<ClusterConnection>(cluster.connection("set-a"));
    co_await get_leader(connection);
    followed = connection->get();
    CoordinatedState b(cluster.interfaces("set-b"), 64);
    b_value = co_await b.read();
    co_return Void{};
  }));
  EXPECT_EQ(error, static_cast<int>(errc::coordinators_changed));
  EXPECT_EQ(query.forward, forward);
  EXPECT_FALSE(query.leader);
  EXPECT_FALSE(unknown.leader);
  EXPECT_EQ(unknown.forward, "");
  EXPECT_EQ(followed, cluster.connection("set-b"));
  EXPECT_EQ(b_value, "b-value");
}

Future<Void> campaign(CoordinatorSet coordinators, LeaderInfo info, LeaderCandidate** out) {
  Transport::current().listen(world().local_address());
  LeaderCandidate candidate(std::move(coordinators), std::move(info));
  *out = &candidate;
  co_await candidate.run();
  co_return Void{};
}

TEST(CoordinatorShellTest, ElectsOneLeaderAndReElectsWhenItDies) {
  Cluster cluster(6, 3);
  LeaderCandidate* candidates[2] = {nullptr, nullptr};
  SimProcess* processes[2];
  for (int i = 0; i < 2; ++i) {
    LeaderInfo info{static_cast<uint64_t>(100 + i), 1, i, fmt::format("candidate {}", i)};
    processes[i] = &cluster.simulator.add_process(cluster.simulator.add_machine(fmt::format("cand{}", i)), "candidate",
                                                  [&, i, info] { return campaign(cluster.interfaces(), info, &candidates[i]); });
  }
  std::optional<LeaderInfo> published;
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    co_await delay(5);
    published = co_await get_leader(cluster.interfaces());
    co_return Void{};
  }));
  ASSERT_TRUE(published);
  EXPECT_EQ(published->candidate_id, 101u);  // the higher priority
  EXPECT_TRUE(candidates[1]->holds_lease());
  EXPECT_FALSE(candidates[0]->holds_lease());
  cluster.simulator.kill(*processes[1], KillKind::process);
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    co_await delay(5);
    published = co_await get_leader(cluster.interfaces());
    co_return Void{};
  }));
  ASSERT_TRUE(published);
  EXPECT_EQ(published->candidate_id, 100u);
  EXPECT_TRUE(candidates[0]->holds_lease());
}

TEST(CoordinatorShellTest, LeaderCutOffFromItsCoordinatorsStepsDown) {
  Cluster cluster(7, 3);
  LeaderCandidate* candidate = nullptr;
  SimProcess& process = cluster.simulator.add_process(cluster.simulator.add_machine("cand"), "candidate", [&] {
    return campaign(cluster.interfaces(), LeaderInfo{7, 1, 0, "only"}, &candidate);
  });
  int error = 0;
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    co_await delay(4);
    co_return Void{};
  }));
  ASSERT_TRUE(candidate->holds_lease());
  for (SimProcess* coordinator : cluster.processes) cluster.simulator.clog_pair(process.machine(), coordinator->machine(), 10);
  cluster.simulator.scheduler().set_current_process(process.scheduler_id());
  Future<int> lost = error_of(candidate->hold());
  cluster.simulator.scheduler().set_current_process(0);
  ASSERT_TRUE(cluster.simulator.run_until(ready(lost), now() + 5));
  error = lost.get();
  EXPECT_EQ(error, static_cast<int>(errc::leadership_lost));
  EXPECT_FALSE(candidate->holds_lease());
}

}  // namespace
}  // namespace keel::sim
