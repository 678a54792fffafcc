// ReadYourWrites: a transaction must read its own writes. Each transaction first reads the
// whole user keyspace at its read version (a snapshot read, so it adds no conflicts) into a
// local model, sometimes at a version set with set_read_version; then runs a random sequence of
// sets, clears, range clears, atomic operations, gets, range reads (limits, reverse, snapshot),
// get_key with key selectors (offsets either way) and range reads between selectors over a few
// keys spread over the shards, applying each write to the model too and comparing every read with the model at once;
// then commits or not. A few operations are invalid on purpose and must fail with their error,
// and so must a write after a commit that wrote, until the transaction is reset.
// The database should hold little else: the first read covers all of it.
// Options: keys (16), clients (3), transactions_per_second (20 overall), operations_max (40).
#include <fmt/format.h>

#include "client/database.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"
#include "sim/workloads/key_value_model.h"

namespace keel::sim {
namespace {

constexpr int base_page_rows = 1000;
constexpr double recent_version_seconds_max = 1.0;

// One transaction's operations against the database and the model, step by step.
struct Attempt {
  Transaction transaction;
  KeyValueModel model{"", KeyValueModel::user_keys_end};
  std::vector<std::string> log;  // what ran so far, for reports
};

class ReadYourWrites final : public Workload {
 public:
  ReadYourWrites(RunContext& context, const Options& options)
      : context_(context),
        random_(context.simulator.random()),
        keys_(static_cast<int>(options.number("keys", 16))),
        clients_(static_cast<int>(options.number("clients", 3))),
        rate_(options.number("transactions_per_second", 20)),
        operations_max_(static_cast<int>(options.number("operations_max", 40))) {}

  Future<Void> start() override {
    std::vector<Future<Void>> running;
    for (int i = 0; i < clients_; ++i) running.push_back(client());
    co_await when_all(std::move(running));
    co_return Void{};
  }

  Future<std::vector<std::string>> check() override {
    if (checked_ == 0) problems_.add("no transaction got through its operations");
    TraceEvent("ReadYourWritesResults")
        .detail("Checked", checked_)
        .detail("Reads", reads_)
        .detail("Committed", committed_)
        .detail("Failed", failed_)
        .detail("Errors", describe_tally(errors_));
    co_return problems_.list();
  }

 private:
  Database database() const { return static_cluster_database(context_); }

  void problem(const Attempt& attempt, std::string text) {
    if (problems_.full()) return;
    std::string history;
    const size_t from = attempt.log.size() > 12 ? attempt.log.size() - 12 : 0;
    for (size_t i = from; i < attempt.log.size(); ++i) history += "\n    " + attempt.log[i];
    problems_.add(text + "; the transaction so far:" + history);
  }

  // Keys to write: the workload's keys (spread over the shards) and keys just after them.
  Key random_key() {
    const int64_t index = random_.random_int(0, keys_);
    const Key key = spread_key(index, keys_, fmt::format("ryw/{:02d}", index));
    const int64_t kind = random_.random_int(0, 10);
    if (kind == 0) return key_after(key);
    if (kind == 1) return key + "x";
    return key;
  }
  // Keys to read from or to: also the start of the keyspace and bare first bytes.
  Key random_bound() {
    const int64_t kind = random_.random_int(0, 20);
    if (kind == 0) return Key();
    if (kind == 1) return Key(1, static_cast<char>(random_.random_int(spread_byte_min, spread_byte_end + 1)));
    return random_key();
  }
  KeyRange random_range() {
    Key a = random_bound();
    Key b = random_bound();
    if (b < a) std::swap(a, b);
    return KeyRange{a, b};
  }
  KeySelector random_selector() {
    Key key = random_.coin(0.03) ? Key() : random_bound();
    return KeySelector{std::move(key), random_.coin(0.5), static_cast<int32_t>(random_.random_int(-3, 5))};
  }
  int random_limit() { return random_.coin(0.5) ? static_cast<int>(random_.random_int(1, 6)) : 1000; }
  Value random_value(size_t length_max) {
    const auto length = static_cast<size_t>(random_.random_int(0, static_cast<int64_t>(length_max) + 1));
    Value value;
    for (size_t i = 0; i < length; ++i) {
      value += static_cast<char>(random_.coin(0.5) ? random_.random_int(0, 256) : 'a' + random_.random_int(0, 4));
    }
    return value;
  }

  Future<Void> read_base(Attempt& attempt) {
    KeyRange rest{"", KeyValueModel::user_keys_end};
    while (true) {
      RangeResult page = co_await attempt.transaction.get_range(rest, base_page_rows, false, true);
      for (const KeyValue& row : page.rows) attempt.model.apply(Mutation{MutationType::set_value, row.key, row.value});
      if (!page.more || page.rows.empty()) break;
      rest.begin = key_after(page.rows.back().key);
    }
    attempt.log.push_back(fmt::format("base: {} keys", attempt.model.data().size()));
    co_return Void{};
  }

  Future<Void> get(Attempt& attempt) {
    const Key key = random_bound();
    const bool snapshot = random_.coin(0.3);
    std::optional<Value> value = co_await attempt.transaction.get(key, snapshot);
    const std::optional<Value> expected = attempt.model.get(key);
    attempt.log.push_back(fmt::format("get({}) = {}", printable(key), printable(value)));
    if (value != expected) {
      problem(attempt, fmt::format("get({}) read {}, expected {}", printable(key), printable(value), printable(expected)));
    }
    co_return Void{};
  }

  // A few keys read together (Transaction::get_all), some of them twice.
  Future<Void> get_all(Attempt& attempt) {
    std::vector<Key> keys{random_bound()};
    const auto more = random_.random_int(0, 5);
    for (int64_t i = 0; i < more; ++i) keys.push_back(random_.coin(0.2) ? keys.front() : random_bound());
    const bool snapshot = random_.coin(0.3);
    const std::vector<std::optional<Value>> values = co_await attempt.transaction.get_all(keys, snapshot);
    if (values.size() != keys.size()) {
      problem(attempt, fmt::format("get_all of {} keys read {} values", keys.size(), values.size()));
      co_return Void{};
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      const std::optional<Value> expected = attempt.model.get(keys[i]);
      attempt.log.push_back(fmt::format("get_all[{}]({}) = {}", i, printable(keys[i]), printable(values[i])));
      if (values[i] != expected) {
        problem(attempt, fmt::format("get_all[{}]({}) read {}, expected {}", i, printable(keys[i]), printable(values[i]),
                                     printable(expected)));
      }
    }
    co_return Void{};
  }

  Future<Void> get_range(Attempt& attempt) {
    const KeyRange range = random_range();
    const int limit = random_limit();
    const bool reverse = random_.coin(0.4);
    const bool snapshot = random_.coin(0.3);
    RangeResult result = co_await attempt.transaction.get_range(range, limit, reverse, snapshot);
    const std::vector<KeyValue> expected = attempt.model.get_range(range, limit, reverse);
    const std::string call = fmt::format("get_range({}, {}, limit {}, {})", printable(range.begin), printable(range.end),
                                         limit, reverse ? "reverse" : "forward");
    attempt.log.push_back(fmt::format("{} = {}", call, printable(result.rows)));
    if (result.rows != expected) {
      problem(attempt, fmt::format("{} read {}, expected {}", call, printable(result.rows), printable(expected)));
    }
    const std::string more = attempt.model.more_problem(range, limit, reverse, result.rows.size(), result.more);
    if (!more.empty()) problem(attempt, fmt::format("{}: {}", call, more));
    co_return Void{};
  }

  Future<Void> get_key(Attempt& attempt) {
    const KeySelector selector = random_selector();
    const Key key = co_await attempt.transaction.get_key(selector, random_.coin(0.3));
    const KeyValueModel::Resolved expected = attempt.model.resolve(selector);
    attempt.log.push_back(fmt::format("get_key({}) = {}", describe(selector), printable(key)));
    if (!attempt.model.agrees(expected, key)) {
      problem(attempt, fmt::format("get_key({}) read {}, expected {}", describe(selector), printable(key),
                                   printable(attempt.model.edge_or_key(expected))));
    }
    co_return Void{};
  }

  Future<Void> get_range_between_selectors(Attempt& attempt) {
    const KeySelector begin = random_selector();
    const KeySelector end = random_selector();
    const int limit = random_limit();
    const bool reverse = random_.coin(0.4);
    RangeResult result = co_await attempt.transaction.get_range(begin, end, limit, reverse, random_.coin(0.3));
    const Key from = attempt.model.edge_or_key(attempt.model.resolve(begin));
    const Key to = attempt.model.edge_or_key(attempt.model.resolve(end));
    std::vector<KeyValue> expected;
    const KeyRange range{from, to};
    if (from < to) expected = attempt.model.get_range(range, limit, reverse);
    const std::string call = fmt::format("get_range({}, {}, limit {}, {})", describe(begin), describe(end), limit,
                                         reverse ? "reverse" : "forward");
    attempt.log.push_back(fmt::format("{} = {}", call, printable(result.rows)));
    if (result.rows != expected) {
      problem(attempt, fmt::format("{} read {}, expected {}", call, printable(result.rows), printable(expected)));
    }
    const std::string more = from < to ? attempt.model.more_problem(range, limit, reverse, result.rows.size(), result.more)
                                       : std::string(result.more ? "more is set for an empty range" : "");
    if (!more.empty()) problem(attempt, fmt::format("{}: {}", call, more));
    co_return Void{};
  }

  void write(Attempt& attempt) {
    Mutation mutation;
    const int64_t kind = random_.random_int(0, 10);
    if (kind < 3) {
      mutation = Mutation{MutationType::set_value, random_key(), random_value(6)};
      attempt.transaction.set(mutation.param1, mutation.param2);
    } else if (kind < 5) {
      mutation = Mutation{MutationType::clear_range, random_key(), Key()};
      mutation.param2 = key_after(mutation.param1);
      attempt.transaction.clear(mutation.param1);
    } else if (kind < 6) {
      const KeyRange range = random_range();
      mutation = Mutation{MutationType::clear_range, range.begin, range.end};
      attempt.transaction.clear_range(range);
    } else {
      const MutationType type = atomic_types[random_.random_int(0, std::size(atomic_types))];
      Value operand = random_value(4);
      const Key key = random_key();
      // compare_and_clear mostly with the value the key holds, so that it clears now and then.
      if (type == MutationType::compare_and_clear && random_.coin(0.7)) operand = attempt.model.get(key).value_or(operand);
      mutation = Mutation{type, key, operand};
      attempt.transaction.atomic_op(type, key, operand);
    }
    attempt.model.apply(mutation);
    attempt.log.push_back(describe(mutation));
  }

  // Operations that must fail: inverted ranges.
  Future<Void> invalid(Attempt& attempt) {
    const KeyRange range = random_range();
    if (range.begin == range.end) co_return Void{};
    const KeyRange inverted{range.end, range.begin};
    Error failure;
    if (random_.coin(0.5)) {
      attempt.log.push_back(fmt::format("clear_range({}, {}) inverted", printable(inverted.begin), printable(inverted.end)));
      try {
        attempt.transaction.clear_range(inverted);
      } catch (const Error& error) {
        failure = error;
      }
    } else {
      attempt.log.push_back(fmt::format("get_range({}, {}) inverted", printable(inverted.begin), printable(inverted.end)));
      Future<RangeResult> read = attempt.transaction.get_range(inverted);
      co_await ready(read);
      if (read.is_error()) failure = read.error();
    }
    if (failure.code() != errc::inverted_range) {
      problem(attempt, fmt::format("an inverted range gave {}, not inverted_range", failure.describe()));
    }
    co_return Void{};
  }

  Future<Void> step(Attempt& attempt) {
    const int64_t kind = random_.random_int(0, 100);
    if (kind < 40) {
      write(attempt);
      co_return Void{};
    }
    ++reads_;
    if (kind < 50) co_await get(attempt);
    else if (kind < 55) co_await get_all(attempt);
    else if (kind < 75) co_await get_range(attempt);
    else if (kind < 87) co_await get_key(attempt);
    else if (kind < 98) co_await get_range_between_selectors(attempt);
    else co_await invalid(attempt);
    co_return Void{};
  }

  Future<Void> run_one(Attempt& attempt) {
    if (recent_version_ != invalid_version && now() - recent_time_ < recent_version_seconds_max && random_.coin(0.3)) {
      attempt.transaction.set_read_version(recent_version_);
      attempt.log.push_back(fmt::format("set_read_version({})", recent_version_));
    }
    co_await read_base(attempt);
    const Version read_version = co_await attempt.transaction.get_read_version();
    if (now() - recent_time_ >= recent_version_seconds_max) {
      recent_version_ = read_version;
      recent_time_ = now();
    }
    const auto operations = random_.random_int(1, operations_max_ + 1);
    for (int64_t i = 0; i < operations; ++i) co_await step(attempt);
    ++checked_;
    if (random_.coin(0.5)) {
      Future<Version> committed = attempt.transaction.commit();
      co_await committed;
      ++committed_;
      if (committed.get() != invalid_version) check_writes_handed_over(attempt);
    }
    co_return Void{};
  }

  // A commit that wrote took the transaction's writes: writing again must fail until reset().
  void check_writes_handed_over(Attempt& attempt) {
    const Key key = random_key();
    Error failure;
    try {
      attempt.transaction.set(key, "after commit");
    } catch (const Error& error) {
      failure = error;
    }
    if (failure.code() != errc::transaction_committed) {
      problem(attempt, fmt::format("a write after the commit gave {}, not transaction_committed", failure.describe()));
    }
    attempt.transaction.reset();
    attempt.transaction.set(key, "after reset");  // throws, failing the workload, if still closed
    attempt.transaction.reset();
  }

  Future<Void> client() {
    Database db = database();
    while (true) {
      co_await delay(random_.random_exponential(clients_ / rate_));
      Attempt attempt{db.create_transaction()};
      Future<Void> ran = run_one(attempt);
      co_await ready(ran);
      if (!ran.is_error()) continue;
      ++failed_;
      ++errors_[std::string(ran.error().name())];
      if (!ran.error().is_retryable()) problem(attempt, fmt::format("a transaction failed with {}", ran.error().describe()));
    }
  }

  RunContext& context_;
  DeterministicRandom& random_;
  int keys_, clients_;
  double rate_;
  int operations_max_;
  Version recent_version_ = invalid_version;
  double recent_time_ = 0;
  uint64_t checked_ = 0, reads_ = 0, committed_ = 0, failed_ = 0;
  std::map<std::string, uint64_t> errors_;
  ProblemLog problems_{"ReadYourWritesProblem"};
};

}  // namespace

std::unique_ptr<Workload> make_read_your_writes(RunContext& context, const Options& options) {
  return std::make_unique<ReadYourWrites>(context, options);
}

}  // namespace keel::sim
