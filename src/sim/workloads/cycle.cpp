// Cycle: `nodes` keys form a ring (each value names the next key); transactions rotate three
// links at a time, which keeps it one ring. Invariant, checked in one snapshot at the end (and
// by every transaction that happens to read a broken link): the ring is a single cycle through
// every key. Options: nodes (100), clients (5), transactions_per_second (50 overall).
#include <fmt/format.h>

#include "client/database.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"

namespace keel::sim {
namespace {

class Cycle final : public Workload {
 public:
  Cycle(RunContext& context, const Options& options)
      : context_(context),
        nodes_(static_cast<int>(options.number("nodes", 100))),
        clients_(static_cast<int>(options.number("clients", 5))),
        rate_(options.number("transactions_per_second", 50)) {}

  Future<Void> setup() override {
    Database db = database();
    auto body = [this](Transaction& transaction) -> Future<Void> {
      for (int i = 0; i < nodes_; ++i) transaction.set(key(i), value((i + 1) % nodes_));
      co_return Void{};
    };
    co_await db.run(body);
    co_return Void{};
  }

  Future<Void> start() override {
    std::vector<Future<Void>> clients;
    for (int i = 0; i < clients_; ++i) clients.push_back(client());
    co_await when_all(std::move(clients));
    co_return Void{};
  }

  Future<std::vector<std::string>> check() override {
    std::vector<std::string> problems = problems_.list();
    Database db = database();
    std::vector<KeyValue> rows;
    auto body = [this, &rows](Transaction& transaction) -> Future<Void> {
      const KeyRange all{key(0), key(nodes_)};
      RangeResult result = co_await transaction.get_range(all, nodes_ + 1);
      rows = std::move(result.rows);
      co_return Void{};
    };
    co_await db.run(body);
    if (std::string broken = ring_problem(rows); !broken.empty()) problems.push_back(broken);
    if (committed_ == 0) problems.push_back("no transaction committed");
    TraceEvent("CycleResults").detail("Committed", committed_).detail("Retries", retries_);
    co_return problems;
  }

 private:
  Database database() const { return static_cluster_database(context_); }
  Key key(int index) const { return fmt::format("cycle/{:08d}", index); }
  Value value(int index) const { return std::to_string(index); }

  std::string ring_problem(const std::vector<KeyValue>& rows) const {
    if (static_cast<int>(rows.size()) != nodes_) return fmt::format("the ring has {} keys, not {}", rows.size(), nodes_);
    std::vector<int> next(static_cast<size_t>(nodes_));
    for (int i = 0; i < nodes_; ++i) next[static_cast<size_t>(i)] = std::stoi(rows[static_cast<size_t>(i)].value);
    int at = 0;
    for (int step = 1; step <= nodes_; ++step) {
      at = next[static_cast<size_t>(at)];
      if (at == 0 && step < nodes_) return fmt::format("the ring closed after {} of {} keys", step, nodes_);
    }
    return at == 0 ? std::string() : "the ring does not return to its start";
  }

  Future<Void> client() {
    DeterministicRandom& random = context_.simulator.random();
    Database db = database();
    while (true) {
      co_await delay(random.random_exponential(clients_ / rate_));
      const int first = static_cast<int>(random.random_int(0, nodes_));
      auto body = [this, first](Transaction& transaction) -> Future<Void> {
        // a -> b -> c -> d becomes a -> c -> b -> d.
        const int b = std::stoi((co_await transaction.get(key(first))).value());
        const int c = std::stoi((co_await transaction.get(key(b))).value());
        const int d = std::stoi((co_await transaction.get(key(c))).value());
        transaction.set(key(first), value(c));
        transaction.set(key(c), value(b));
        transaction.set(key(b), value(d));
        co_return Void{};
      };
      try {
        co_await db.run(body);
        ++committed_;
      } catch (const Error& error) {
        ++retries_;
        problems_.add(fmt::format("a cycle transaction failed with {}", error.describe()));
      }
    }
  }

  RunContext& context_;
  int nodes_, clients_;
  double rate_;
  uint64_t committed_ = 0, retries_ = 0;
  ProblemLog problems_{"CycleProblem"};
};

}  // namespace

std::unique_ptr<Workload> make_cycle(RunContext& context, const Options& options) {
  return std::make_unique<Cycle>(context, options);
}

}  // namespace keel::sim
