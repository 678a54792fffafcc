// Durability: clients commit transactions of fresh, unique keys
// (<spreading byte>durability/<client>/<n>, spread over every shard) and remember each key's
// fate: acknowledged (commit() returned a version), unknown (commit_unknown_result, or a commit
// cut short at the end of the fault phase), or failed (any other error: the client promises
// those did not commit). A verifier reads random acknowledged keys while the faults run. The
// check, after the faults stopped and dead processes rebooted, reads every key: every
// acknowledged key must be there with its value, no failed one may be there, an unknown one
// may be there only with its value, and no other key may appear.
// Options: clients (4), transactions_per_second (40 overall), keys_per_transaction_max (3),
// value_bytes_max (1000), verifies_per_second (10).
#include <fmt/format.h>

#include "client/database.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"
#include "sim/workloads/key_value_model.h"

namespace keel::sim {
namespace {

const std::string name_prefix = "durability/";
constexpr int64_t spread_slots = 190;

// The workload's keys: <one byte spreading them over the shards>durability/<client>/<n>.
Key durability_key(int client, uint64_t number) {
  const auto slot = static_cast<int64_t>((number * 37 + static_cast<uint64_t>(client) * 11) % spread_slots);
  return spread_key(slot, spread_slots, fmt::format("{}{:03d}/{:08d}", name_prefix, client, number));
}
bool is_durability_key(const Key& key) { return key.size() > 1 && key.compare(1, name_prefix.size(), name_prefix) == 0; }

enum class WriteFate { pending, acknowledged, failed };

struct Written {
  Value value;
  WriteFate fate = WriteFate::pending;
};

class Durability final : public Workload {
 public:
  Durability(RunContext& context, const Options& options)
      : context_(context),
        clients_(static_cast<int>(options.number("clients", 4))),
        rate_(options.number("transactions_per_second", 40)),
        keys_per_transaction_max_(static_cast<int>(options.number("keys_per_transaction_max", 3))),
        value_bytes_max_(static_cast<size_t>(options.number("value_bytes_max", 1000))),
        verify_rate_(options.number("verifies_per_second", 10)) {}

  Future<Void> start() override {
    std::vector<Future<Void>> running;
    for (int i = 0; i < clients_; ++i) running.push_back(writer(i));
    if (verify_rate_ > 0) running.push_back(verifier());
    co_await when_all(std::move(running));
    co_return Void{};
  }

  Future<std::vector<std::string>> check() override {
    Database db = database();
    std::vector<KeyValue> rows;
    auto body = [&rows](Transaction& transaction) -> Future<Void> {
      rows.clear();
      KeyRange rest{"", KeyValueModel::user_keys_end};
      while (true) {
        RangeResult page = co_await transaction.get_range(rest, check_page_rows);
        if (!page.rows.empty()) rest.begin = key_after(page.rows.back().key);
        for (KeyValue& row : page.rows) {
          if (is_durability_key(row.key)) rows.push_back(std::move(row));
        }
        if (!page.more || page.rows.empty()) break;
      }
      co_return Void{};
    };
    co_await db.run(body);
    compare(rows);
    if (acknowledged_ == 0) problem("no transaction was acknowledged");
    TraceEvent("DurabilityResults")
        .detail("Acknowledged", acknowledged_)
        .detail("Failed", failed_)
        .detail("Unknown", unknown_)
        .detail("Verified", verified_)
        .detail("Found", rows.size())
        .detail("Errors", describe_tally(errors_));
    co_return problems_.list();
  }

 private:
  Database database() const { return static_cluster_database(context_); }

  void problem(std::string text) { problems_.add(std::move(text)); }

  // Compares what the database holds with the fate of every key written.
  void compare(const std::vector<KeyValue>& rows) {
    std::map<Key, const Value*> found;
    for (const KeyValue& row : rows) found.emplace(row.key, &row.value);
    for (const auto& [key, written] : written_) {
      auto it = found.find(key);
      if (it == found.end()) {
        if (written.fate == WriteFate::acknowledged) problem(fmt::format("acknowledged key {} is missing", printable(key)));
        continue;
      }
      if (written.fate == WriteFate::failed) problem(fmt::format("key {} is present though its commit failed", printable(key)));
      if (*it->second != written.value) problem(fmt::format("key {} holds a value it was never given", printable(key)));
      found.erase(it);
    }
    for (const auto& [key, value] : found) problem(fmt::format("key {} was never written", printable(key)));
  }

  // A value of random length whose bytes depend on the key (so a value under the wrong key shows).
  Value make_value(const Key& key) {
    DeterministicRandom& random = context_.simulator.random();
    const auto length = static_cast<size_t>(random.random_int(1, static_cast<int64_t>(value_bytes_max_) + 1));
    Value value = key + "=";
    while (value.size() < length) value += static_cast<char>('a' + random.random_int(0, 26));
    return value;
  }

  void settle(const std::vector<Key>& keys, WriteFate fate) {
    for (const Key& key : keys) written_[key].fate = fate;
  }

  Future<Void> writer(int client) {
    DeterministicRandom& random = context_.simulator.random();
    Database db = database();
    uint64_t next = 0;
    while (true) {
      co_await delay(random.random_exponential(clients_ / rate_));
      Transaction transaction = db.create_transaction();
      std::vector<Key> keys;
      const auto count = random.random_int(1, keys_per_transaction_max_ + 1);
      for (int64_t i = 0; i < count; ++i) {
        keys.push_back(durability_key(client, next++));
        Written& written = written_[keys.back()];  // pending until the commit's outcome is known
        written.value = make_value(keys.back());
        transaction.set(keys.back(), written.value);
      }
      Future<Version> committed = transaction.commit();
      co_await ready(committed);
      if (!committed.is_error()) {
        settle(keys, WriteFate::acknowledged);
        ++acknowledged_;
        for (const Key& key : keys) acknowledged_keys_.push_back(key);
        continue;
      }
      const int code = committed.error().code();
      ++errors_[std::string(committed.error().name())];
      // The client's contract: every commit error but commit_unknown_result means not committed.
      if (code != errc::commit_unknown_result) {
        settle(keys, WriteFate::failed);
        ++failed_;
      } else {
        ++unknown_;  // stays pending: it may or may not have committed
      }
      if (!committed.error().is_retryable()) problem(fmt::format("a commit failed with {}", committed.error().describe()));
      co_await delay(0.01);
    }
  }

  // Reads random acknowledged keys: each was acknowledged before the read began, so it must be there.
  Future<Void> verifier() {
    DeterministicRandom& random = context_.simulator.random();
    Database db = database();
    while (true) {
      co_await delay(random.random_exponential(1 / verify_rate_));
      if (acknowledged_keys_.empty()) continue;
      const auto pick = random.random_int(0, static_cast<int64_t>(acknowledged_keys_.size()));
      const Key key = acknowledged_keys_[static_cast<size_t>(pick)];
      std::optional<Value> value;
      auto body = [&key, &value](Transaction& transaction) -> Future<Void> {
        value = co_await transaction.get(key);
        co_return Void{};
      };
      try {
        co_await db.run(body);
      } catch (const Error& error) {
        problem(fmt::format("a verifying read failed with {}", error.describe()));
        continue;
      }
      ++verified_;
      if (!value) {
        problem(fmt::format("acknowledged key {} is missing while the faults run", printable(key)));
      } else if (*value != written_[key].value) {
        problem(fmt::format("acknowledged key {} holds a wrong value", printable(key)));
      }
    }
  }

  RunContext& context_;
  int clients_;
  double rate_;
  int keys_per_transaction_max_;
  size_t value_bytes_max_;
  double verify_rate_;
  std::map<Key, Written> written_;
  std::vector<Key> acknowledged_keys_;
  uint64_t acknowledged_ = 0, failed_ = 0, unknown_ = 0, verified_ = 0;
  std::map<std::string, uint64_t> errors_;
  ProblemLog problems_{"DurabilityProblem"};
};

}  // namespace

std::unique_ptr<Workload> make_durability(RunContext& context, const Options& options) {
  return std::make_unique<Durability>(context, options);
}

}  // namespace keel::sim
