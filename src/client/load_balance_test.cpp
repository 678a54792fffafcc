#include "client/load_balance.h"

#include <gtest/gtest.h>

#include "rpc/transport.h"
#include "world/real_world.h"

namespace keel {
namespace {

const NetworkAddress a = NetworkAddress::loopback(4500);
const NetworkAddress b = NetworkAddress::loopback(4501);
const NetworkAddress c = NetworkAddress::loopback(4502);

TEST(LoadBalanceTest, TeamOrderRotatesFromTheFirstMember) {
  EXPECT_EQ(team_order({a, b, c}, {}, 0, 0), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(team_order({a, b, c}, {}, 0, 1), (std::vector<size_t>{1, 2, 0}));
  EXPECT_EQ(team_order({a}, {}, 0, 0), (std::vector<size_t>{0}));
}

TEST(LoadBalanceTest, MembersThatFailedLatelyGoLast) {
  const std::map<NetworkAddress, double> avoid{{b, 10.0}};
  EXPECT_EQ(team_order({a, b, c}, avoid, 5.0, 1), (std::vector<size_t>{2, 0, 1}));
  EXPECT_EQ(team_order({a, b, c}, avoid, 10.0, 1), (std::vector<size_t>{1, 2, 0}));  // expired
  const std::map<NetworkAddress, double> all{{a, 10.0}, {b, 10.0}, {c, 10.0}};
  EXPECT_EQ(team_order({a, b, c}, all, 5.0, 2), (std::vector<size_t>{2, 0, 1}));
}

TEST(LoadBalanceTest, UnavailableErrorsFailOverOthersSurface) {
  for (int code : {errc::connection_failed, errc::request_maybe_delivered, errc::broken_promise, errc::future_version,
                   errc::timed_out}) {
    EXPECT_TRUE(is_storage_unavailable(Error(code))) << code;
  }
  for (int code : {errc::wrong_shard_server, errc::transaction_too_old, errc::operation_cancelled}) {
    EXPECT_FALSE(is_storage_unavailable(Error(code))) << code;
  }
}

// A storage server's get_value in this process: answers `code` (0: the value "v"), or never
// (code -1); counts the requests.
struct FakeMember {
  int code = 0;
  int requests = 0;
  StorageServerInterface interface;
  std::vector<GetValueRequest> held;
};

Future<Void> serve_member(FakeMember* member) {
  FutureStream<GetValueRequest> requests = member->interface.get_value.requests();
  while (true) {
    GetValueRequest request = co_await requests.next();
    ++member->requests;
    if (member->code < 0) member->held.push_back(std::move(request));
    else if (member->code > 0) request.reply.send_error(Error(member->code));
    else request.reply.send(GetValueReply{Value("v")});
  }
}

// The value read from a team of members with these codes, or the error's code.
Future<std::string> read_from(DatabaseState* database, std::vector<FakeMember>* members) {
  ShardLocation location;
  location.range = KeyRange{"", "\xff\xff"};
  for (FakeMember& member : *members) location.servers.push_back(member.interface);
  auto send = [](const StorageServerInterface& server) {
    GetValueRequest request;
    request.key = "k";
    return server.get_value.get_reply(request);
  };
  try {
    Future<GetValueReply> reply = load_balanced<GetValueReply>(database, location, send);
    co_return *(co_await reply).value;
  } catch (const Error& error) {
    co_return std::string(error.name());
  }
}

std::string run_read(std::vector<int> codes, std::vector<FakeMember>& members, StorageReadStats* stats = nullptr) {
  RealWorld world;
  const double timeout_seconds = client_knobs().storage_read_timeout_seconds;
  client_knobs().storage_read_timeout_seconds = 0.2;
  for (int code : codes) {
    FakeMember& member = members.emplace_back();
    member.code = code;
    member.interface.get_value = RequestStream<GetValueRequest>::serve();
  }
  std::vector<Future<Void>> serving;
  for (FakeMember& member : members) serving.push_back(serve_member(&member));
  DatabaseState database({});
  Future<std::string> result = timeout_error(read_from(&database, &members), 20.0);
  world.run(ready(result));
  client_knobs().storage_read_timeout_seconds = timeout_seconds;
  if (stats != nullptr) *stats = database.storage_reads;
  return result.is_error() ? "hung" : result.get();
}

TEST(LoadBalanceTest, FailsOverPastSilentAndLaggingMembers) {
  for (int round = 0; round < 10; ++round) {  // whichever member comes first
    std::vector<FakeMember> members;
    members.reserve(3);
    StorageReadStats stats;
    EXPECT_EQ(run_read({-1, errc::future_version, 0}, members, &stats), "v");
    EXPECT_EQ(members[2].requests, 1);
    EXPECT_EQ(stats.reads, 1u);
    EXPECT_EQ(stats.failovers, static_cast<uint64_t>(members[0].requests + members[1].requests));
    EXPECT_EQ(stats.unreachable, 0u);
  }
}

TEST(LoadBalanceTest, WrongShardServerSurfacesAtOnce) {
  std::vector<FakeMember> members;
  members.reserve(2);
  EXPECT_EQ(run_read({errc::wrong_shard_server, errc::wrong_shard_server}, members), "wrong_shard_server");
  EXPECT_EQ(members[0].requests + members[1].requests, 1);
}

TEST(LoadBalanceTest, EveryMemberFailingSurfacesTheLastError) {
  std::vector<FakeMember> members;
  members.reserve(3);
  StorageReadStats stats;
  EXPECT_EQ(run_read({errc::future_version, errc::future_version, errc::future_version}, members, &stats),
            "future_version");
  for (const FakeMember& member : members) EXPECT_EQ(member.requests, 1);
  EXPECT_EQ(stats.unreachable, 0u);  // behind, not unreachable
}

TEST(LoadBalanceTest, EveryMemberUnreachableIsCounted) {
  std::vector<FakeMember> members;
  members.reserve(2);
  StorageReadStats stats;
  EXPECT_EQ(run_read({errc::broken_promise, errc::broken_promise}, members, &stats), "broken_promise");
  EXPECT_EQ(stats.unreachable, 1u);
  EXPECT_EQ(stats.failovers, 1u);
}

}  // namespace
}  // namespace keel
