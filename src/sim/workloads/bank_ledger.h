// The bank's accounts and rules, shared by the Bank workload (sim) and `keel bench db --workload
// bank`: account keys spread over every shard, balances as decimal strings, the audit of one
// snapshot, and the transfer. Problems go to the owner's sink (a simulation's problem log, the
// benchmark's failure list).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/database.h"
#include "protocol/types.h"

namespace keel::sim {

class BankLedger {
 public:
  BankLedger(int accounts, int64_t initial_balance, std::function<void(std::string)> problem)
      : accounts_(accounts), initial_balance_(initial_balance), problem_(std::move(problem)) {}

  int accounts() const { return accounts_; }
  int64_t initial_balance() const { return initial_balance_; }
  // Account `index`'s key (`bank/NNNNNN`, spread over every shard, so transfers and audits
  // cross storage servers), and the range holding every account.
  Key key(int index) const;
  KeyRange all_accounts() const;
  static bool is_account(const Key& key);

  // The balance a row encodes, or nullopt (and a problem) if it is not a number.
  std::optional<int64_t> balance(const KeyValue& row) const;
  // Checks one snapshot of every account (count, no negative balance, the total); returns the
  // total. `what` names the audit in problems.
  int64_t audit(const std::vector<KeyValue>& rows, const std::string& what) const;
  // Moves `fraction` of `from`'s balance to `to` (nothing, and a problem, if an account is
  // missing or holds no or a negative balance).
  Future<Void> transfer(Transaction& transaction, int from, int to, double fraction) const;

 private:
  int accounts_;
  int64_t initial_balance_;
  std::function<void(std::string)> problem_;
};

}  // namespace keel::sim
