// Watches: Transaction::watch(key) returns a future that becomes ready once the key's value
// differs from its value as of the transaction's commit (its read version for a read-only
// transaction), seen by any later transaction. The watch starts only when the transaction
// commits; if the transaction is reset or destroyed first, it fails with transaction_cancelled.
// Dropping the future cancels the watch. A watch may miss a change that was undone again
// before the storage server compared (A -> B -> A) and never reports a change that did not
// happen. When its starting value fell out of the 5 s window before it could be read (the
// cluster was unavailable that long), it fails with transaction_too_old (retryable: read the key
// and watch it again).
//
// Each storage server answers an unchanged watch after a timeout, and the client re-registers,
// moving to the key's new server when its shard moved and retrying through failures (on
// another member of the shard's team, when it has several: client/load_balance.h).
// At most DatabaseState::watches_max watches per Database are outstanding (too_many_watches).
#pragma once

#include <memory>
#include <vector>

#include "protocol/types.h"
#include "runtime/future.h"

namespace keel {

struct DatabaseState;

// The watches of one transaction attempt, waiting for its commit.
class PendingWatches {
 public:
  PendingWatches() = default;
  PendingWatches(PendingWatches&&) = default;
  PendingWatches& operator=(PendingWatches&& other) noexcept;
  ~PendingWatches() { cancel(); }

  // Starts a watch of `key` that waits for activate(); throws too_many_watches.
  Future<Void> add(std::shared_ptr<DatabaseState> database, Key key, bool access_system_keys);
  // The transaction committed at `version` (or read at it, when read-only): the watches start.
  void activate(Version version);
  // The transaction was reset or destroyed without committing.
  void cancel();
  bool empty() const { return starts_.empty(); }

 private:
  std::vector<Promise<Version>> starts_;
};

}  // namespace keel
