#include "world/real_world.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <utility>

#include "runtime/combinators.h"

namespace keel {
namespace {

std::string temporary_directory() {
  auto path = std::filesystem::temp_directory_path() /
              ("keel-world-test-" + std::to_string(nondeterministic_unique_id()));
  std::filesystem::create_directories(path);
  return path.string();
}

// A client's connection to a listener on loopback, and the listener's side of it.
Future<std::pair<std::shared_ptr<IConnection>, std::shared_ptr<IConnection>>> connected_pair(IWorld& world) {
  auto listener = world.listen(NetworkAddress::loopback(0));
  Future<std::shared_ptr<IConnection>> accepted = listener->accept();
  std::shared_ptr<IConnection> client = co_await world.connect(listener->address());
  std::shared_ptr<IConnection> server = co_await accepted;
  co_return std::make_pair(client, server);
}

Future<std::string> echo_once(IWorld& world) {
  auto [client, server] = co_await connected_pair(world);
  client->write("hello");
  std::string received;
  while (received.size() < 5) received += co_await server->read_some();
  server->write(received + " back");
  std::string reply;
  while (reply.size() < 10) reply += co_await client->read_some();
  client->close();
  bool failed = false;
  try {
    co_await timeout_error(server->read_some(), 5.0);
  } catch (const Error& error) {
    failed = error.code() == errc::connection_failed;
  }
  co_return failed ? reply : std::string("server did not see the close");
}

TEST(RealWorldTest, TcpRoundTripOnLoopback) {
  RealWorld world;
  Future<std::string> result = timeout_error(echo_once(world), 10.0);
  world.run(ready(result));
  EXPECT_EQ(result.get(), "hello back");
}

// A write goes to the socket at once; one written for the pass's end waits for it, and so do the
// writes after it in the same pass (in order).
Future<std::string> write_held_until_pass_end(IWorld& world) {
  auto [client, server] = co_await connected_pair(world);
  client->write("now");
  const size_t unsent_after_write = client->bytes_unsent();
  std::string received;
  while (received.size() < 3) received += co_await server->read_some();  // a later pass
  client->write_at_pass_end("held");
  const size_t unsent_after_held = client->bytes_unsent();
  client->write("next");
  const size_t unsent_after_next = client->bytes_unsent();
  while (received.size() < 11) received += co_await server->read_some();
  client->close();
  co_return std::to_string(unsent_after_write) + "|" + std::to_string(unsent_after_held) + "|" +
      std::to_string(unsent_after_next) + "|" + received;
}

TEST(RealWorldTest, AWriteForThePassEndWaitsForIt) {
  RealWorld world;
  Future<std::string> result = timeout_error(write_held_until_pass_end(world), 10.0);
  world.run(ready(result));
  EXPECT_EQ(result.get(), "0|4|8|nowheldnext");
}

// The writes held behind a pass's first go when the pass ends, or at once on send_held_writes().
Future<std::string> held_writes_sent_on_request(IWorld& world) {
  auto [client, server] = co_await connected_pair(world);
  client->write("first");
  client->write("held");
  const size_t unsent_before = client->bytes_unsent();
  world.send_held_writes();
  const size_t unsent_after = client->bytes_unsent();
  client->write("later");  // held again until the pass ends
  const size_t unsent_later = client->bytes_unsent();
  std::string received;
  while (received.size() < 14) received += co_await server->read_some();
  client->close();
  co_return std::to_string(unsent_before) + "|" + std::to_string(unsent_after) + "|" + std::to_string(unsent_later) +
      "|" + received;
}

TEST(RealWorldTest, HeldWritesGoAtOnceWhenAsked) {
  RealWorld world;
  Future<std::string> result = timeout_error(held_writes_sent_on_request(world), 10.0);
  world.run(ready(result));
  EXPECT_EQ(result.get(), "4|0|5|firstheldlater");
}

Future<std::string> file_round_trip(IWorld& world, std::string directory) {
  const std::string path = directory + "/data";
  std::shared_ptr<IFile> file =
      co_await world.open_file(path, open_flags::read_write | open_flags::create | open_flags::exclusive);
  co_await file->write(0, "abcdef");
  co_await file->write(3, "XY");
  co_await file->sync();
  co_await file->write_and_sync(6, "gh");
  co_await file->truncate(7);
  const int64_t size = co_await file->size();
  std::string contents = co_await file->read(0, 100);
  co_await world.rename_file(path, directory + "/renamed");
  std::vector<std::string> names = co_await world.list_directory(directory);
  bool exclusive_refused = false;
  try {
    co_await world.open_file(directory + "/renamed", open_flags::read_write | open_flags::create |
                                                         open_flags::exclusive);
  } catch (const Error& error) {
    exclusive_refused = error.code() == errc::file_exists;
  }
  bool missing_reported = false;
  try {
    co_await world.open_file(directory + "/missing", open_flags::read_only);
  } catch (const Error& error) {
    missing_reported = error.code() == errc::file_not_found;
  }
  co_return contents + "|" + std::to_string(size) + "|" + names.at(0) + "|" +
      (exclusive_refused ? "excl" : "") + (missing_reported ? "|missing" : "");
}

TEST(RealWorldTest, FilesReadWriteSyncRenameList) {
  const std::string directory = temporary_directory();
  {
    RealWorld world;
    Future<std::string> result = file_round_trip(world, directory);
    world.run(ready(result));
    EXPECT_EQ(result.get(), "abcXYfg|7|renamed|excl|missing");
  }
  std::filesystem::remove_all(directory);
}

// /dev/full fails every write with ENOSPC, as a full disk does.
Future<std::string> write_to_full_device(IWorld& world) {
  std::shared_ptr<IFile> file = co_await world.open_file("/dev/full", open_flags::read_write);
  try {
    co_await file->write_and_sync(0, "abc");
  } catch (const Error& error) {
    co_return std::string(error.name());
  }
  co_return std::string("written");
}

TEST(RealWorldTest, AFullDiskIsReportedAsDiskFull) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  RealWorld world;
  Future<std::string> result = write_to_full_device(world);
  world.run(ready(result));
  EXPECT_EQ(result.get(), "disk_full");
}

TEST(RealWorldTest, DelaysUseTheRealClock) {
  RealWorld world;
  const double start = now();
  Future<Void> later = delay(0.05);
  world.run(later);
  EXPECT_GE(now() - start, 0.05);
}

// Counts the steps `busy` took before the finished blocking work's waiter resumed.
Future<int> steps_before_resuming(IWorld& world, const int* steps) {
  Future<Void> done = world.run_blocking([] {});
  co_await done;
  co_return *steps;
}

// Keeps the loop busy for `steps` tasks of 100 microseconds each, one after another.
Future<Void> busy(int steps, int* taken) {
  for (int i = 0; i < steps; ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    ++*taken;
    co_await delay(0);
  }
  co_return Void{};
}

// The loop delivers finished disk work between any two tasks, not after a burst of them (a
// burst is up to a thousand tasks): a commit's log write and sync must not wait behind other
// work for long.
TEST(RealWorldTest, FinishedBlockingWorkResumesBetweenTasks) {
  RealWorld world;
  int steps = 0;
  constexpr int steps_max = 2000;
  Future<int> resumed_after = steps_before_resuming(world, &steps);
  Future<Void> done = busy(steps_max, &steps);
  world.run(done);
  ASSERT_TRUE(resumed_after.is_ready());
  // The pool finishes the work within a few steps (up to 40 ms allowed for a loaded machine). A
  // loop that looks only after a burst of a thousand tasks (a step is two: the delay and the
  // resumption) resumes it after 500.
  EXPECT_LT(resumed_after.get(), 400);
}

struct PlainSocket {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  PlainSocket() = default;
  PlainSocket(const PlainSocket&) = delete;
  PlainSocket& operator=(const PlainSocket&) = delete;
  ~PlainSocket() {
    if (fd >= 0) ::close(fd);
  }
};

Future<std::string> read_one(std::shared_ptr<IConnection> connection) {
  Future<std::string> read = connection->read_some();
  co_return co_await read;
}

// Where three syncs ran: the first while the loop had nothing else to do, the second while a
// connection's bytes arrived during it, the third right after (true: on the loop's thread).
Future<std::vector<bool>> syncs_with_arrival(RealWorld& world) {
  auto listener = world.listen(NetworkAddress::loopback(0));
  Future<std::shared_ptr<IConnection>> accepted = listener->accept();
  // The sender is a plain socket, so a sync's work can send while the loop waits on it.
  const auto sender = std::make_shared<PlainSocket>();
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(listener->address().port);
  to.sin_addr.s_addr = htonl(listener->address().ip);
  if (::connect(sender->fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    throw Error(errc::connection_failed);
  }
  std::shared_ptr<IConnection> receiver = co_await accepted;
  Future<std::string> read = read_one(receiver);  // a reader waits, as a server's connections do
  const std::thread::id loop = std::this_thread::get_id();
  std::vector<bool> on_loop;
  for (int i = 0; i < 3; ++i) {
    auto ran_on = std::make_shared<std::thread::id>();  // the work may outlive this frame
    auto work = [ran_on, sender, i] {
      *ran_on = std::this_thread::get_id();
      if (i == 1) {
        if (::send(sender->fd, "x", 1, 0) != 1) throw Error(errc::io_error);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the byte arrives meanwhile
      }
    };
    co_await world.write_and_sync_for_commit(work, nullptr, true);
    on_loop.push_back(*ran_on == loop);
  }
  const std::string got = co_await read;
  if (got != "x") throw Error(errc::internal_error);
  co_return on_loop;
}

// A sync asked while the loop has nothing else to do runs on the loop's own thread (sparing two
// thread wake-ups); once messages arrived during one, the next go to the sync lane.
TEST(RealWorldTest, AnIdleLoopSyncsItselfUntilMessagesArriveMeanwhile) {
  RealWorld world;
  Future<std::vector<bool>> on_loop = timeout_error(syncs_with_arrival(world), 10.0);
  world.run(ready(on_loop));
  EXPECT_EQ(on_loop.get(), (std::vector<bool>{true, true, false}));
}

TEST(RealWorldTest, BindingATakenPortFails) {
  RealWorld world;
  auto first = world.listen(NetworkAddress::loopback(0));
  try {
    world.listen(first->address());
    ADD_FAILURE() << "second bind succeeded";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::bind_failed);
  }
}

}  // namespace
}  // namespace keel
