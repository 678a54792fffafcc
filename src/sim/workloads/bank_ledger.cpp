#include "sim/workloads/bank_ledger.h"

#include <charconv>

#include <fmt/format.h>

#include "sim/workloads/key_value_model.h"

namespace keel::sim {
namespace {

constexpr std::string_view account_prefix = "bank/";

}  // namespace

Key BankLedger::key(int index) const {
  return spread_key(index, accounts_, fmt::format("{}{:06d}", account_prefix, index));
}

KeyRange BankLedger::all_accounts() const { return KeyRange{key(0), key_after(key(accounts_ - 1))}; }

bool BankLedger::is_account(const Key& key) {
  return key.size() > account_prefix.size() && key.compare(1, account_prefix.size(), account_prefix) == 0;
}

std::optional<int64_t> BankLedger::balance(const KeyValue& row) const {
  int64_t amount = 0;
  const char* end = row.value.data() + row.value.size();
  auto [at, error] = std::from_chars(row.value.data(), end, amount);
  if (error == std::errc() && at == end) return amount;
  problem_(fmt::format("account {} holds '{}', not a balance", printable(row.key), printable(row.value)));
  return std::nullopt;
}

int64_t BankLedger::audit(const std::vector<KeyValue>& rows, const std::string& what) const {
  if (static_cast<int>(rows.size()) != accounts_) {
    problem_(fmt::format("{} found {} accounts, not {}", what, rows.size(), accounts_));
  }
  int64_t total = 0;
  for (const KeyValue& row : rows) {
    const std::optional<int64_t> amount = balance(row);
    if (!amount) continue;
    if (*amount < 0) problem_(fmt::format("{} found account {} at {}", what, printable(row.key), *amount));
    total += *amount;
  }
  const int64_t expected = initial_balance_ * accounts_;
  if (total != expected) problem_(fmt::format("{} found a total of {}, not {}", what, total, expected));
  return total;
}

Future<Void> BankLedger::transfer(Transaction& transaction, int from, int to, double fraction) const {
  Future<std::optional<Value>> from_read = transaction.get(key(from));
  Future<std::optional<Value>> to_read = transaction.get(key(to));
  const std::optional<Value> from_value = co_await from_read;
  const std::optional<Value> to_value = co_await to_read;
  if (!from_value || !to_value) {
    problem_(fmt::format("a transfer found account {} or {} missing", printable(key(from)), printable(key(to))));
    co_return Void{};
  }
  const std::optional<int64_t> from_balance = balance(KeyValue{key(from), *from_value});
  const std::optional<int64_t> to_balance = balance(KeyValue{key(to), *to_value});
  if (!from_balance || !to_balance) co_return Void{};
  if (*from_balance < 0 || *to_balance < 0) {
    problem_(fmt::format("a transfer read negative balances {} and {}", *from_balance, *to_balance));
    co_return Void{};
  }
  const auto amount = static_cast<int64_t>(fraction * static_cast<double>(*from_balance));
  transaction.set(key(from), std::to_string(*from_balance - amount));
  transaction.set(key(to), std::to_string(*to_balance + amount));
  co_return Void{};
}

}  // namespace keel::sim
