// Watches: watchers read a key, watch it and commit; writers give keys new, never repeated
// values. Checked while the faults run:
// - a watch fires only after its key changed: right after it fires, the key's value differs
//   from the one the watcher read (values never repeat, so a change cannot be undone);
// - a watch fires promptly: one still waiting `fire_within_seconds` after an acknowledged write
//   of a different value committed after its start is a problem;
// - a watch of a transaction reset before commit fails with transaction_cancelled;
// - a watch fails otherwise only with transaction_too_old (its start left the window during an
//   outage, client/watch.h), counted among the errors.
// Options: watchers (4), writers (2), keys (10), writes_per_second (5), fire_within_seconds (20).
#include <fmt/format.h>

#include "client/database.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/key_value_model.h"
#include "sim/workloads/workload_support.h"

namespace keel::sim {
namespace {

struct AcknowledgedWrite {
  Version version;
  Value value;
  double time;
};

class Watches final : public Workload {
 public:
  Watches(RunContext& context, const Options& options)
      : context_(context),
        watchers_(static_cast<int>(options.number("watchers", 4))),
        writers_(static_cast<int>(options.number("writers", 2))),
        keys_(options.number("keys", 10)),
        write_rate_(options.number("writes_per_second", 5)),
        fire_within_(options.number("fire_within_seconds", 20)) {}

  Future<Void> start() override {
    std::vector<Future<Void>> running;
    for (int i = 0; i < watchers_; ++i) running.push_back(watcher());
    for (int i = 0; i < writers_; ++i) running.push_back(writer(i));
    running.push_back(canceller());
    co_await when_all(std::move(running));
    co_return Void{};
  }

  Future<std::vector<std::string>> check() override {
    if (fired_ == 0) problem("no watch fired");
    TraceEvent("WatchesResults")
        .detail("Fired", fired_)
        .detail("Started", started_)
        .detail("Writes", writes_)
        .detail("Cancelled", cancelled_)
        .detail("Errors", describe_tally(errors_));
    co_return problems_.list();
  }

 private:
  Database database() const { return static_cluster_database(context_); }
  void problem(std::string text) { problems_.add(std::move(text)); }

  Key key(int64_t index) const { return spread_key(index, keys_, fmt::format("watch/{:04d}", index)); }
  Key random_key() { return key(context_.simulator.random().random_int(0, keys_)); }

  Future<Void> writer(int client) {
    DeterministicRandom& random = context_.simulator.random();
    Database db = database();
    uint64_t next = 0;
    while (true) {
      co_await delay(random.random_exponential(writers_ / write_rate_));
      const Key written = random_key();
      const Value value = fmt::format("{}/{}", client, next++);
      Transaction transaction = db.create_transaction();
      transaction.set(written, value);
      Future<Version> committed = transaction.commit();
      co_await ready(committed);
      if (committed.is_error()) {
        ++errors_[std::string(committed.error().name())];
        continue;
      }
      ++writes_;
      acknowledged_[written].push_back(AcknowledgedWrite{committed.get(), value, now()});
    }
  }

  // Reads a key, watches it, waits for the watch, then checks it fired for a reason.
  Future<Void> watcher() {
    Database db = database();
    while (true) {
      const Key watched = random_key();
      Transaction transaction = db.create_transaction();
      std::optional<Future<Void>> fired;
      std::optional<Value> seen;
      Version start = 0;
      bool failed = false;
      try {
        seen = co_await transaction.get(watched);
        fired = transaction.watch(watched);
        Future<Version> committed = transaction.commit();
        co_await committed;
        start = co_await transaction.get_read_version();
      } catch (const Error& error) {
        ++errors_[std::string(error.name())];
        failed = true;
      }
      if (failed) {
        co_await delay(0.1);
        continue;
      }
      ++started_;
      const double began = now();
      bool watch_failed = false;
      while (true) {
        Future<std::optional<Void>> waited = timeout(*fired, 1.0);
        co_await ready(waited);
        if (waited.is_error()) {
          // Documented (client/watch.h): the start fell out of the window during an outage.
          if (waited.error().code() != errc::transaction_too_old) throw waited.error();
          ++errors_[std::string(waited.error().name())];
          watch_failed = true;
          break;
        }
        if (waited.get()) break;
        const AcknowledgedWrite* missed = first_change(watched, seen, start);
        if (missed != nullptr && now() - std::max(began, missed->time) > fire_within_) {
          problem(fmt::format("watch of {} (value {}, version {}) did not fire {} s after the write of {} at version {}",
                              printable(watched), printable(seen), start, fire_within_,
                              printable(missed->value), missed->version));
          break;
        }
      }
      if (watch_failed) continue;
      Future<std::optional<Value>> now_value = read_now(db, watched);
      co_await ready(now_value);
      if (now_value.is_error()) continue;
      ++fired_;
      if (now_value.get() == seen) {
        problem(fmt::format("watch of {} fired but the key still holds {}", printable(watched), printable(seen)));
      }
    }
  }

  // The first acknowledged write of `watched` after `start` that changed it from `seen`.
  const AcknowledgedWrite* first_change(const Key& watched, const std::optional<Value>& seen, Version start) const {
    auto it = acknowledged_.find(watched);
    if (it == acknowledged_.end()) return nullptr;
    for (const AcknowledgedWrite& write : it->second) {
      if (write.version > start && (!seen || write.value != *seen)) return &write;
    }
    return nullptr;
  }

  static Future<std::optional<Value>> read_now(Database db, Key key) {
    std::optional<Value> value;
    auto body = [&key, &value](Transaction& transaction) -> Future<Void> {
      value = co_await transaction.get(key);
      co_return Void{};
    };
    co_await db.run(body);
    co_return value;
  }

  // A watch whose transaction is reset before it commits fails with transaction_cancelled.
  Future<Void> canceller() {
    DeterministicRandom& random = context_.simulator.random();
    Database db = database();
    while (true) {
      co_await delay(random.random_exponential(1.0));
      Transaction transaction = db.create_transaction();
      Future<Void> fired = transaction.watch(random_key());
      transaction.reset();
      co_await ready(fired);
      if (!fired.is_error() || fired.error().code() != errc::transaction_cancelled) {
        problem(fmt::format("a watch of a reset transaction ended with {}",
                            fired.is_error() ? fired.error().describe() : "success"));
      }
      ++cancelled_;
    }
  }

  RunContext& context_;
  int watchers_;
  int writers_;
  int64_t keys_;
  double write_rate_;
  double fire_within_;
  std::map<Key, std::vector<AcknowledgedWrite>> acknowledged_;
  uint64_t fired_ = 0, started_ = 0, writes_ = 0, cancelled_ = 0;
  std::map<std::string, uint64_t> errors_;
  ProblemLog problems_{"WatchesProblem"};
};

}  // namespace

std::unique_ptr<Workload> make_watches(RunContext& context, const Options& options) {
  return std::make_unique<Watches>(context, options);
}

}  // namespace keel::sim
