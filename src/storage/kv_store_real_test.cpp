// The IKeyValueStore conformance suite in the REAL world: engines on a real disk in a temporary
// directory, including the engines that cannot run in simulation (ssd). Random operations against
// a std::map model with close and reopen; crashes by kill -9 of a child process that reports
// every acknowledged commit through a pipe, after which every acknowledged commit must be there
// and every commit all there or not at all; and corruption of the data files, which must be
// reported (checksum_failed or io_error), never returned as data. Bounded in iterations and time;
// each case names its seed on failure (SCOPED_TRACE). To add an engine, add its name to the
// INSTANTIATE list at the end.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>

#include "storage/kv_store.h"
#include "storage/real_disk_test_support.h"
#include "storage/storage_test_support.h"
#include "world/real_world.h"

namespace keel {
namespace {

using testing::describe;
using testing::Model;
using testing::model_bytes;
using testing::read_all;
using testing::run_real;
using testing::TemporaryDirectory;

class KVStoreRealTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& engine() const { return GetParam(); }
};

// ---- Random operations against the model, reopening now and then ----

TEST_P(KVStoreRealTest, RandomOperationsMatchAModel) {
  testing::RandomOperationsOptions options;
  options.steps = 3000;
  options.reopen_probability = 0.005;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TemporaryDirectory directory("keel-kv-real-");
    testing::OpenStore open = [engine = engine(), path = directory.path()] { return open_kv_store(engine, path); };
    run_real([&] { return testing::random_operations(open, seed, options); });
  }
}

// ---- Crashes: kill -9 of a child process ----

constexpr int commits_in_flight_max = 3;

// The writes of commit `number` (1, 2, ...): random writes, then "commit" = number, so the
// recovered state names the commit it is.
std::vector<Mutation> commit_writes(DeterministicRandom& random, int64_t number) {
  std::vector<Mutation> writes;
  const int64_t count = random.random_int(1, 20);
  for (int64_t i = 0; i < count; ++i) writes.push_back(testing::random_write(random, random.random01() * 0.55));
  writes.push_back(Mutation{MutationType::set_value, "commit", std::to_string(number)});
  return writes;
}

// The child: continues the seed's sequence of commits after the recovered one, reporting each
// acknowledged commit number on `report_fd`, until killed.
Future<Void> crash_child(std::string engine, std::string directory, uint64_t seed, int report_fd) {
  std::unique_ptr<IKeyValueStore> store = co_await open_kv_store(engine, directory);
  std::optional<Value> recovered = co_await store->get("commit");
  const int64_t first = recovered ? std::stoll(*recovered) + 1 : 1;
  DeterministicRandom random(seed);
  for (int64_t number = 1; number < first; ++number) commit_writes(random, number);
  std::deque<std::pair<int64_t, Future<Void>>> commits;
  for (int64_t number = first;; ++number) {
    for (const Mutation& write : commit_writes(random, number)) testing::apply_write(*store, write);
    commits.emplace_back(number, store->commit());
    while (!commits.empty() && (commits.size() >= commits_in_flight_max || commits.front().second.is_ready())) {
      co_await commits.front().second;
      const std::string line = std::to_string(commits.front().first) + "\n";
      if (::write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(3);
      commits.pop_front();
    }
  }
}

[[noreturn]] void run_crash_child(const std::string& engine, const std::string& directory, uint64_t seed, int fd) {
  try {
    RealWorld world;
    Future<Void> done = crash_child(engine, directory, seed, fd);
    world.run(ready(done));
  } catch (...) {
  }
  ::_exit(2);  // only a failure ends the child before the kill
}

// Kills a child running commits at a random moment; the highest commit it acknowledged.
int64_t run_and_kill(const std::string& engine, const std::string& directory, uint64_t seed,
                     DeterministicRandom& random) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    run_crash_child(engine, directory, seed, fds[1]);
  }
  ::close(fds[1]);
  ::usleep(static_cast<useconds_t>(random.random_int(20'000, 400'000)));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the child exited by itself with status " << WEXITSTATUS(status);
  std::string reported;
  char buffer[4096];
  ssize_t length = 0;
  while ((length = ::read(fds[0], buffer, sizeof(buffer))) > 0) reported.append(buffer, static_cast<size_t>(length));
  ::close(fds[0]);
  int64_t acknowledged = 0;
  size_t start = 0;
  for (size_t end = reported.find('\n'); end != std::string::npos; start = end + 1, end = reported.find('\n', start)) {
    acknowledged = std::max<int64_t>(acknowledged, std::stoll(reported.substr(start, end - start)));
  }
  return acknowledged;
}

// The data after each commit of the seed's sequence, from commit 0 (empty) on.
std::vector<Model> commit_states(uint64_t seed, int64_t last) {
  DeterministicRandom random(seed);
  std::vector<Model> states{Model{}};
  for (int64_t number = 1; number <= last; ++number) {
    Model model = states.back();
    for (const Mutation& write : commit_writes(random, number)) testing::apply_write(model, write);
    states.push_back(std::move(model));
  }
  return states;
}

TEST_P(KVStoreRealTest, AcknowledgedCommitsSurviveKillAndCommitsAreAtomic) {
  int64_t acknowledged_total = 0;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TemporaryDirectory directory("keel-kv-real-");
    DeterministicRandom random(seed * 7919);
    int64_t recovered_commit = 0;
    for (int kill = 0; kill < 4; ++kill) {
      SCOPED_TRACE("kill " + std::to_string(kill));
      const int64_t acknowledged = run_and_kill(engine(), directory.path(), seed, random);
      acknowledged_total += acknowledged;
      const std::vector<Model> states = commit_states(seed, std::max(acknowledged, recovered_commit) + commits_in_flight_max + 1);
      run_real([&]() -> Future<Void> {
        std::unique_ptr<IKeyValueStore> store = co_await open_kv_store(engine(), directory.path());
        Model recovered = co_await read_all(*store);
        const int64_t number = recovered.contains("commit") ? std::stoll(recovered["commit"]) : 0;
        EXPECT_GE(number, acknowledged) << "an acknowledged commit was lost";
        EXPECT_GE(number, recovered_commit) << "a recovered commit was lost";
        EXPECT_LT(number, static_cast<int64_t>(states.size()));
        if (number < static_cast<int64_t>(states.size())) {
          EXPECT_TRUE(recovered == states[static_cast<size_t>(number)])
              << "commit " << number << " recovered partly: " << describe(recovered) << "; expected "
              << describe(states[static_cast<size_t>(number)]);
          EXPECT_EQ(store->logical_bytes(), model_bytes(recovered));
        }
        recovered_commit = number;
        co_return Void{};
      });
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(acknowledged_total, 0) << "no commit was acknowledged before any kill";
}

// ---- Corruption ----

const std::string marker = "corruption-marker-value-";

// Commits values holding `marker` first, then other commits after them (so the marked data is not
// in the engine's last commit).
Future<Void> write_marked(std::string engine, std::string directory, Model* model) {
  std::unique_ptr<IKeyValueStore> store = co_await open_kv_store(engine, directory);
  for (int i = 0; i < 50; ++i) {
    const Key key = "marked" + std::to_string(i);
    store->set(key, marker + std::to_string(i));
    (*model)[key] = marker + std::to_string(i);
  }
  Future<Void> first = store->commit();
  co_await first;
  for (int commit = 0; commit < 5; ++commit) {
    const Key key = "after" + std::to_string(commit);
    store->set(key, std::string(100, 'x'));
    (*model)[key] = std::string(100, 'x');
    Future<Void> later = store->commit();
    co_await later;
  }
  co_return Void{};
}

// Flips one byte inside every copy of the marker in the directory's files; how many.
int flip_markers(const std::string& directory) {
  int flipped = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (!entry.is_regular_file()) continue;
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    for (size_t at = bytes.find(marker); at != std::string::npos; at = bytes.find(marker, at + 1)) {
      file.seekp(static_cast<std::streamoff>(at + marker.size() - 2));
      file.put(static_cast<char>(bytes[at + marker.size() - 2] ^ 0x04));
      ++flipped;
    }
  }
  return flipped;
}

TEST_P(KVStoreRealTest, CorruptionIsReportedNeverReturnedAsData) {
  TemporaryDirectory directory("keel-kv-real-");
  Model model;
  run_real([&] { return write_marked(engine(), directory.path(), &model); });
  ASSERT_GT(flip_markers(directory.path()), 0);
  run_real([&]() -> Future<Void> {
    try {
      std::unique_ptr<IKeyValueStore> store = co_await open_kv_store(engine(), directory.path());
      Model read = co_await read_all(*store);
      ADD_FAILURE() << "corrupt data was read without an error: " << (read == model ? "unchanged" : "changed");
    } catch (const Error& error) {
      EXPECT_TRUE(error.code() == errc::checksum_failed || error.code() == errc::io_error) << error.describe();
    }
    co_return Void{};
  });
}

// ---- Another engine's directory ----

TEST_P(KVStoreRealTest, AnotherEnginesDirectoryIsRefused) {
  TemporaryDirectory directory("keel-kv-real-");
  Model model;
  run_real([&] { return write_marked(engine(), directory.path(), &model); });
  for (const std::string other : {"memory", "ssd", "rocksdb"}) {
    if (other == engine()) continue;
    SCOPED_TRACE(other);
    run_real([&]() -> Future<Void> {
      try {
        std::unique_ptr<IKeyValueStore> store = co_await open_kv_store(other, directory.path());
        ADD_FAILURE() << other << " opened over " << engine() << "'s files";
      } catch (const Error& error) {
        EXPECT_EQ(error.code(), errc::engine_mismatch) << error.describe();
      }
      co_return Void{};
    });
  }
  // Its own engine still opens it, with the data.
  run_real([&]() -> Future<Void> {
    std::unique_ptr<IKeyValueStore> store = co_await open_kv_store(engine(), directory.path());
    Model read = co_await read_all(*store);
    EXPECT_TRUE(read == model);
    co_return Void{};
  });
}

INSTANTIATE_TEST_SUITE_P(Engines, KVStoreRealTest, ::testing::Values("memory", "ssd", "rocksdb"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace keel
