// The transaction log across generations, in a small simulated cluster: commits, peeks, lock,
// copy and seeding, restarts (locked, recovered from disk), segment rolling and popping, and
// removal by the ServerDBInfo, spilling. Plus the pure index helpers.
#include <gtest/gtest.h>

#include <functional>

#include <fmt/format.h>

#include "protocol/well_known.h"
#include "rpc/frame.h"
#include "runtime/combinators.h"
#include "runtime/knobs.h"
#include "server/tlog/tlog.h"
#include "server/tlog/tlog_files.h"
#include "server/tlog/tlog_state.h"
#include "server/tlog/tlog_knobs.h"
#include "sim/simulator.h"

namespace keel::sim {
namespace {

constexpr uint64_t id_a = 0x4000000000000010;
constexpr uint64_t id_b = 0x4000000000000020;
constexpr uint64_t id_c = 0x4000000000000030;
constexpr uint64_t id_d = 0x4000000000000040;

Mutation set_key(std::string key, std::string value) {
  return Mutation{MutationType::set_value, std::move(key), std::move(value)};
}

template <class T>
Future<int> error_of(Future<T> future) {
  try {
    co_await future;
  } catch (const Error& error) {
    co_return error.code();
  }
  co_return 0;
}

// What a log process reports to the test.
struct LogRun {
  Promise<Void> ready;
  bool removed = false;  // run_tlog returned normally
  int boots = 0;
};

Future<Void> log_process(uint64_t id, std::optional<TLogRecruitment> recruitment, AsyncVar<ServerDBInfo>* db_info,
                         std::shared_ptr<LogRun> run) {
  Transport::current().listen(world().local_address());
  // A reboot restarts the log from its files.
  if (run->boots++ > 0) {
    recruitment.reset();
    run->ready = Promise<Void>();
  }
  TLogOptions options{id, tlog_directory_name(id), recruitment, db_info};
  Future<Void> ran = run_tlog(serve_tlog(id), options, run->ready);
  co_await ran;
  run->removed = true;
  co_return Void{};
}

struct Cluster {
  explicit Cluster(uint64_t seed) : simulator(seed, false) {}

  SimProcess& add_log(uint64_t id, std::optional<TLogRecruitment> recruitment, std::shared_ptr<LogRun> run) {
    SimMachine& machine = simulator.add_machine(fmt::format("log{:x}", id));
    SimProcess& process = simulator.add_process(machine, "log", [this, id, recruitment, run] {
      return log_process(id, recruitment, &db_info, run);
    });
    addresses[id] = process.local_address();
    return process;
  }
  TLogInterface log(uint64_t id) { return tlog_at(addresses.at(id), id); }

  bool run(std::function<Future<Void>()> body, double seconds = 120) {
    Promise<Void> done;
    Future<Void> finished = done.get_future();
    SimMachine& machine = simulator.add_machine(fmt::format("client{}", clients++));
    simulator.add_process(machine, "client", [body, done]() -> Future<Void> { return run_body(body, done); }, true);
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
  AsyncVar<ServerDBInfo> db_info;
  std::map<uint64_t, NetworkAddress> addresses;
  int clients = 0;
};

Future<int> commit(TLogInterface log, uint64_t generation, Version prev, Version version,
                   std::vector<TaggedMutation> mutations, Version known_committed = 0) {
  TLogCommitRequest request;
  request.generation = generation;
  request.prev_version = prev;
  request.version = version;
  request.known_committed_version = known_committed;
  request.mutations = std::move(mutations);
  Future<Void> replied = log.commit.get_reply(request);
  Future<int> error = error_of(replied);
  co_return co_await error;
}

Future<TLogPeekReply> peek(TLogInterface log, Tag tag, Version begin) {
  TLogPeekRequest request;
  request.tag = tag;
  request.begin = begin;
  Future<TLogPeekReply> replied = log.peek.get_reply(request);
  co_return co_await replied;
}

Future<TLogLockReply> lock(TLogInterface log) {
  TLogLockRequest request;
  Future<TLogLockReply> replied = log.lock.get_reply(request);
  co_return co_await replied;
}

Future<int> confirm(TLogInterface log, uint64_t generation) {
  TLogConfirmRunningRequest request;
  request.generation = generation;
  Future<Void> replied = log.confirm_running.get_reply(request);
  Future<int> error = error_of(replied);
  co_return co_await error;
}

std::vector<Version> versions_of(const TLogPeekReply& reply) {
  std::vector<Version> versions;
  for (const PeekedVersion& entry : reply.messages) versions.push_back(entry.version);
  return versions;
}

TEST(TLogTest, CommitsPeeksAndLock) {
  Cluster cluster(1);
  auto run = std::make_shared<LogRun>();
  cluster.add_log(id_a, TLogRecruitment{1, 0, std::nullopt}, run);
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    TLogInterface log = cluster.log(id_a);
    Future<Void> ready = run->ready.get_future();
    co_await ready;
    // Out of chain order: 30 waits for 20.
    Future<int> third = commit(log, 1, 20, 30, {TaggedMutation{{1}, set_key("c", "3")}});
    Future<int> first = commit(log, 1, 0, 10, {TaggedMutation{{1, 2}, set_key("a", "1")}});
    Future<int> second = commit(log, 1, 10, 20, {TaggedMutation{{2}, set_key("b", "2")}}, 10);
    int code = co_await first;
    EXPECT_EQ(code, 0);
    code = co_await second;
    EXPECT_EQ(code, 0);
    code = co_await third;
    EXPECT_EQ(code, 0);
    Future<int> other_generation = commit(log, 2, 30, 40, {});
    code = co_await other_generation;
    EXPECT_EQ(code, errc::tlog_stopped);
    Future<int> off_chain = commit(log, 1, 0, 5, {});
    code = co_await off_chain;
    EXPECT_EQ(code, errc::operation_failed);
    TLogPeekReply tag1 = co_await peek(log, 1, 0);
    EXPECT_EQ(versions_of(tag1), (std::vector<Version>{10, 30}));
    EXPECT_EQ(tag1.end, 31);
    EXPECT_EQ(tag1.known_committed_version, 10);
    TLogPeekReply tag2 = co_await peek(log, 2, 11);
    EXPECT_EQ(versions_of(tag2), (std::vector<Version>{20}));
    code = co_await confirm(log, 1);
    EXPECT_EQ(code, 0);
    code = co_await confirm(log, 2);
    EXPECT_EQ(code, errc::tlog_stopped);

    // A commit waiting for its predecessor fails when the log is locked.
    Future<int> waiting = commit(log, 1, 35, 50, {});
    co_await delay(0.1);
    TLogLockReply locked = co_await lock(log);
    EXPECT_EQ(locked.end, 31);
    EXPECT_EQ(locked.generation, 1u);
    EXPECT_EQ(locked.known_committed_version, 10);
    code = co_await waiting;
    EXPECT_EQ(code, errc::tlog_stopped);
    Future<int> after_lock = commit(log, 1, 30, 40, {});
    code = co_await after_lock;
    EXPECT_EQ(code, errc::tlog_stopped);
    code = co_await confirm(log, 1);
    EXPECT_EQ(code, errc::tlog_stopped);
    locked = co_await lock(log);  // idempotent
    EXPECT_EQ(locked.end, 31);
    tag1 = co_await peek(log, 1, 0);  // still served
    EXPECT_EQ(versions_of(tag1), (std::vector<Version>{10, 30}));

    TLogCopyRequest copy;
    copy.begin = 0;
    copy.last = 30;
    copy.bytes_limit = 1 << 20;
    TLogCopyReply copied = co_await log.copy.get_reply(copy);
    EXPECT_EQ(copied.next, 31);
    EXPECT_EQ(copied.entries.size(), 3u);
    EXPECT_EQ(copied.entries[0].version, 10);
    EXPECT_EQ(copied.entries[0].mutations.size(), 1u);  // one mutation of tags 1 and 2
    EXPECT_EQ(copied.entries[0].mutations[0].tags, (std::vector<Tag>{1, 2}));
    copy.bytes_limit = 1;  // one version per reply
    copied = co_await log.copy.get_reply(copy);
    EXPECT_EQ(copied.entries.size(), 1u);
    EXPECT_EQ(copied.next, 11);
    copy.last = 40;  // beyond the log
    code = co_await error_of(log.copy.get_reply(copy));
    EXPECT_EQ(code, errc::operation_failed);
    co_return Void{};
  }));
}

TEST(TLogTest, SeedsFromALockedLogAndRestartsLocked) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    Cluster cluster(seed);
    auto run_a = std::make_shared<LogRun>();
    cluster.add_log(id_a, TLogRecruitment{1, 0, std::nullopt}, run_a);
    Version recovery_version = 0;
    ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
      TLogInterface log = cluster.log(id_a);
      Future<Void> ready = run_a->ready.get_future();
      co_await ready;
      Version prev = 0;
      for (Version version = 100; version <= 1000; version += 100) {
        std::vector<TaggedMutation> mutations;
        mutations.push_back(TaggedMutation{{1}, set_key(fmt::format("k{}", version), "x")});
        mutations.push_back(TaggedMutation{{1, 2}, set_key("shared", fmt::format("{}", version))});
        Future<int> committed = commit(log, 1, prev, version, mutations, prev);
        const int code = co_await committed;
        EXPECT_EQ(code, 0);
        prev = version;
      }
      TLogPopRequest pop;
      pop.tag = 2;
      pop.up_to = 500;
      co_await log.pop.get_reply(pop);
      TLogLockReply locked = co_await lock(log);
      recovery_version = locked.end - 1;
      co_return Void{};
    }));
    EXPECT_EQ(recovery_version, 1000);
    auto run_b = std::make_shared<LogRun>();
    SimProcess& b = cluster.add_log(id_b, TLogRecruitment{2, recovery_version, cluster.log(id_a)}, run_b);
    ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
      TLogInterface log = cluster.log(id_b);
      Future<Void> ready = run_b->ready.get_future();
      co_await ready;
      TLogPeekReply tag1 = co_await peek(log, 1, 0);
      EXPECT_EQ(tag1.messages.size(), 10u);
      EXPECT_EQ(tag1.messages[0].mutations->size(), 2u);
      EXPECT_EQ(tag1.end, 1001);
      EXPECT_EQ(tag1.known_committed_version, 1000);
      TLogPeekReply tag2 = co_await peek(log, 2, 0);
      EXPECT_EQ(versions_of(tag2), (std::vector<Version>{600, 700, 800, 900, 1000}));
      Future<int> old_generation = commit(log, 1, 1000, 2000, {});
      int code = co_await old_generation;
      EXPECT_EQ(code, errc::tlog_stopped);
      Future<int> first = commit(log, 2, 1000, 2000, {TaggedMutation{{2}, set_key("new", "1")}}, 1000);
      code = co_await first;
      EXPECT_EQ(code, 0);
      code = co_await confirm(log, 2);
      EXPECT_EQ(code, 0);
      co_return Void{};
    }));
    if (seed % 2 == 0) {
      cluster.simulator.power_cycle(b.machine(), 0.5);
    } else {
      cluster.simulator.reboot(b, KillKind::process, 0.5);
    }
    ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
      co_await delay(1);
      TLogInterface log = cluster.log(id_b);
      Future<Void> ready = run_b->ready.get_future();
      co_await ready;
      int code = co_await confirm(log, 2);
      EXPECT_EQ(code, errc::tlog_stopped);
      Future<int> restarted = commit(log, 2, 2000, 3000, {});
      code = co_await restarted;
      EXPECT_EQ(code, errc::tlog_stopped);
      TLogLockReply locked = co_await lock(log);
      EXPECT_EQ(locked.end, 2001);  // the acknowledged commit survived
      EXPECT_EQ(locked.generation, 2u);
      EXPECT_EQ(locked.known_committed_version, 1000);
      TLogPeekReply tag2 = co_await peek(log, 2, 0);
      EXPECT_EQ(versions_of(tag2), (std::vector<Version>{600, 700, 800, 900, 1000, 2000}));
      co_return Void{};
    }));
  }
}

// Commits racing a lock: every acknowledged commit is below the lock's end, everything below the
// end is durable (it survives a power loss), and nothing is appended after the lock.
TEST(TLogTest, LockCoversEveryAcknowledgedCommit) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    Cluster cluster(seed);
    auto run = std::make_shared<LogRun>();
    SimProcess& process = cluster.add_log(id_a, TLogRecruitment{1, 0, std::nullopt}, run);
    constexpr int commits = 40;
    std::vector<int> codes(commits + 1, -1);
    Version end = 0;
    ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
      TLogInterface log = cluster.log(id_a);
      Future<Void> ready = run->ready.get_future();
      co_await ready;
      std::vector<Future<int>> pending;
      Future<TLogLockReply> locking;
      const int lock_at = static_cast<int>(cluster.simulator.random().random_int(1, commits + 1));
      for (int version = 1; version <= commits; ++version) {
        if (version == lock_at) locking = lock(log);
        std::vector<TaggedMutation> mutations;
        mutations.push_back(TaggedMutation{{7}, set_key(fmt::format("k{}", version), "v")});
        pending.push_back(commit(log, 1, version - 1, version, mutations));
        if (cluster.simulator.random().coin(0.3)) co_await delay(0.001);
      }
      TLogLockReply locked = co_await locking;
      end = locked.end;
      for (int version = 1; version <= commits; ++version) {
        Future<int> replied = pending[version - 1];
        codes[version] = co_await replied;
      }
      co_return Void{};
    }));
    for (int version = 1; version <= commits; ++version) {
      if (codes[version] == 0) {
        EXPECT_LT(version, end) << version;
      }
      if (version >= end) {
        EXPECT_EQ(codes[version], errc::tlog_stopped) << version;
      }
    }
    cluster.simulator.power_cycle(process.machine(), 0.5);
    ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
      co_await delay(1);
      TLogInterface log = cluster.log(id_a);
      Future<Void> ready = run->ready.get_future();
      co_await ready;
      TLogLockReply locked = co_await lock(log);
      EXPECT_EQ(locked.end, end);
      TLogPeekReply peeked = co_await peek(log, 7, 0);
      EXPECT_EQ(static_cast<Version>(peeked.messages.size()), end - 1);
      co_return Void{};
    }));
  }
}

TEST(TLogTest, UnreachableSourceFailsTheRecruit) {
  Cluster cluster(3);
  auto run_a = std::make_shared<LogRun>();
  SimProcess& a = cluster.add_log(id_a, TLogRecruitment{1, 0, std::nullopt}, run_a);
  TLogInterface source = cluster.log(id_a);
  cluster.simulator.kill(a, KillKind::process);
  auto run_b = std::make_shared<LogRun>();
  cluster.add_log(id_b, TLogRecruitment{2, 100, source}, run_b);
  int error = 0;
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    error = co_await error_of(run_b->ready.get_future());
    co_return Void{};
  }));
  EXPECT_EQ(error, errc::recovery_failed);
}

// After a restart of log id_a whose last version is `last`: the lock ends the chain after it, and
// a peek of tag 0 from `begin` finds `last` alone.
Future<Void> expect_restarted_log(Cluster& cluster, std::shared_ptr<LogRun> run, Version last, Version begin) {
  co_await delay(1);
  TLogInterface log = cluster.log(id_a);
  Future<Void> ready = run->ready.get_future();
  co_await ready;
  TLogLockReply locked = co_await lock(log);
  EXPECT_EQ(locked.end, last + 1);
  TLogPeekReply tail = co_await peek(log, 0, begin);
  EXPECT_EQ(versions_of(tail), (std::vector<Version>{last}));
  co_return Void{};
}

TEST(TLogTest, RollsSegmentsDropsPoppedOnesAndReplays) {
  Cluster cluster(4);
  auto run = std::make_shared<LogRun>();
  SimProcess& process = cluster.add_log(id_a, TLogRecruitment{1, 0, std::nullopt}, run);
  const std::string value(1 << 20, 'v');
  const std::string directory = tlog_directory_name(id_a);
  size_t segments_before_pop = 0;
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    TLogInterface log = cluster.log(id_a);
    Future<Void> ready = run->ready.get_future();
    co_await ready;
    for (Version version = 1; version <= 40; ++version) {
      std::vector<TaggedMutation> mutations;
      mutations.push_back(TaggedMutation{{static_cast<Tag>(version % 2)}, set_key("k", value)});
      Future<int> committed = commit(log, 1, version - 1, version, mutations);
      const int code = co_await committed;
      EXPECT_EQ(code, 0);
    }
    segments_before_pop = process.machine().disk.list(directory).size();
    for (Tag tag : {Tag{0}, Tag{1}}) {
      TLogPopRequest pop;
      pop.tag = tag;
      pop.up_to = 38;
      co_await log.pop.get_reply(pop);
    }
    co_await delay(1);
    co_return Void{};
  }));
  EXPECT_GE(segments_before_pop, 3u);
  EXPECT_EQ(process.machine().disk.list(directory).size(), 1u);
  cluster.simulator.reboot(process, KillKind::process, 0.5);
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> { return expect_restarted_log(cluster, run, 40, 39); }));
}

// How a segment file ends: the length of its valid frames, and whether only zeros follow them.
struct SegmentEnd {
  size_t records = 0;
  bool zeros_after = true;
};
SegmentEnd segment_end(const std::string& data) {
  SegmentEnd end;
  Frame frame;
  while (decode_frame_at(data, end.records, frame) == FrameStatus::ok) {
  }
  end.zeros_after = data.find_first_not_of('\0', end.records) == std::string::npos;
  return end;
}

TEST(TLogTest, WritesZerosAheadAndCutsThemOffWhenASegmentEnds) {
  Cluster cluster(5);
  const int64_t step = 256 * 1024;
  tlog_knobs().tlog_write_ahead_bytes = static_cast<double>(step);  // after the simulator reset the knobs
  auto run = std::make_shared<LogRun>();
  SimProcess& process = cluster.add_log(id_a, TLogRecruitment{1, 0, std::nullopt}, run);
  const std::string value(100'000, 'v');
  const std::string directory = tlog_directory_name(id_a);
  SimDisk& disk = process.machine().disk;
  std::vector<std::string> segments;
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    TLogInterface log = cluster.log(id_a);
    Future<Void> ready = run->ready.get_future();
    co_await ready;
    for (Version version = 1; version <= 200; ++version) {
      std::vector<TaggedMutation> mutations;
      mutations.push_back(TaggedMutation{{0}, set_key(fmt::format("k{}", version), value)});
      Future<int> committed = commit(log, 1, version - 1, version, mutations);
      const int code = co_await committed;
      EXPECT_EQ(code, 0);
      // The segment being written holds its records, then zeros up to a multiple of the step.
      segments = disk.list(directory);
      const std::string& data = disk.find(directory + "/" + segments.back())->current;
      const SegmentEnd end = segment_end(data);
      EXPECT_EQ(data.size() % step, 0u) << "version " << version;
      EXPECT_LT(end.records, data.size()) << "version " << version;
      EXPECT_TRUE(end.zeros_after) << "version " << version;
      // Soon after, the next step of zeros is written if the records came within half a step of
      // their end (unless the segment is full): the next commits' writes need not carry them.
      Future<Void> moment = delay(0.1);
      co_await moment;
      const std::string& later = disk.find(directory + "/" + segments.back())->current;
      if (static_cast<int64_t>(end.records) <= segment_bytes_max) {
        EXPECT_GE(static_cast<int64_t>(later.size() - end.records), step / 2) << "version " << version;
      }
    }
    co_return Void{};
  }));
  ASSERT_GE(segments.size(), 2u);
  // A segment that ended holds its records only: replay takes anything else in it for corruption.
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    const std::string& data = disk.find(directory + "/" + segments[i])->durable;
    EXPECT_EQ(segment_end(data).records, data.size()) << segments[i];
  }
  cluster.simulator.power_cycle(process.machine(), 0.5);
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> { return expect_restarted_log(cluster, run, 200, 200); }));
  // The restarted log cut the zeros off its last segment.
  const std::string& last = disk.find(directory + "/" + segments.back())->current;
  EXPECT_EQ(segment_end(last).records, last.size());
  knob_registry().reset_defaults();
}

// A seed larger than a copy reply and a segment: many replies, segment rolls, and a replay of the
// seeded records, the generation-start record and a commit after a restart.
// Every message of `tag` below `end`, over as many peeks as it takes.
Future<std::vector<PeekedVersion>> peek_all(TLogInterface log, Tag tag, Version end) {
  std::vector<PeekedVersion> messages;
  for (Version begin = 0; begin < end;) {
    TLogPeekReply reply = co_await peek(log, tag, begin);
    for (PeekedVersion& message : reply.messages) messages.push_back(std::move(message));
    EXPECT_GT(reply.end, begin);
    begin = reply.end;
  }
  co_return messages;
}

// Every version of `tag` below `end`, over as many peeks as it takes.
Future<std::vector<Version>> peek_versions(TLogInterface log, Tag tag, Version end) {
  std::vector<PeekedVersion> messages = co_await peek_all(log, tag, end);
  std::vector<Version> versions;
  for (const PeekedVersion& message : messages) versions.push_back(message.version);
  co_return versions;
}

// Commits versions 1 to 40 of generation 1, each one mutation of tag version % 2.
Future<Void> commit_forty(TLogInterface log, std::function<std::string(Version)> value_for) {
  for (Version version = 1; version <= 40; ++version) {
    std::vector<TaggedMutation> mutations;
    mutations.push_back(TaggedMutation{{static_cast<Tag>(version % 2)}, set_key("k", value_for(version))});
    Future<int> committed = commit(log, 1, version - 1, version, mutations);
    const int code = co_await committed;
    EXPECT_EQ(code, 0);
  }
  co_return Void{};
}

Future<Void> pop_tag0_and_lock(TLogInterface log) {
  TLogPopRequest pop;
  pop.tag = 0;
  pop.up_to = 10;
  co_await log.pop.get_reply(pop);
  TLogLockReply locked = co_await lock(log);
  EXPECT_EQ(locked.end, 41);
  co_return Void{};
}

TEST(TLogTest, SeedsManyVersionsAcrossSegments) {
  Cluster cluster(7);
  auto run_a = std::make_shared<LogRun>();
  cluster.add_log(id_a, TLogRecruitment{1, 0, std::nullopt}, run_a);
  const std::string value(1 << 20, 'v');
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    TLogInterface log = cluster.log(id_a);
    Future<Void> ready = run_a->ready.get_future();
    co_await ready;
    Future<Void> committed = commit_forty(log, [&](Version) { return value; });
    co_await committed;
    co_await pop_tag0_and_lock(log);
    co_return Void{};
  }));
  auto run_b = std::make_shared<LogRun>();
  SimProcess& b = cluster.add_log(id_b, TLogRecruitment{2, 40, cluster.log(id_a)}, run_b);
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    TLogInterface log = cluster.log(id_b);
    Future<Void> ready = run_b->ready.get_future();
    co_await ready;
    std::vector<TaggedMutation> mutations;
    mutations.push_back(TaggedMutation{{0}, set_key("after", "1")});
    Future<int> committed = commit(log, 2, 40, 50, mutations);
    const int code = co_await committed;
    EXPECT_EQ(code, 0);
    co_return Void{};
  }));
  EXPECT_GE(b.machine().disk.list(tlog_directory_name(id_b)).size(), 2u);
  cluster.simulator.power_cycle(b.machine(), 0.5);
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    co_await delay(1);
    TLogInterface log = cluster.log(id_b);
    Future<Void> ready = run_b->ready.get_future();
    co_await ready;
    TLogLockReply locked = co_await lock(log);
    EXPECT_EQ(locked.end, 51);
    EXPECT_EQ(locked.generation, 2u);
    // 1 MiB values: a peek reply holds about 2 MiB, so it takes several.
    std::vector<Version> tag0 = co_await peek_versions(log, 0, 51);
    const std::vector<Version> expected{12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 50};
    EXPECT_EQ(tag0, expected);
    std::vector<Version> tag1 = co_await peek_versions(log, 1, 51);
    EXPECT_EQ(tag1.size(), 20u);
    co_return Void{};
  }));
}

ServerDBInfo info_of(uint64_t generation, std::vector<TLogInterface> tlogs) {
  ServerDBInfo info;
  info.id = generation * 10 + tlogs.size();
  info.generation = generation;
  info.recovery_state = RecoveryState::accepting_commits;
  info.tlogs = std::move(tlogs);
  return info;
}

TEST(TLogTest, RemovedWhenANewerGenerationGoesOnWithoutIt) {
  Cluster cluster(5);
  std::map<uint64_t, std::shared_ptr<LogRun>> runs;
  std::map<uint64_t, SimProcess*> processes;
  const std::vector<std::pair<uint64_t, uint64_t>> logs{{id_a, 1}, {id_b, 2}, {id_c, 2}, {id_d, 3}};
  for (const auto& [id, generation] : logs) {
    runs[id] = std::make_shared<LogRun>();
    processes[id] = &cluster.add_log(id, TLogRecruitment{generation, 0, std::nullopt}, runs[id]);
  }
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    for (const auto& [id, generation] : logs) {
      Future<Void> ready = runs[id]->ready.get_future();
      co_await ready;
    }
    ServerDBInfo recovering = info_of(2, {cluster.log(id_b)});
    recovering.recovery_state = RecoveryState::recruiting;
    cluster.db_info.set(recovering);
    cluster.db_info.set(info_of(1, {cluster.log(id_a)}));
    co_await delay(1);
    for (const auto& [id, generation] : logs) EXPECT_FALSE(runs[id]->removed) << id;
    cluster.db_info.set(info_of(2, {cluster.log(id_b)}));
    co_await delay(1);
    co_return Void{};
  }));
  EXPECT_TRUE(runs[id_a]->removed);   // an older generation's
  EXPECT_FALSE(runs[id_b]->removed);  // listed
  EXPECT_TRUE(runs[id_c]->removed);   // the same generation's, not listed: an orphan
  EXPECT_FALSE(runs[id_d]->removed);  // a newer generation's: the info is stale
  EXPECT_TRUE(processes[id_a]->machine().disk.list(tlog_directory_name(id_a)).empty());
  EXPECT_EQ(processes[id_b]->machine().disk.list(tlog_directory_name(id_b)).size(), 1u);
}

TEST(TLogTest, DirectoryNames) {
  EXPECT_EQ(tlog_directory_name(0x4000000000000010), "tlog-4000000000000010");
  EXPECT_EQ(parse_tlog_directory_name("tlog-4000000000000010"), std::optional<uint64_t>(0x4000000000000010));
  EXPECT_EQ(parse_tlog_directory_name("tlog-400000000000001"), std::nullopt);
  EXPECT_EQ(parse_tlog_directory_name("tlog-400000000000001A"), std::nullopt);
  EXPECT_EQ(parse_tlog_directory_name("tlog-0"), std::nullopt);
  EXPECT_EQ(parse_tlog_directory_name("storage-4000000000000010"), std::nullopt);
}

TEST(TLogTest, MergeTagsKeepsEachTagsOrder) {
  const Mutation a = set_key("a", "1"), b = set_key("b", "2"), c = set_key("c", "3");
  // The record was [a{1,2}, b{2,3}, c{1,2}].
  const std::vector<Mutation> tag1{a, c}, tag2{a, b, c}, tag3{b};
  std::vector<TaggedMutation> merged = merge_tags({{1, &tag1}, {2, &tag2}, {3, &tag3}});
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].tags, (std::vector<Tag>{1, 2}));
  EXPECT_EQ(merged[1].tags, (std::vector<Tag>{2, 3}));
  EXPECT_EQ(merged[2].tags, (std::vector<Tag>{1, 2}));
  // Whatever the merge finds, indexing the result gives every tag its own list back.
  const std::vector<Mutation> odd1{b, a, a}, odd2{a, b};
  merged = merge_tags({{1, &odd1}, {2, &odd2}});
  std::map<Tag, std::vector<Mutation>> split;
  for (const TaggedMutation& tagged : merged) {
    for (Tag tag : tagged.tags) split[tag].push_back(tagged.mutation);
  }
  EXPECT_EQ(split[1], odd1);
  EXPECT_EQ(split[2], odd2);
}

TEST(TLogTest, PeekRepliesStopAfterTheVersionThatReachesTheByteLimit) {
  TLogState state;
  Version previous = 0;
  for (Version version : {10, 20, 30, 40}) {
    TLogRecord record{1, previous, version, 0, {}};
    record.mutations.push_back(TaggedMutation{{1}, set_key("k" + std::to_string(version), "123456789")});  // 12 bytes
    record.mutations.push_back(TaggedMutation{{2}, set_key("other", "x")});
    index_record(state, std::move(record), RecordRef{});
    previous = version;
  }
  state.durable.set(40);

  TLogPeekReply all = collect_peek(state, 1, 0, 1000);
  EXPECT_EQ(all.messages.size(), 4u);
  EXPECT_EQ(all.end, 41);

  TLogPeekReply first = collect_peek(state, 1, 0, 20);  // 12 bytes, then 24 >= 20: stop after 20
  ASSERT_EQ(first.messages.size(), 2u);
  EXPECT_EQ(first.messages.back().version, 20);
  EXPECT_EQ(first.end, 21);
  TLogPeekReply rest = collect_peek(state, 1, first.end, 20);
  ASSERT_EQ(rest.messages.size(), 2u);
  EXPECT_EQ(rest.messages.front().version, 30);
  EXPECT_EQ(rest.end, 41);

  TLogPeekReply one = collect_peek(state, 1, 0, 0);  // at least one version, whatever the limit
  ASSERT_EQ(one.messages.size(), 1u);
  EXPECT_EQ(one.end, 11);
}

TEST(TLogTest, TagsThatCarryEveryMutationOfAVersionShareOneList) {
  TLogState state;
  TLogRecord shared{1, 0, 1, 0, {}};
  shared.mutations.push_back(TaggedMutation{{1, 2}, set_key("a", "1")});
  shared.mutations.push_back(TaggedMutation{{1, 2}, set_key("b", "2")});
  index_record(state, std::move(shared), RecordRef{});
  TLogRecord mixed{1, 1, 2, 0, {}};
  mixed.mutations.push_back(TaggedMutation{{1, 2}, set_key("c", "3")});
  mixed.mutations.push_back(TaggedMutation{{2}, set_key("d", "4")});
  index_record(state, std::move(mixed), RecordRef{});
  state.durable.set(2);

  const TagVersion& one = state.by_tag[1].versions[0];
  const TagVersion& two = state.by_tag[2].versions[0];
  EXPECT_EQ(one.mutations, two.mutations);  // one list for both tags
  EXPECT_EQ(*one.mutations, (std::vector<Mutation>{set_key("a", "1"), set_key("b", "2")}));
  EXPECT_EQ(one.bytes, 4);
  EXPECT_EQ(two.bytes, 4);
  EXPECT_EQ(state.memory_bytes, 4 + 4 + 2 + 4);  // each tag counts what it holds
  EXPECT_EQ(*state.by_tag[1].versions[1].mutations, (std::vector<Mutation>{set_key("c", "3")}));
  EXPECT_EQ(*state.by_tag[2].versions[1].mutations, (std::vector<Mutation>{set_key("c", "3"), set_key("d", "4")}));

  // A peek hands the log's list over, and each tag's peek reads its own mutations.
  const TLogPeekReply peeked = collect_peek(state, 2, 0, 1 << 20);
  ASSERT_EQ(peeked.messages.size(), 2u);
  EXPECT_EQ(peeked.messages[0].mutations, two.mutations);
  EXPECT_EQ(peeked.messages[1].mutations->size(), 2u);

  // A copy merges the tags again.
  const TLogCopyReply copied = collect_copy(state, 0, 2, 1 << 20);
  ASSERT_EQ(copied.entries.size(), 2u);
  ASSERT_EQ(copied.entries[0].mutations.size(), 2u);
  EXPECT_EQ(copied.entries[0].mutations[0].tags, (std::vector<Tag>{1, 2}));
  EXPECT_EQ(copied.entries[1].mutations[1].tags, (std::vector<Tag>{2}));

  // Spilling one tag's version leaves the other's list whole.
  spill_to(state, 4 + 2 + 4, 1);
  ASSERT_EQ(state.by_tag[1].spilled + state.by_tag[2].spilled, 1u);
  const Tag spilled = state.by_tag[1].spilled == 1 ? 1 : 2;
  EXPECT_EQ(state.by_tag[spilled].versions[0].mutations, nullptr);
  const TagVersion& kept = state.by_tag[spilled == 1 ? 2 : 1].versions[0];
  ASSERT_NE(kept.mutations, nullptr);
  EXPECT_EQ(*kept.mutations, (std::vector<Mutation>{set_key("a", "1"), set_key("b", "2")}));
}

TEST(TLogTest, SpillingTakesTheOldestDurableVersionsOfTheFullestTagsAndPoppingCountsThem) {
  TLogState state;
  Version previous = 0;
  for (Version version = 1; version <= 6; ++version) {
    TLogRecord record{1, previous, version, 0, {}};
    record.mutations.push_back(TaggedMutation{{1}, set_key("k", std::string(100, 'a'))});  // 101 bytes
    if (version % 2 == 0) record.mutations.push_back(TaggedMutation{{1, 2}, set_key("both", "x")});  // 5 bytes
    index_record(state, std::move(record), RecordRef{1, version * 1000, 500});
    previous = version;
  }
  state.durable.set(6);
  EXPECT_EQ(state.memory_bytes, 6 * 101 + 3 * 5 * 2);
  spill_to(state, 300, 4);  // tag 1 holds the most: its oldest versions, but none above 4
  EXPECT_EQ(state.by_tag[1].spilled, 4u);
  EXPECT_EQ(state.by_tag[2].spilled, 0u);
  EXPECT_EQ(state.memory_bytes, 2 * 101 + 5 + 3 * 5);
  EXPECT_EQ(state.spilled_through, 4);
  EXPECT_EQ(state.by_tag[1].versions[0].mutations, nullptr);
  EXPECT_EQ(state.by_tag[1].versions[0].bytes, 101);

  // Peeks: memory stops at the first spilled version; the files are read from there.
  TLogPeekReply from_memory = collect_peek(state, 1, 0, 1 << 20);
  EXPECT_TRUE(from_memory.messages.empty());
  EXPECT_EQ(from_memory.end, 1);
  std::vector<TagVersion> spilled = spilled_peek(state, 1, 2, 150);  // 106, then 207 >= 150: two
  ASSERT_EQ(spilled.size(), 2u);
  EXPECT_EQ(spilled[0].version, 2);
  EXPECT_EQ(spilled[0].record.offset, 2000);
  EXPECT_EQ(spilled[1].version, 3);
  EXPECT_TRUE(spilled_peek(state, 1, 5, 1 << 20).empty());
  EXPECT_EQ(versions_of(collect_peek(state, 1, 5, 1 << 20)), (std::vector<Version>{5, 6}));
  EXPECT_EQ(versions_of(collect_peek(state, 2, 0, 1 << 20)), (std::vector<Version>{2, 4, 6}));

  // Copies: every version with an unpopped tag, and the tags still unpopped at it.
  pop_tag(state, 2, 2);
  pop_tag(state, 1, 3);
  EXPECT_EQ(state.by_tag[1].spilled, 1u);  // version 4
  EXPECT_EQ(state.memory_bytes, 2 * 101 + 5 + 2 * 5);
  const RecordsBetween all = records_between(state, 0, 6, 1 << 20);
  const auto& records = all.records;
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records.front().first, 4);
  EXPECT_EQ(records.front().second.offset, 4000);
  EXPECT_EQ(all.through, 6);
  const RecordsBetween bounded = records_between(state, 0, 6, 150);  // tag 1: 106, then 207 at 5
  ASSERT_EQ(bounded.records.size(), 2u);
  EXPECT_EQ(bounded.records.back().first, 5);
  EXPECT_EQ(bounded.through, 5);
  TLogRecord two{1, 1, 2, 0, {}};
  two.mutations.push_back(TaggedMutation{{1}, set_key("k", "a")});
  two.mutations.push_back(TaggedMutation{{1, 2}, set_key("both", "x")});
  EXPECT_TRUE(unpopped_mutations(state, two).empty());  // both tags popped past 2
  TLogRecord four = two;
  four.version = 4;
  const std::vector<TaggedMutation> kept = unpopped_mutations(state, four);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[1].tags, (std::vector<Tag>{1, 2}));
  pop_tag(state, 1, 6);
  pop_tag(state, 2, 6);
  EXPECT_EQ(state.memory_bytes, 0);
  EXPECT_EQ(state.by_tag[1].spilled, 0u);
}

// Values that tell their version apart, so a peek read back from the files is checked.
std::string value_of(Version version) { return std::string(1 << 20, static_cast<char>('a' + version % 26)); }

void expect_versions(const std::vector<PeekedVersion>& messages, const std::vector<Version>& versions) {
  ASSERT_EQ(messages.size(), versions.size());
  for (size_t i = 0; i < versions.size(); ++i) {
    EXPECT_EQ(messages[i].version, versions[i]);
    ASSERT_EQ(messages[i].mutations->size(), 1u) << versions[i];
    EXPECT_EQ((*messages[i].mutations)[0].param2, value_of(versions[i])) << versions[i];
  }
}

// The log `id` once its (re)started process says it is ready.
Future<TLogInterface> when_ready(Cluster& cluster, uint64_t id, std::shared_ptr<LogRun> run) {
  Future<Void> ready = run->ready.get_future();
  co_await ready;
  co_return cluster.log(id);
}

// With a 3 MiB threshold, 40 MiB of commits spill: peeks read them back from the files, a new
// log is seeded from them (and spills its seed), and a restart replays and spills again.
TEST(TLogTest, SpilledVersionsArePeekedCopiedAndReplayed) {
  Cluster cluster(8);
  tlog_knobs().tlog_spill_bytes = 3 << 20;  // after the simulator reset the knobs
  auto run_a = std::make_shared<LogRun>();
  cluster.add_log(id_a, TLogRecruitment{1, 0, std::nullopt}, run_a);
  std::vector<Version> even;
  std::vector<Version> odd;
  for (Version version = 1; version <= 40; ++version) (version % 2 == 0 ? even : odd).push_back(version);
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    TLogInterface log = co_await when_ready(cluster, id_a, run_a);
    Future<Void> committed = commit_forty(log, value_of);
    co_await committed;
    std::vector<PeekedVersion> tag0 = co_await peek_all(log, 0, 41);
    expect_versions(tag0, even);
    std::vector<PeekedVersion> tag1 = co_await peek_all(log, 1, 41);
    expect_versions(tag1, odd);
    co_await pop_tag0_and_lock(log);
    co_return Void{};
  }));
  auto run_b = std::make_shared<LogRun>();
  SimProcess& b = cluster.add_log(id_b, TLogRecruitment{2, 40, cluster.log(id_a)}, run_b);
  const std::vector<Version> even_after_pop(even.begin() + 5, even.end());
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    TLogInterface log = co_await when_ready(cluster, id_b, run_b);
    std::vector<PeekedVersion> tag0 = co_await peek_all(log, 0, 41);
    expect_versions(tag0, even_after_pop);
    co_return Void{};
  }));
  cluster.simulator.power_cycle(b.machine(), 0.5);
  ASSERT_TRUE(cluster.run([&]() -> Future<Void> {
    co_await delay(1);
    TLogInterface log = co_await when_ready(cluster, id_b, run_b);
    std::vector<PeekedVersion> tag0 = co_await peek_all(log, 0, 41);
    expect_versions(tag0, even_after_pop);
    std::vector<PeekedVersion> tag1 = co_await peek_all(log, 1, 41);
    expect_versions(tag1, odd);
    co_return Void{};
  }));
  knob_registry().reset_defaults();
}

}  // namespace
}  // namespace keel::sim
