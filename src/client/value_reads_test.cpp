#include "client/value_reads.h"

#include <gtest/gtest.h>

#include "client/client_knobs.h"
#include "client/database_state.h"
#include "runtime/combinators.h"
#include "world/real_world.h"

namespace keel {
namespace {

// A storage server in this process that answers "key@version" for every key, or fails every
// batch with `code`; it records the requests it got. A batch asking for a fresh read version
// is read at `fresh_version`, or fails with read_version_unavailable while that is 0.
struct FakeServer {
  int code = 0;
  Version fresh_version = 0;
  StorageServerInterface interface;
  std::vector<std::vector<Key>> batches;  // the keys of each get_values request
  std::vector<Version> batch_versions;    // 0 for a batch that asked for a fresh version
  int single_reads = 0;
};

Value value_of(const Key& key, Version version) { return key + "@" + std::to_string(version); }

Future<Void> serve_batches(FakeServer* server) {
  FutureStream<GetValuesRequest> requests = server->interface.get_values.requests();
  while (true) {
    GetValuesRequest request = co_await requests.next();
    server->batches.push_back(request.keys);
    server->batch_versions.push_back(request.fresh_version ? 0 : request.version);
    if (server->code != 0 || (request.fresh_version && server->fresh_version == 0)) {
      request.reply.send_error(Error(server->code != 0 ? server->code : errc::read_version_unavailable));
      continue;
    }
    GetValuesReply reply;
    reply.version = request.fresh_version ? server->fresh_version : request.version;
    for (const Key& key : request.keys) reply.values.emplace_back(value_of(key, reply.version));
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
std::vector<Future<Void>> start_serving(FakeServer& low, FakeServer& high) {
  std::vector<Future<Void>> serving;
  for (FakeServer* server : {&low, &high}) {
    server->interface.get_value = RequestStream<GetValueRequest>::serve();
    server->interface.get_values = RequestStream<GetValuesRequest>::serve();
    serving.push_back(serve_batches(server));
    serving.push_back(serve_singles(server));
  }
  return serving;
}

std::shared_ptr<DatabaseState> database_of(const FakeServer& low, const FakeServer& high) {
  auto database = std::make_shared<DatabaseState>(nullptr);
  database->locations[""] = ShardLocation{KeyRange{"", "m"}, {low.interface}};
  database->locations["m"] = ShardLocation{KeyRange{"m", "\xff\xff"}, {high.interface}};
  return database;
}

// What each read gave: its value, its error's name, or "hung".
std::vector<std::string> results_of(const std::vector<Future<std::optional<Value>>>& values) {
  std::vector<std::string> results;
  for (const Future<std::optional<Value>>& value : values) {
    if (!value.is_ready()) results.emplace_back("hung");
    else if (value.is_error()) results.emplace_back(std::string(value.error().name()));
    else results.push_back(value.get().value_or("absent"));
  }
  return results;
}

Future<Void> all_ready(const std::vector<Future<std::optional<Value>>>& values) {
  std::vector<Future<Void>> done;
  for (const Future<std::optional<Value>>& value : values) done.push_back(ready(value));
  return ready(timeout_error(when_all(done), 20.0));
}

std::vector<std::string> run_reads(FakeServer& low, FakeServer& high, const std::vector<Read>& reads) {
  RealWorld world;
  const std::vector<Future<Void>> serving = start_serving(low, high);
  std::shared_ptr<DatabaseState> database = database_of(low, high);
  std::vector<Future<std::optional<Value>>> values;
  // One ValueReads per version, as each transaction has its own.
  std::map<Version, std::shared_ptr<ValueReads>> batches;
  for (const Read& read : reads) {
    std::shared_ptr<ValueReads>& batch = batches[read.version];
    if (batch == nullptr) batch = std::make_shared<ValueReads>();
    values.push_back(read_stored_value(database, batch, read.key, Future<Version>(read.version)));
  }
  Future<Void> all = all_ready(values);
  world.run(all);
  return results_of(values);
}

// A proxy in this process that answers every read-version request with `version`.
Future<Void> serve_read_versions(ProxyInterface proxy, Version version, int* asked) {
  FutureStream<GetReadVersionRequest> requests = proxy.get_read_version.requests();
  while (true) {
    GetReadVersionRequest request = co_await requests.next();
    ++*asked;
    request.reply.send(GetReadVersionReply{version});
  }
}

// The same proxy's answers to location requests: the two shards of database_of.
Future<Void> serve_locations(ProxyInterface proxy, const FakeServer& low, const FakeServer& high) {
  FutureStream<GetKeyServerLocationsRequest> requests = proxy.get_key_server_locations.requests();
  while (true) {
    GetKeyServerLocationsRequest request = co_await requests.next();
    GetKeyServerLocationsReply reply;
    reply.shards.push_back(ShardLocation{KeyRange{"", "m"}, {low.interface}});
    reply.shards.push_back(ShardLocation{KeyRange{"m", "\xff\xff"}, {high.interface}});
    request.reply.send(std::move(reply));
  }
}

Future<std::optional<Value>> map_version(Future<Version> version) {
  co_await ready(version);
  co_return std::nullopt;
}

struct Learned {
  std::vector<std::string> results;
  std::string read_version;  // the version the transaction learned, or the error's name
  int proxy_asked = 0;
};

// One transaction with no read version reads `keys` in one task, the first learning the read
// version (as Transaction::get does); a proxy in the same process as the servers answers
// read-version requests with `proxy_version`. With `dropped` other than `nothing`, the first
// read's future is dropped at once (its result is then "dropped"), and with `read_and_batch`
// the reads' hold on the learning batch too (as when the transaction is reset).
enum class Dropped { nothing, read, read_and_batch };
Learned run_learning_reads(FakeServer& low, FakeServer& high, const std::vector<Key>& keys, Version proxy_version,
                           Dropped dropped = Dropped::nothing) {
  RealWorld world;
  const std::vector<Future<Void>> serving = start_serving(low, high);
  std::shared_ptr<DatabaseState> database = database_of(low, high);
  Learned learned;
  ProxyInterface proxy;
  proxy.get_read_version = RequestStream<GetReadVersionRequest>::serve();
  proxy.get_key_server_locations = RequestStream<GetKeyServerLocationsRequest>::serve();
  Future<Void> proxy_serving = serve_read_versions(proxy, proxy_version, &learned.proxy_asked);
  Future<Void> locating = serve_locations(proxy, low, high);
  database->description = ClusterDescription{1, {proxy}};
  auto reads = std::make_shared<ValueReads>();
  EXPECT_TRUE(can_learn_read_version(*database, *reads, keys.front()));
  std::optional<Promise<Version>> learn(std::in_place);
  const Future<Version> read_version = learned_read_version(learn->get_future(), database);
  std::vector<Future<std::optional<Value>>> values;
  values.push_back(read_stored_value(database, reads, keys.front(), read_version, std::move(learn)));
  if (dropped != Dropped::nothing) values.front() = Future<std::optional<Value>>(std::optional<Value>("dropped"));
  if (dropped == Dropped::read_and_batch) reads->learning.reset();
  for (size_t i = 1; i < keys.size(); ++i) {
    EXPECT_FALSE(can_learn_read_version(*database, *reads, keys[i]));
    values.push_back(read_stored_value(database, reads, keys[i], read_version));
  }
  std::vector<Future<std::optional<Value>>> awaited = values;
  awaited.push_back(map_version(read_version));
  Future<Void> all = all_ready(awaited);
  world.run(all);
  learned.results = results_of(values);
  if (!read_version.is_ready()) learned.read_version = "hung";
  else if (read_version.is_error()) learned.read_version = read_version.error().name();
  else learned.read_version = std::to_string(read_version.get());
  return learned;
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

TEST(ValueReadsTest, AFirstBatchLearnsTheReadVersionFromTheStorageServer) {
  FakeServer low;
  low.fresh_version = 42;
  FakeServer high;
  const Learned learned = run_learning_reads(low, high, {"a", "x", "b"}, 9);
  EXPECT_EQ(learned.results, (std::vector<std::string>{"a@42", "x@42", "b@42"}));
  EXPECT_EQ(learned.read_version, "42");
  EXPECT_EQ(learned.proxy_asked, 0);
  // The first shard's batch asked for a fresh version; the other shard's waited for it.
  EXPECT_EQ(low.batches, (std::vector<std::vector<Key>>{{"a", "b"}}));
  EXPECT_EQ(low.batch_versions, (std::vector<Version>{0}));
  EXPECT_EQ(high.batch_versions, (std::vector<Version>{42}));
}

TEST(ValueReadsTest, ABatchTheStorageServerFindsNoVersionForIsReadAgainAtAProxysVersion) {
  FakeServer low;  // fails fresh batches with read_version_unavailable
  FakeServer high;
  const Learned learned = run_learning_reads(low, high, {"a", "x", "b"}, 9);
  EXPECT_EQ(learned.results, (std::vector<std::string>{"a@9", "x@9", "b@9"}));
  EXPECT_EQ(learned.read_version, "9");
  EXPECT_EQ(learned.proxy_asked, 1);
  EXPECT_EQ(low.batch_versions, (std::vector<Version>{0, 9}));
  EXPECT_EQ(high.batch_versions, (std::vector<Version>{9}));
}

TEST(ValueReadsTest, AFreshBatchThatMetAMovedShardReadsEachKeyAloneAtTheProxysVersion) {
  FakeServer low;
  low.code = errc::wrong_shard_server;
  FakeServer high;
  const Learned learned = run_learning_reads(low, high, {"a", "b"}, 9);
  // Alone, each key looked its shard up again (the fake server answers single reads).
  EXPECT_EQ(learned.results, (std::vector<std::string>{"a@9", "b@9"}));
  EXPECT_EQ(learned.read_version, "9");
  EXPECT_EQ(learned.proxy_asked, 1);
  EXPECT_EQ(low.batches.size(), 1u);
  EXPECT_EQ(low.single_reads, 2);
}

TEST(ValueReadsTest, ALearningReadDroppedBeforeItLearnedStillLearnsTheVersion) {
  FakeServer low;
  low.fresh_version = 42;
  FakeServer high;
  const Learned learned = run_learning_reads(low, high, {"a", "x"}, 9, Dropped::read);
  // The transaction's reads hold the learning batch: it went on and the other read used its version.
  EXPECT_EQ(learned.results, (std::vector<std::string>{"dropped", "x@42"}));
  EXPECT_EQ(learned.read_version, "42");
  EXPECT_EQ(learned.proxy_asked, 0);
}

TEST(ValueReadsTest, ALearningBatchDroppedBeforeItLearnedLeavesTheVersionToAProxy) {
  FakeServer low;
  low.fresh_version = 42;
  FakeServer high;
  const Learned learned = run_learning_reads(low, high, {"a", "x"}, 9, Dropped::read_and_batch);
  // The other shard's read waited for the version, which a proxy gave once the learning batch
  // was cancelled (as it sent its request: nothing held it any more).
  EXPECT_EQ(learned.results, (std::vector<std::string>{"dropped", "x@9"}));
  EXPECT_EQ(learned.read_version, "9");
  EXPECT_EQ(learned.proxy_asked, 1);
}

// read_stored_values: every key's value in the keys' order, the keys batched per shard as
// read_stored_value batches them; the keys of a batch that met a moved shard each read alone.
std::vector<std::string> run_reads_together(FakeServer& low, FakeServer& high, const std::vector<Key>& keys) {
  RealWorld world;
  const std::vector<Future<Void>> serving = start_serving(low, high);
  std::shared_ptr<DatabaseState> database = database_of(low, high);
  ProxyInterface proxy;  // where a key whose shard moved looks it up again
  proxy.get_key_server_locations = RequestStream<GetKeyServerLocationsRequest>::serve();
  Future<Void> locating = serve_locations(proxy, low, high);
  database->description = ClusterDescription{1, {proxy}};
  Future<std::vector<std::optional<Value>>> values =
      read_stored_values(database, std::make_shared<ValueReads>(), keys, Future<Version>(Version(7)));
  world.run(ready(timeout_error(values, 20.0)));
  if (!values.is_ready()) return {"hung"};
  if (values.is_error()) return {std::string(values.error().name())};
  std::vector<std::string> results;
  for (const std::optional<Value>& value : values.get()) results.push_back(value.value_or("absent"));
  return results;
}

TEST(ValueReadsTest, KeysReadTogetherAnswerInTheirOrderWithOneRequestPerShard) {
  FakeServer low;
  FakeServer high;
  EXPECT_EQ(run_reads_together(low, high, {"x", "a", "y", "b", "a"}),
            (std::vector<std::string>{"x@7", "a@7", "y@7", "b@7", "a@7"}));
  EXPECT_EQ(low.batches, (std::vector<std::vector<Key>>{{"a", "b", "a"}}));
  EXPECT_EQ(high.batches, (std::vector<std::vector<Key>>{{"x", "y"}}));
  EXPECT_EQ(low.single_reads + high.single_reads, 0);
}

TEST(ValueReadsTest, KeysReadTogetherFromAMovedShardAreReadAlone) {
  FakeServer low;
  low.code = errc::wrong_shard_server;
  FakeServer high;
  EXPECT_EQ(run_reads_together(low, high, {"a", "x", "b"}), (std::vector<std::string>{"a@7", "x@7", "b@7"}));
  EXPECT_EQ(low.single_reads, 2);
  EXPECT_EQ(high.single_reads, 0);
}

TEST(ValueReadsTest, KeysReadTogetherFailWithTheirBatchsError) {
  FakeServer low;
  low.code = errc::future_version;
  FakeServer high;
  EXPECT_EQ(run_reads_together(low, high, {"x", "a"}), (std::vector<std::string>{"future_version"}));
}

}  // namespace
}  // namespace keel
