// keel bench db --workload bank: transfers between accounts, audited; the one `keel bench db`
// workload that checks rather than only measures (tests/cluster/kill_test.sh runs it while it
// kills servers).
//
// `--accounts` accounts (sim::BankLedger: the simulation's Bank workload's accounts and rules)
// start with bank_initial_balance each; a run finding exactly that many
// accounts (an earlier run's) keeps them. Their keys are spread over the first bytes of the
// default shards as the simulation's Bank workload spreads them, so transfers and audits cross
// storage servers; an audit counts only keys of the bank's form, so other keys (a test's
// markers) may share the range. `--clients` clients move a random part of one account's balance
// to another (read both, write both) for `--duration` seconds; one auditor reads every account
// in one transaction every audit_interval_seconds and requires the account count, no negative
// balance and the total accounts * bank_initial_balance; after the clients stop, a final audit
// must complete and pass. A problem prints "bank: FAILED: ..." and the command exits 1.
//
// Every transaction attempt is bounded (attempt_seconds_max: a recovery in progress stalls it)
// and retried on retryable errors until the run ends. A line per progress_interval_seconds
// reports the transfers so far and the wall-clock time (Unix milliseconds) of the latest one, so
// a caller can tell whether commits went on after an event it caused.
#include <chrono>
#include <functional>

#include <fmt/format.h>

#include "bench/db_bench.h"
#include "runtime/combinators.h"
#include "sim/workloads/bank_ledger.h"

namespace keel::bench {
namespace {

constexpr int64_t bank_initial_balance = 1000;
constexpr double attempt_seconds_max = 5;
constexpr int attempts_max = 1000;
constexpr double audit_interval_seconds = 1;
constexpr double progress_interval_seconds = 1;
constexpr double setup_seconds_max = 60;
constexpr double final_audit_seconds_max = 60;
constexpr int problems_printed_max = 20;

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class BankBench {
 public:
  BankBench(Database db, const DbBenchOptions& options)
      : db_(std::move(db)),
        ledger_(static_cast<int>(options.accounts), bank_initial_balance,
                [this](std::string text) { problem(std::move(text)); }),
        accounts_(ledger_.accounts()),
        clients_(options.clients),
        duration_seconds_(options.duration_seconds) {}

  Future<bool> run() {
    Future<bool> set_up = run_bounded([this](Transaction& transaction) { return set_up_accounts(transaction); },
                                      now() + setup_seconds_max);
    if (!co_await set_up) problem("the accounts could not be set up within the time limit");
    if (!problems_.empty()) co_return false;
    fmt::print("bank | {} accounts of {} | {} clients | {} s\n", accounts_, bank_initial_balance, clients_,
               duration_seconds_);
    std::fflush(stdout);
    start_ = now();
    end_time_ = start_ + duration_seconds_;
    last_transfer_time_ = start_;
    std::vector<Future<Void>> running;
    for (int i = 0; i < clients_; ++i) running.push_back(transfer_client(static_cast<uint64_t>(i) + 1));
    running.push_back(auditor());
    running.push_back(reporter());
    co_await when_all(std::move(running));
    Future<bool> final_audit = run_bounded([this](Transaction& transaction) { return audit(transaction, "the final audit"); },
                                           now() + final_audit_seconds_max);
    const bool audited = co_await final_audit;
    if (!audited) problem("the final audit did not complete within the time limit");
    fmt::print("bank | transfers {} | attempts {} | timed out attempts {} | audits {} | longest gap between "
               "transfers {:.3f} s | last transfer unix_ms {} | final audit {}\n",
               transfers_, attempts_, timed_out_attempts_, audits_, longest_gap_seconds_, last_transfer_unix_ms_,
               audited ? fmt::format("total {} of {} accounts", last_audit_total_, accounts_) : "incomplete");
    if (transfers_ == 0) problem("no transfer committed");
    for (size_t i = 0; i < problems_.size() && i < problems_printed_max; ++i) {
      fmt::print("bank: FAILED: {}\n", problems_[i]);
    }
    if (problems_.size() > problems_printed_max) fmt::print("bank: ... {} problems in all\n", problems_.size());
    std::fflush(stdout);
    co_return problems_.empty();
  }

 private:
  void problem(std::string text) { problems_.push_back(std::move(text)); }

  // Every account row of the bank's range, read in pages of one transaction (rows of other
  // keys in the range are skipped).
  Future<std::vector<KeyValue>> read_accounts(Transaction& transaction) {
    std::vector<KeyValue> rows;
    KeyRange rest = ledger_.all_accounts();
    for (int page = 0; page <= accounts_; ++page) {
      RangeResult result = co_await transaction.get_range(rest, accounts_ + 1);
      for (KeyValue& row : result.rows) {
        rest.begin = key_after(row.key);
        if (sim::BankLedger::is_account(row.key)) rows.push_back(std::move(row));
      }
      if (!result.more || result.rows.empty()) break;
    }
    co_return rows;
  }

  // Creates the accounts unless exactly `accounts_` of them exist already.
  Future<Void> set_up_accounts(Transaction& transaction) {
    Future<std::vector<KeyValue>> read = read_accounts(transaction);
    const std::vector<KeyValue> rows = co_await read;
    if (static_cast<int>(rows.size()) == accounts_) co_return Void{};
    if (!rows.empty()) {
      problem(fmt::format("found {} accounts, not {} (clear the bank's keys or pass --accounts {})", rows.size(),
                          accounts_, rows.size()));
      co_return Void{};
    }
    for (int i = 0; i < accounts_; ++i) transaction.set(ledger_.key(i), std::to_string(bank_initial_balance));
    co_return Void{};
  }

  // Reads every account and checks the count, the balances and the total.
  Future<Void> audit(Transaction& transaction, std::string what) {
    Future<std::vector<KeyValue>> read = read_accounts(transaction);
    const std::vector<KeyValue> rows = co_await read;
    last_audit_total_ = ledger_.audit(rows, what);
    co_return Void{};
  }

  static Future<Version> attempt(Transaction* transaction, const std::function<Future<Void>(Transaction&)>* body) {
    Future<Void> done = (*body)(*transaction);
    co_await done;
    Future<Version> committed = transaction->commit();
    co_return co_await committed;
  }

  // Runs `body` and commits, each attempt bounded by attempt_seconds_max, retrying retryable
  // errors until `deadline` or attempts_max attempts. False if it never committed; a
  // non-retryable error is a problem.
  Future<bool> run_bounded(std::function<Future<Void>(Transaction&)> body, double deadline) {
    std::optional<Transaction> transaction(db_.create_transaction());
    for (int attempts = 0; attempts < attempts_max && now() < deadline; ++attempts) {
      ++attempts_;
      Future<std::optional<Version>> bounded = timeout(attempt(&*transaction, &body), attempt_seconds_max);
      co_await ready(bounded);
      if (!bounded.is_error() && bounded.get()) co_return true;
      if (!bounded.is_error()) {  // timed out: the attempt was dropped (cancelled); start afresh
        ++timed_out_attempts_;
        transaction.emplace(db_.create_transaction());
        continue;
      }
      if (!bounded.error().is_retryable()) {
        problem(fmt::format("a transaction failed with {}", bounded.error().describe()));
        co_return false;
      }
      Future<Void> backed_off = transaction->on_error(bounded.error());
      co_await backed_off;
    }
    co_return false;
  }

  Future<Void> transfer_client(uint64_t seed) {
    DeterministicRandom random(seed);
    while (now() < end_time_ && problems_.empty()) {
      const int from = static_cast<int>(random.random_int(0, accounts_));
      int to = static_cast<int>(random.random_int(0, accounts_ - 1));
      if (to >= from) ++to;
      const double fraction = random.random01();
      Future<bool> committed = run_bounded(
          [this, from, to, fraction](Transaction& transaction) { return ledger_.transfer(transaction, from, to, fraction); },
          end_time_);
      if (!co_await committed) continue;
      ++transfers_;
      longest_gap_seconds_ = std::max(longest_gap_seconds_, now() - last_transfer_time_);
      last_transfer_time_ = now();
      last_transfer_unix_ms_ = unix_ms();
    }
    co_return Void{};
  }

  Future<Void> auditor() {
    while (now() < end_time_ && problems_.empty()) {
      Future<bool> audited = run_bounded([this](Transaction& transaction) { return audit(transaction, "an audit"); },
                                         end_time_);
      if (co_await audited) ++audits_;
      co_await delay(audit_interval_seconds);
    }
    co_return Void{};
  }

  Future<Void> reporter() {
    while (now() < end_time_ && problems_.empty()) {
      co_await delay(progress_interval_seconds);
      fmt::print("bank progress | {:.1f} s | unix_ms {} | transfers {} | audits {} | last transfer unix_ms {}\n",
                 now() - start_, unix_ms(), transfers_, audits_, last_transfer_unix_ms_);
      std::fflush(stdout);
    }
    co_return Void{};
  }

  Database db_;
  sim::BankLedger ledger_;
  int accounts_;
  int clients_;
  double duration_seconds_;
  double start_ = 0;
  double end_time_ = 0;
  double last_transfer_time_ = 0;
  double longest_gap_seconds_ = 0;
  int64_t last_transfer_unix_ms_ = 0;
  int64_t last_audit_total_ = 0;
  uint64_t transfers_ = 0, attempts_ = 0, timed_out_attempts_ = 0, audits_ = 0;
  std::vector<std::string> problems_;
};

}  // namespace

Future<bool> run_bank(Database db, const DbBenchOptions& options) {
  BankBench bank(std::move(db), options);
  Future<bool> held = bank.run();
  co_return co_await held;
}

}  // namespace keel::bench
