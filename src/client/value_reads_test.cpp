#include "client/value_reads.h"

#include <gtest/gtest.h>

#include "client/client_knobs.h"
#include "client/database_state.h"
#include "runtime/combinators.h"
#include "world/real_world.h"

namespace keel {
namespace {

// A storage server in this process that answers "key@version" for every key, or fails every
// batch with `code`; it records the requests it got.
struct FakeServer {
  int code = 0;
  StorageServerInterface interface;
  std::vector<std::vector<Key>> batches;  // the keys of each get_values request
  std::vector<Version> batch_versions;
  int single_reads = 0;
};

Value value_of(const Key& key, Version version) { return key + "@" + std::to_string(version); }

Future<Void> serve_batches(FakeServer* server) {
  FutureStream<GetValuesRequest> requests = server->interface.get_values.requests();
  while (true) {
    GetValuesRequest request = co_await requests.next();
    server->batches.push_back(request.keys);
    server->batch_versions.push_back(request.version);
    if (server->code != 0) {
      request.reply.send_error(Error(server->code));
      continue;
    }
    GetValuesReply reply;
    for (const Key& key : request.keys) reply.values.emplace_back(value_of(key, request.version));
    request.reply.send(std::move(reply));
  }
}

Future<Void> serve_singles(FakeServer* server) {
  FutureStream<GetValueRequest> requests = server->interface.get_value.requests();
  while (true) {
    GetValueRequest request = co_await requests.next();
    ++server->single_reads;
    request.reply.send(GetValueReply{value_of(request.key, request.version)});
  }
}

struct Read {
  Key key;
  Version version;
};

// Two shards, ["", "m") on `low` and ["m", \xff\xff) on `high`, in the location cache; `reads`
// all asked in one task, those of a version as one transaction's. Each result is the value read
// or the error's name.
std::vector<std::string> run_reads(FakeServer& low, FakeServer& high, const std::vector<Read>& reads) {
  RealWorld world;
  std::vector<Future<Void>> serving;
  for (FakeServer* server : {&low, &high}) {
    server->interface.get_value = RequestStream<GetValueRequest>::serve();
    server->interface.get_values = RequestStream<GetValuesRequest>::serve();
    serving.push_back(serve_batches(server));
    serving.push_back(serve_singles(server));
  }
  auto database = std::make_shared<DatabaseState>(nullptr);
  database->locations[""] = ShardLocation{KeyRange{"", "m"}, {low.interface}};
  database->locations["m"] = ShardLocation{KeyRange{"m", "\xff\xff"}, {high.interface}};
  std::vector<Future<std::optional<Value>>> values;
  // One ValueReads per version, as each transaction has its own.
  std::map<Version, std::shared_ptr<ValueReads>> batches;
  for (const Read& read : reads) {
    std::shared_ptr<ValueReads>& batch = batches[read.version];
    if (batch == nullptr) batch = std::make_shared<ValueReads>();
    values.push_back(read_stored_value(database, batch, read.key, Future<Version>(read.version)));
  }
  std::vector<Future<Void>> done;
  for (const Future<std::optional<Value>>& value : values) done.push_back(ready(value));
  Future<Void> all = ready(timeout_error(when_all(done), 20.0));
  world.run(all);
  std::vector<std::string> results;
  for (const Future<std::optional<Value>>& value : values) {
    if (!value.is_ready()) results.emplace_back("hung");
    else if (value.is_error()) results.emplace_back(std::string(value.error().name()));
    else results.push_back(value.get().value_or("absent"));
  }
  return results;
}

TEST(ValueReadsTest, ATransactionsReadsGoAsOneRequestPerShard) {
  FakeServer low;
  FakeServer high;
  const std::vector<std::string> results =
      run_reads(low, high, {{"a", 7}, {"b", 7}, {"x", 7}, {"c", 7}, {"d", 8}, {"y", 7}, {"a", 7}});
  EXPECT_EQ(results, (std::vector<std::string>{"a@7", "b@7", "x@7", "c@7", "d@8", "y@7", "a@7"}));
  ASSERT_EQ(low.batches.size(), 2u);
  EXPECT_EQ(low.batches[0], (std::vector<Key>{"a", "b", "c", "a"}));
  EXPECT_EQ(low.batch_versions[0], 7);
  EXPECT_EQ(low.batches[1], (std::vector<Key>{"d"}));
  EXPECT_EQ(low.batch_versions[1], 8);
  ASSERT_EQ(high.batches.size(), 1u);
  EXPECT_EQ(high.batches[0], (std::vector<Key>{"x", "y"}));
  EXPECT_EQ(low.single_reads + high.single_reads, 0);
}

TEST(ValueReadsTest, ABatchTakesAtMostTheKnobsKeys) {
  const double batch_max = client_knobs().read_batch_keys_max;
  client_knobs().read_batch_keys_max = 2;
  FakeServer low;
  FakeServer high;
  const std::vector<std::string> results = run_reads(low, high, {{"a", 7}, {"b", 7}, {"c", 7}, {"d", 7}, {"e", 7}});
  client_knobs().read_batch_keys_max = batch_max;
  EXPECT_EQ(results, (std::vector<std::string>{"a@7", "b@7", "c@7", "d@7", "e@7"}));
  EXPECT_EQ(low.batches, (std::vector<std::vector<Key>>{{"a", "b"}, {"c", "d"}, {"e"}}));
}

TEST(ValueReadsTest, OneKeyPerBatchSendsEveryReadAlone) {
  const double batch_max = client_knobs().read_batch_keys_max;
  client_knobs().read_batch_keys_max = 1;
  FakeServer low;
  FakeServer high;
  const std::vector<std::string> results = run_reads(low, high, {{"a", 7}, {"x", 7}, {"b", 7}});
  client_knobs().read_batch_keys_max = batch_max;
  EXPECT_EQ(results, (std::vector<std::string>{"a@7", "x@7", "b@7"}));
  EXPECT_TRUE(low.batches.empty());
  EXPECT_EQ(low.single_reads + high.single_reads, 3);
}

TEST(ValueReadsTest, ABatchsErrorReachesEachOfItsReads) {
  FakeServer low;
  low.code = errc::transaction_too_old;
  FakeServer high;
  const std::vector<std::string> results = run_reads(low, high, {{"a", 7}, {"x", 7}, {"b", 7}});
  EXPECT_EQ(results, (std::vector<std::string>{"transaction_too_old", "x@7", "transaction_too_old"}));
  EXPECT_EQ(low.batches.size(), 1u);
}

}  // namespace
}  // namespace keel
