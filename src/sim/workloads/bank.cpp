// Bank: `accounts` accounts start with `initial_balance` each. Transfer clients move a random
// amount (never more than the source holds) between two random accounts, reading both and
// writing both; auditor clients read every account in one range read and require the total to
// equal the initial total, the number of accounts to stay `accounts` and no balance to be
// negative. The check audits once more after the faults stopped. Accounts are spread over the
// keyspace (first bytes 0x21..0xdf): nothing else may write between the first and the last. Lost updates, torn commits,
// reads at mixed versions and non-serializable interleavings all show up as a wrong total.
// Options: accounts (20), initial_balance (1000), clients (4), transactions_per_second (40
// overall), auditors (2), audits_per_second (4 overall), read_seconds_max (0: no check): with
// storage replication, no storage read may find every server of its shard unreachable, nor take
// longer than this to succeed (failing over within the team included); so reads do not wait
// for a dead storage server whose shards have live replicas.
#include <fmt/format.h>

#include <algorithm>

#include "client/database.h"
#include "client/database_state.h"
#include "runtime/combinators.h"
#include "runtime/trace.h"
#include "sim/workload.h"
#include "sim/workloads/bank_ledger.h"
#include "sim/workloads/workload_support.h"
#include "sim/workloads/key_value_model.h"

namespace keel::sim {
namespace {


// Adds a database's storage read statistics to a total when it goes out of scope (the clients
// run until the fault phase cancels them).
class ReadStatsAdder {
 public:
  ReadStatsAdder(Database database, StorageReadStats* total) : database_(std::move(database)), total_(total) {}
  ReadStatsAdder(const ReadStatsAdder&) = delete;
  ReadStatsAdder& operator=(const ReadStatsAdder&) = delete;
  ~ReadStatsAdder() {
    const StorageReadStats& stats = database_.state()->storage_reads;
    total_->reads += stats.reads;
    total_->failovers += stats.failovers;
    total_->unreachable += stats.unreachable;
    total_->slowest_seconds = std::max(total_->slowest_seconds, stats.slowest_seconds);
  }

 private:
  Database database_;
  StorageReadStats* total_;
};

class Bank final : public Workload {
 public:
  Bank(RunContext& context, const Options& options)
      : context_(context),
        ledger_(static_cast<int>(options.number("accounts", 20)),
                static_cast<int64_t>(options.number("initial_balance", 1000)),
                [this](std::string text) { problem(std::move(text)); }),
        accounts_(ledger_.accounts()),
        clients_(static_cast<int>(options.number("clients", 4))),
        rate_(options.number("transactions_per_second", 40)),
        auditors_(static_cast<int>(options.number("auditors", 2))),
        audit_rate_(options.number("audits_per_second", 4)),
        read_seconds_max_(options.number("read_seconds_max", 0)) {}

  Future<Void> setup() override {
    Database db = database();
    auto body = [this](Transaction& transaction) -> Future<Void> {
      for (int i = 0; i < accounts_; ++i) transaction.set(ledger_.key(i), std::to_string(ledger_.initial_balance()));
      co_return Void{};
    };
    co_await db.run(body);
    co_return Void{};
  }

  Future<Void> start() override {
    std::vector<Future<Void>> running;
    for (int i = 0; i < clients_; ++i) running.push_back(transfer_client());
    for (int i = 0; i < auditors_; ++i) running.push_back(audit_client());
    co_await when_all(std::move(running));
    co_return Void{};
  }

  Future<std::vector<std::string>> check() override {
    Database db = database();
    std::vector<KeyValue> rows;
    auto body = [this, &rows](Transaction& transaction) -> Future<Void> {
      const KeyRange all = ledger_.all_accounts();
      RangeResult result = co_await transaction.get_range(all, accounts_ + 1);
      rows = std::move(result.rows);
      co_return Void{};
    };
    co_await db.run(body);
    ledger_.audit(rows, "the final audit");
    if (transfers_ == 0) problem("no transfer committed");
    if (audits_ == 0 && auditors_ > 0) problem("no audit finished");
    const StorageReadStats& reads = client_reads_;
    if (read_seconds_max_ > 0) check_reads(reads);
    TraceEvent("BankResults")
        .detail("Transfers", transfers_)
        .detail("Audits", audits_)
        .detail("Attempts", attempts_)
        .detail("StorageReads", reads.reads)
        .detail("Failovers", reads.failovers)
        .detail("Unreachable", reads.unreachable)
        .detail("SlowestReadSeconds", reads.slowest_seconds);
    co_return problems_.list();
  }

 private:
  Database database() const { return static_cluster_database(context_); }
  void problem(std::string text) { problems_.add(std::move(text)); }

  void check_reads(const StorageReadStats& reads) {
    if (reads.unreachable > 0) {
      problem(fmt::format("{} storage reads found every server of their shard unreachable", reads.unreachable));
    }
    if (reads.slowest_seconds > read_seconds_max_) {
      problem(fmt::format("a storage read took {:.2f} s, more than {} s", reads.slowest_seconds, read_seconds_max_));
    }
  }

  Future<Void> transfer_client() {
    DeterministicRandom& random = context_.simulator.random();
    Database db = database();
    const ReadStatsAdder counted(db, &client_reads_);
    while (true) {
      co_await delay(random.random_exponential(clients_ / rate_));
      const int from = static_cast<int>(random.random_int(0, accounts_));
      int to = static_cast<int>(random.random_int(0, accounts_ - 1));
      if (to >= from) ++to;
      const double fraction = random.random01();
      auto body = [this, from, to, fraction](Transaction& transaction) -> Future<Void> {
        ++attempts_;
        return ledger_.transfer(transaction, from, to, fraction);
      };
      try {
        co_await db.run(body);
        ++transfers_;
      } catch (const Error& error) {
        problem(fmt::format("a transfer failed with {}", error.describe()));
      }
    }
  }

  Future<Void> audit_client() {
    DeterministicRandom& random = context_.simulator.random();
    Database db = database();
    const ReadStatsAdder counted(db, &client_reads_);
    while (true) {
      co_await delay(random.random_exponential(auditors_ / audit_rate_));
      // Sometimes a range read in several pages, to cross shard and page boundaries.
      const int limit = random.coin(0.3) ? static_cast<int>(random.random_int(1, accounts_ + 1)) : accounts_ + 1;
      const bool reverse = random.coin(0.3);
      auto body = [this, limit, reverse](Transaction& transaction) -> Future<Void> {
        std::vector<KeyValue> rows;
        KeyRange rest = ledger_.all_accounts();
        while (true) {
          RangeResult page = co_await transaction.get_range(rest, limit, reverse);
          for (KeyValue& row : page.rows) rows.push_back(std::move(row));
          if (!page.more || rows.empty()) break;
          if (reverse) rest.end = rows.back().key;
          else rest.begin = key_after(rows.back().key);
        }
        ledger_.audit(rows, "an audit");
        co_return Void{};
      };
      try {
        co_await db.run(body);
        ++audits_;
      } catch (const Error& error) {
        problem(fmt::format("an audit failed with {}", error.describe()));
      }
    }
  }

  RunContext& context_;
  BankLedger ledger_;
  int accounts_;
  int clients_;
  double rate_;
  int auditors_;
  double audit_rate_;
  double read_seconds_max_;
  StorageReadStats client_reads_;  // of the transfer and audit clients' databases, once they ended
  uint64_t transfers_ = 0, attempts_ = 0, audits_ = 0;
  ProblemLog problems_{"BankProblem"};
};

}  // namespace

std::unique_ptr<Workload> make_bank(RunContext& context, const Options& options) {
  return std::make_unique<Bank>(context, options);
}

}  // namespace keel::sim
