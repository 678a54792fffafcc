// Serializability: clients run random transactions of point reads, range reads (limits,
// reverse), key selectors, sets, clears, range clears and atomic operations over a few keys,
// and record every operation in order with what each read returned, the read version, the
// commit version and batch index (from the versionstamp), and when it started and was
// acknowledged. Each transaction that writes also writes a marker key holding its versionstamp,
// so that the check learns whether a transaction whose outcome was unknown (commit_unknown_result,
// or cut short at the end of the fault phase) committed, and at which version. Any other commit
// error means not committed, and the check holds the client to that.
//
// The check reads every marker and the data keys in one transaction, then replays every
// committed transaction in (commit version, batch index) order against an in-memory model and
// requires:
// - every read of every committed transaction (read-only ones too) to equal the model at its
//   read version overlaid with the transaction's own earlier writes (its operations replayed on
//   a copy of the model);
// - every non-snapshot read of a committed writing transaction to equal the same replay just
//   before its commit (what conflict detection promises: serializable in commit order);
// - acknowledged commits to have their markers, failed ones none, every marker to be known;
// - real-time order: a transaction that started after another was acknowledged reads at or
//   above its commit version;
// - the data read by the check itself (recorded as one more read-only transaction).
// The workload assumes nothing else writes keys with first bytes 0x21..0xdf or under
// "\xf0ser_marker/".
// Options: keys (12), clients (4), transactions_per_second (40 overall), operations_max (8),
// read_only_probability (0.25).
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "client/database.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/workload_support.h"
#include "sim/workloads/key_value_model.h"

namespace keel::sim {
namespace {

// The data keys are spread over the shards (first bytes 0x21..0xdf); the markers lie above.
const Key data_begin(1, static_cast<char>(spread_byte_min));
const Key data_end(1, static_cast<char>(spread_byte_end));
const Key marker_begin = "\xf0ser_marker/";
const Key marker_end = "\xf0ser_marker0";

enum class OperationKind { get, get_range, get_key, write };

// One operation of a transaction and, for a read, what it returned.
struct Operation {
  OperationKind kind = OperationKind::write;
  bool snapshot = false;
  Key key;                 // get
  KeyRange range;          // get_range
  int limit = 0;
  bool reverse = false;
  KeySelector selector;    // get_key
  Mutation mutation;       // write
  std::optional<Value> value;   // get's result
  std::vector<KeyValue> rows;   // get_range's result
  bool more = false;
  Key found;                    // get_key's result
};

enum class Fate { read_only, acknowledged, failed, unknown, committed_unacknowledged };

struct Record {
  int client = 0;
  uint64_t number = 0;
  std::vector<Operation> operations;
  bool writes = false;
  Fate fate = Fate::unknown;
  Version read_version = invalid_version;
  Version commit_version = invalid_version;
  uint16_t batch_index = 0;
  double started = 0;
  double acknowledged = 0;
};

Key marker_key(int client, uint64_t number) { return fmt::format("{}{:03d}/{:08d}", marker_begin, client, number); }

// A set_versionstamped_value of the 10-byte versionstamp at offset 0.
Value marker_placeholder() { return std::string(versionstamp_bytes, '\0') + std::string(4, '\0'); }

std::pair<Version, uint16_t> decode_versionstamp(const std::string& stamp) {
  uint64_t version = 0;
  for (size_t i = 0; i < 8; ++i) version = (version << 8) | static_cast<unsigned char>(stamp[i]);
  const auto high = static_cast<unsigned char>(stamp[8]);
  const auto low = static_cast<unsigned char>(stamp[9]);
  const auto batch = static_cast<uint16_t>((high << 8) | low);
  return {static_cast<Version>(version), batch};
}

std::string describe_operation(const Operation& operation) {
  switch (operation.kind) {
    case OperationKind::get:
      return fmt::format("get({}){} = {}", printable(operation.key), operation.snapshot ? " snapshot" : "",
                         printable(operation.value));
    case OperationKind::get_range:
      return fmt::format("get_range({}, {}, limit {}, {}){} = {}", printable(operation.range.begin),
                         printable(operation.range.end), operation.limit, operation.reverse ? "reverse" : "forward",
                         operation.snapshot ? " snapshot" : "", printable(operation.rows)) +
             (operation.more ? " (more)" : "");
    case OperationKind::get_key:
      return fmt::format("get_key({}){} = {}", describe(operation.selector), operation.snapshot ? " snapshot" : "",
                         printable(operation.found));
    case OperationKind::write:
      return describe(operation.mutation);
  }
  return "?";
}

std::string describe_record(const Record& record) {
  std::string text = fmt::format("transaction {}/{} (read version {}, commit version {}.{}, started {:.6f}, "
                                 "acknowledged {:.6f}):",
                                 record.client, record.number, record.read_version, record.commit_version,
                                 record.batch_index, record.started, record.acknowledged);
  for (const Operation& operation : record.operations) text += "\n    " + describe_operation(operation);
  return text;
}

// Replays `record`'s operations on `model` (a copy); returns the first read that disagrees
// (skipping snapshot reads when `conflict_checked_only`), or an empty string.
std::string replay(const Record& record, KeyValueModel model, bool conflict_checked_only) {
  for (size_t i = 0; i < record.operations.size(); ++i) {
    const Operation& operation = record.operations[i];
    const bool checked = !(conflict_checked_only && operation.snapshot);
    std::string expected;
    switch (operation.kind) {
      case OperationKind::write:
        model.apply(operation.mutation);
        break;
      case OperationKind::get:
        if (checked && model.get(operation.key) != operation.value) expected = printable(model.get(operation.key));
        break;
      case OperationKind::get_range: {
        std::vector<KeyValue> rows = model.get_range(operation.range, operation.limit, operation.reverse);
        if (checked && rows != operation.rows) expected = printable(rows);
        const std::string more =
            model.more_problem(operation.range, operation.limit, operation.reverse, operation.rows.size(), operation.more);
        // Whether rows lie beyond a read that stopped at its limit is not protected by its
        // conflict range: `more` is checked at the read version only.
        if (!conflict_checked_only && expected.empty() && !more.empty()) expected = "the same rows, but " + more;
        break;
      }
      case OperationKind::get_key: {
        const KeyValueModel::Resolved resolved = model.resolve(operation.selector);
        if (checked && !model.agrees(resolved, operation.found)) {
          expected = resolved.side == KeyValueModel::Side::inside ? printable(resolved.key)
                     : resolved.side == KeyValueModel::Side::before ? "a key before the window" : "a key after the window";
        }
        break;
      }
    }
    if (!expected.empty()) {
      return fmt::format("operation {} ({}) should have read {}", i, describe_operation(operation), expected);
    }
  }
  return std::string();
}

bool commit_order(const Record* a, const Record* b) {
  return std::pair(a->commit_version, a->batch_index) < std::pair(b->commit_version, b->batch_index);
}

class Serializability final : public Workload {
 public:
  Serializability(RunContext& context, const Options& options)
      : context_(context),
        random_(context.simulator.random()),
        keys_(static_cast<int>(options.number("keys", 12))),
        clients_(static_cast<int>(options.number("clients", 4))),
        rate_(options.number("transactions_per_second", 40)),
        operations_max_(static_cast<int>(options.number("operations_max", 8))),
        read_only_probability_(options.number("read_only_probability", 0.25)) {}

  Future<Void> start() override {
    std::vector<Future<Void>> running;
    for (int i = 0; i < clients_; ++i) running.push_back(client(i));
    co_await when_all(std::move(running));
    co_return Void{};
  }

  Future<std::vector<std::string>> check() override {
    Database db = database();
    std::vector<KeyValue> markers;
    Record final_read;
    final_read.client = -1;
    auto body = [&markers, &final_read](Transaction& transaction) -> Future<Void> {
      final_read.started = now();
      markers.clear();
      KeyRange rest{marker_begin, marker_end};
      while (true) {
        RangeResult page = co_await transaction.get_range(rest, check_page_rows);
        for (KeyValue& row : page.rows) markers.push_back(std::move(row));
        if (!page.more || markers.empty()) break;
        rest.begin = key_after(markers.back().key);
      }
      Operation read;
      read.kind = OperationKind::get_range;
      read.range = KeyRange{data_begin, data_end};
      read.limit = 1'000'000;
      read.rows = (co_await transaction.get_range(read.range, read.limit)).rows;
      final_read.operations = {read};
      final_read.read_version = co_await transaction.get_read_version();
      co_return Void{};
    };
    co_await db.run(body);
    final_read.fate = Fate::read_only;
    records_.push_back(final_read);
    settle_with_markers(markers);
    verify();
    TraceEvent("SerializabilityResults")
        .detail("Transactions", records_.size())
        .detail("Committed", committed_)
        .detail("ReadOnly", read_only_)
        .detail("Failed", failed_)
        .detail("Unknown", unknown_)
        .detail("UnknownCommitted", unknown_committed_)
        .detail("Errors", describe_tally(errors_));
    co_return problems_.list();
  }

 private:
  Database database() const { return static_cluster_database(context_); }

  void problem(std::string text) { problems_.add(std::move(text)); }

  Key random_key() {
    const int64_t index = random_.random_int(0, keys_);
    const Key key = spread_key(index, keys_, fmt::format("ser/{:02d}", index));
    return random_.coin(0.1) ? key_after(key) : key;
  }
  Key random_bound() {
    const int64_t kind = random_.random_int(0, 20);
    if (kind == 0) return data_begin;
    if (kind == 1) return data_end;
    return random_key();
  }
  Value random_value(size_t length_max) {
    const auto length = static_cast<size_t>(random_.random_int(0, static_cast<int64_t>(length_max) + 1));
    Value value;
    for (size_t i = 0; i < length; ++i) {
      value += static_cast<char>(random_.coin(0.5) ? random_.random_int(0, 256) : 'a' + random_.random_int(0, 4));
    }
    return value;
  }

  Operation random_get() {
    Operation operation;
    operation.snapshot = random_.coin(0.2);
    operation.kind = OperationKind::get;
    operation.key = random_bound();
    return operation;
  }

  Operation random_read() {
    const int64_t kind = random_.random_int(0, 10);
    if (kind < 4) return random_get();
    Operation operation;
    operation.snapshot = random_.coin(0.2);
    if (kind < 8) {
      operation.kind = OperationKind::get_range;
      Key a = random_bound();
      Key b = random_bound();
      if (b < a) std::swap(a, b);
      operation.range = KeyRange{a, b};
      operation.limit = random_.coin(0.5) ? static_cast<int>(random_.random_int(1, 5)) : 1000;
      operation.reverse = random_.coin(0.4);
    } else {
      operation.kind = OperationKind::get_key;
      operation.selector = KeySelector{random_bound(), random_.coin(0.5), static_cast<int32_t>(random_.random_int(-2, 4))};
    }
    return operation;
  }

  Operation random_write() {
    Operation operation;
    const int64_t kind = random_.random_int(0, 10);
    if (kind < 3) {
      operation.mutation = Mutation{MutationType::set_value, random_key(), random_value(6)};
    } else if (kind < 4) {
      const Key key = random_key();
      operation.mutation = Mutation{MutationType::clear_range, key, key_after(key)};
    } else if (kind < 5) {
      Key a = random_bound();
      Key b = random_bound();
      if (b < a) std::swap(a, b);
      operation.mutation = Mutation{MutationType::clear_range, a, b};
    } else {
      const MutationType type = atomic_types[random_.random_int(0, static_cast<int64_t>(std::size(atomic_types)))];
      operation.mutation = Mutation{type, random_key(), random_value(4)};
    }
    return operation;
  }

  // Runs `operation` in `transaction`, recording what a read returned.
  Future<Void> perform(Transaction& transaction, Operation& operation) {
    switch (operation.kind) {
      case OperationKind::get:
        operation.value = co_await transaction.get(operation.key, operation.snapshot);
        break;
      case OperationKind::get_range: {
        RangeResult result =
            co_await transaction.get_range(operation.range, operation.limit, operation.reverse, operation.snapshot);
        operation.rows = std::move(result.rows);
        operation.more = result.more;
        break;
      }
      case OperationKind::get_key:
        operation.found = co_await transaction.get_key(operation.selector, operation.snapshot);
        break;
      case OperationKind::write: {
        const Mutation& mutation = operation.mutation;
        if (mutation.type == MutationType::set_value) {
          transaction.set(mutation.param1, mutation.param2);
        } else if (mutation.type == MutationType::clear_range) {
          transaction.clear_range(KeyRange{mutation.param1, mutation.param2});
        } else {
          transaction.atomic_op(mutation.type, mutation.param1, mutation.param2);
        }
        break;
      }
    }
    co_return Void{};
  }

  // Runs point reads all asked before any is awaited (the client batches them into one request
  // per shard: client/value_reads.h).
  Future<Void> perform_gets(Transaction& transaction, std::vector<Operation>& gets) {
    std::vector<Future<std::optional<Value>>> values;
    for (const Operation& get : gets) values.push_back(transaction.get(get.key, get.snapshot));
    for (size_t i = 0; i < gets.size(); ++i) gets[i].value = co_await values[i];
    co_return Void{};
  }

  // Runs one random transaction; records it (before its commit is sent, if it writes).
  Future<Void> run_one(int client, uint64_t number, Transaction& transaction) {
    Record record;
    record.client = client;
    record.number = number;
    record.started = now();
    const bool read_only = random_.coin(read_only_probability_);
    const auto count = random_.random_int(1, operations_max_ + 1);
    for (int64_t i = 0; i < count; ++i) {
      Operation operation = read_only || random_.coin(0.5) ? random_read() : random_write();
      record.writes = record.writes || operation.kind == OperationKind::write;
      if (operation.kind == OperationKind::get && random_.coin(0.5)) {
        std::vector<Operation> gets{std::move(operation)};
        while (i + 1 < count && random_.coin(0.7)) {
          ++i;
          gets.push_back(random_get());
        }
        co_await perform_gets(transaction, gets);
        for (Operation& get : gets) record.operations.push_back(std::move(get));
        continue;
      }
      co_await perform(transaction, operation);
      record.operations.push_back(std::move(operation));
    }
    record.read_version = co_await transaction.get_read_version();
    if (!record.writes) {
      Future<Version> committed = transaction.commit();
      co_await committed;
      record.fate = Fate::read_only;
      record.acknowledged = now();
      records_.push_back(std::move(record));
      co_return Void{};
    }
    transaction.atomic_op(MutationType::set_versionstamped_value, marker_key(client, number), marker_placeholder());
    const size_t index = records_.size();
    records_.push_back(std::move(record));  // unknown until the commit's outcome is
    Future<Version> committed = transaction.commit();
    co_await ready(committed);
    Record& sent = records_[index];
    if (committed.is_error()) {
      const int code = committed.error().code();
      // The client's contract: every commit error but commit_unknown_result means not committed.
      sent.fate = code == errc::commit_unknown_result ? Fate::unknown : Fate::failed;
      throw committed.error();
    }
    Future<std::string> stamped = transaction.get_versionstamp();
    const std::pair<Version, uint16_t> stamp = decode_versionstamp(co_await stamped);
    Record& acknowledged = records_[index];
    acknowledged.fate = Fate::acknowledged;
    acknowledged.acknowledged = now();
    acknowledged.commit_version = committed.get();
    acknowledged.batch_index = stamp.second;
    if (stamp.first != acknowledged.commit_version) problem("a versionstamp disagrees with its commit version");
    co_return Void{};
  }

  Future<Void> client(int client) {
    Database db = database();
    uint64_t number = 0;
    while (true) {
      co_await delay(random_.random_exponential(clients_ / rate_));
      Transaction transaction = db.create_transaction();
      Future<Void> ran = run_one(client, number++, transaction);
      co_await ready(ran);
      if (ran.is_error()) ++errors_[std::string(ran.error().name())];
      if (ran.is_error() && !ran.error().is_retryable()) {
        problem(fmt::format("a transaction failed with {}", ran.error().describe()));
      }
    }
  }

  // Learns from the markers which transactions committed, and at which version.
  void settle_with_markers(const std::vector<KeyValue>& markers) {
    std::map<Key, std::pair<Version, uint16_t>> stamps;
    for (const KeyValue& marker : markers) {
      if (marker.value.size() != versionstamp_bytes) {
        problem(fmt::format("marker {} holds {}", printable(marker.key), printable(marker.value)));
      } else {
        stamps[marker.key] = decode_versionstamp(marker.value);
      }
    }
    for (Record& record : records_) {
      if (!record.writes) {
        if (record.fate == Fate::read_only) ++read_only_;
        continue;
      }
      auto it = stamps.find(marker_key(record.client, record.number));
      const bool found = it != stamps.end();
      if (record.fate == Fate::acknowledged) {
        ++committed_;
        if (!found) problem(fmt::format("the marker of acknowledged {} is missing", describe_record(record)));
        else if (it->second != std::pair(record.commit_version, record.batch_index)) {
          problem(fmt::format("the marker of {} holds version {}.{}", describe_record(record), it->second.first,
                              it->second.second));
        }
      } else if (record.fate == Fate::failed) {
        ++failed_;
        if (found) problem(fmt::format("the marker of failed {} is present", describe_record(record)));
      } else if (found) {
        ++unknown_;
        ++unknown_committed_;
        record.fate = Fate::committed_unacknowledged;
        record.commit_version = it->second.first;
        record.batch_index = it->second.second;
      } else {
        ++unknown_;
      }
      if (found) stamps.erase(it);
    }
    for (const auto& [key, stamp] : stamps) problem(fmt::format("marker {} belongs to no transaction", printable(key)));
  }

  void verify() {
    std::vector<const Record*> commits;
    std::vector<const Record*> reads;  // every transaction whose reads count
    for (const Record& record : records_) {
      const bool committed = record.fate == Fate::acknowledged || record.fate == Fate::committed_unacknowledged;
      if (committed) commits.push_back(&record);
      if (committed || record.fate == Fate::read_only) reads.push_back(&record);
    }
    std::sort(commits.begin(), commits.end(), commit_order);
    std::stable_sort(reads.begin(), reads.end(),
                     [](const Record* a, const Record* b) { return a->read_version < b->read_version; });
    verify_versions(commits);
    verify_reads(commits, reads);
    verify_real_time(reads);
  }

  void verify_versions(const std::vector<const Record*>& commits) {
    for (size_t i = 0; i < commits.size(); ++i) {
      const Record& record = *commits[i];
      if (record.read_version >= record.commit_version) {
        problem(fmt::format("{} commits at or below its read version", describe_record(record)));
      }
      if (i > 0 && !commit_order(commits[i - 1], commits[i])) {
        problem(fmt::format("{} and {} share a commit version and batch index", describe_record(*commits[i - 1]),
                            describe_record(record)));
      }
    }
  }

  // Sweeps commits in order; every transaction's reads are checked once the model reaches its
  // read version, and every commit's reads again just before it applies.
  void verify_reads(const std::vector<const Record*>& commits, const std::vector<const Record*>& reads) {
    KeyValueModel model(data_begin, data_end);
    size_t next_commit = 0;
    auto apply_commit = [&] {
      const Record& record = *commits[next_commit++];
      if (std::string wrong = replay(record, model, true); !wrong.empty()) {
        problem(fmt::format("not serializable: at its commit, {}; {}", wrong, describe_record(record)));
      }
      for (const Operation& operation : record.operations) {
        if (operation.kind == OperationKind::write) model.apply(operation.mutation);
      }
    };
    for (const Record* record : reads) {
      while (next_commit < commits.size() && commits[next_commit]->commit_version <= record->read_version) apply_commit();
      if (std::string wrong = replay(*record, model, false); !wrong.empty()) {
        problem(fmt::format("wrong read: at its read version, {}; {}", wrong, describe_record(*record)));
      }
    }
    while (next_commit < commits.size()) apply_commit();
  }

  // A transaction that started after a commit was acknowledged must read at or above it.
  void verify_real_time(const std::vector<const Record*>& reads) {
    std::vector<const Record*> acknowledged;
    for (const Record& record : records_) {
      if (record.fate == Fate::acknowledged) acknowledged.push_back(&record);
    }
    std::sort(acknowledged.begin(), acknowledged.end(),
              [](const Record* a, const Record* b) { return a->acknowledged < b->acknowledged; });
    std::vector<const Record*> newest;  // newest[i]: the highest commit among acknowledged[0..i]
    for (const Record* record : acknowledged) {
      newest.push_back(newest.empty() || newest.back()->commit_version < record->commit_version ? record : newest.back());
    }
    for (const Record* record : reads) {
      auto after = std::lower_bound(acknowledged.begin(), acknowledged.end(), record->started,
                                    [](const Record* a, double started) { return a->acknowledged < started; });
      if (after == acknowledged.begin()) continue;
      const Record& before = *newest[static_cast<size_t>(after - acknowledged.begin()) - 1];
      if (record->read_version < before.commit_version) {
        problem(fmt::format("real-time order: {} read below {}, acknowledged before it started", describe_record(*record),
                            describe_record(before)));
      }
    }
  }

  RunContext& context_;
  DeterministicRandom& random_;
  int keys_, clients_;
  double rate_;
  int operations_max_;
  double read_only_probability_;
  std::vector<Record> records_;
  uint64_t committed_ = 0, read_only_ = 0, failed_ = 0, unknown_ = 0, unknown_committed_ = 0;
  std::map<std::string, uint64_t> errors_;
  ProblemLog problems_{"SerializabilityProblem"};
};

}  // namespace

std::unique_ptr<Workload> make_serializability(RunContext& context, const Options& options) {
  return std::make_unique<Serializability>(context, options);
}

}  // namespace keel::sim
