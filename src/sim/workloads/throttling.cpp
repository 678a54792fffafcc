// Throttling: `clients` write as fast as they can (`keys_per_transaction` values of
// `value_bytes` each per transaction; even clients blind, odd ones after a read, so both ways a
// transaction starts are admitted) while a sampler reads the cluster's status every
// `sample_seconds`. Checks: the largest MVCC window any storage server reported stayed within
// `window_max_bytes` (admission control held memory down: unthrottled, this load grows windows
// far past it), the ratekeeper limited the rate at some point (when `expect_limited`), and writes
// went on committing throughout (at least `commits_min`).
// Options: clients (8), keys (1000), keys_per_transaction (10), value_bytes (1000),
// sample_seconds (0.25), window_max_bytes (required), expect_limited (1), commits_min (100).
#include <fmt/format.h>

#include <algorithm>

#include "client/database.h"
#include "client/status.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"

namespace keel::sim {
namespace {

constexpr double status_timeout_seconds = 5;

class Throttling final : public Workload {
 public:
  Throttling(RunContext& context, const Options& options)
      : context_(context),
        clients_(static_cast<int>(options.number("clients", 8))),
        keys_(static_cast<int64_t>(options.number("keys", 1000))),
        keys_per_transaction_(static_cast<int>(options.number("keys_per_transaction", 10))),
        value_bytes_(static_cast<size_t>(options.number("value_bytes", 1000))),
        sample_seconds_(options.number("sample_seconds", 0.25)),
        window_max_bytes_(static_cast<int64_t>(options.number("window_max_bytes", 0))),
        expect_limited_(options.number("expect_limited", 1) != 0),
        commits_min_(static_cast<uint64_t>(options.number("commits_min", 100))) {}

  Future<Void> start() override {
    std::vector<Future<Void>> running;
    for (int i = 0; i < clients_; ++i) running.push_back(writer(i % 2 == 0));
    running.push_back(sampler());
    co_await when_all(std::move(running));
    co_return Void{};
  }

  Future<std::vector<std::string>> check() override {
    if (window_max_bytes_ <= 0) problems_.add("the window_max_bytes option is required");
    if (peak_window_bytes_ > window_max_bytes_) {
      problems_.add(fmt::format("a storage server's MVCC window reached {} bytes (at {:.2f} s), above {}",
                                peak_window_bytes_, peak_time_, window_max_bytes_));
    }
    if (expect_limited_ && limited_samples_ == 0) problems_.add("the ratekeeper never limited the rate");
    if (commits_ < commits_min_) problems_.add(fmt::format("only {} transactions committed", commits_));
    if (samples_ == 0) problems_.add("no status sample was taken");
    TraceEvent("ThrottlingResults")
        .detail("Commits", commits_)
        .detail("PeakWindowBytes", peak_window_bytes_)
        .detail("Samples", samples_)
        .detail("LimitedSamples", limited_samples_)
        .detail("LowestLimit", lowest_limit_);
    co_return problems_.list();
  }

 private:
  Database database() const { return static_cluster_database(context_); }

  Future<Void> writer(bool blind) {
    Database db = database();
    DeterministicRandom& random = context_.simulator.random();
    const Value value(value_bytes_, 'v');
    while (true) {
      std::vector<Key> keys;
      for (int i = 0; i < keys_per_transaction_; ++i) {
        keys.push_back(fmt::format("throttling/{:08d}", random.random_int(0, keys_)));
      }
      auto body = [&keys, &value, blind](Transaction& transaction) -> Future<Void> {
        if (!blind) co_await transaction.get(keys.front());
        for (const Key& key : keys) transaction.set(key, value);
        co_return Void{};
      };
      Future<Void> committed = db.run(body);
      co_await ready(committed);
      if (!committed.is_error()) ++commits_;
      else co_await delay(0.01);
    }
  }

  Future<Void> sampler() {
    Database db = database();
    while (true) {
      co_await delay(sample_seconds_);
      Future<ClusterStatus> asked = timeout_error(get_cluster_status(db), status_timeout_seconds);
      co_await ready(asked);
      if (asked.is_error()) continue;
      const ClusterStatus& status = asked.get();
      ++samples_;
      for (const StorageServerStatus& server : status.storage) {
        if (server.reachable && server.window_bytes > peak_window_bytes_) {
          peak_window_bytes_ = server.window_bytes;
          peak_time_ = now();
        }
      }
      if (status.rate.known && status.rate.transactions_per_second_limit >= 0) {
        ++limited_samples_;
        lowest_limit_ = limited_samples_ == 1 ? status.rate.transactions_per_second_limit
                                              : std::min(lowest_limit_, status.rate.transactions_per_second_limit);
      }
    }
  }

  RunContext& context_;
  int clients_;
  int64_t keys_;
  int keys_per_transaction_;
  size_t value_bytes_;
  double sample_seconds_;
  int64_t window_max_bytes_;
  bool expect_limited_;
  uint64_t commits_min_;
  uint64_t commits_ = 0;
  uint64_t samples_ = 0;
  uint64_t limited_samples_ = 0;
  double lowest_limit_ = 0;
  int64_t peak_window_bytes_ = 0;
  double peak_time_ = 0;
  ProblemLog problems_{"ThrottlingProblem"};
};

}  // namespace

std::unique_ptr<Workload> make_throttling(RunContext& context, const Options& options) {
  return std::make_unique<Throttling>(context, options);
}

}  // namespace keel::sim
