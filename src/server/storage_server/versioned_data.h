// VersionedData: a storage server's in-memory MVCC window, over the durable engine.
//
// The engine holds the data as of `oldest_version`; this holds every write of the versions
// (oldest_version, latest_version], so a read at any version in that window is: what this says
// about the key if it says anything, else what the engine says. Writes arrive as plain sets and
// range clears (atomic operations are resolved to sets before they get here), in version order.
// make_durable hands out the oldest writes for the engine and forgets them (in pieces, so a
// large step need not hold the event loop); rollback forgets the newest ones (versions a
// recovery did not keep: docs/fault_tolerance.md).
//
// A clear of one key is kept as a write of "absent" to that key, so a read finds it in the key's
// own history; only wider range clears go in the list that a read of a key without writes scans
// (a delete-heavy load would otherwise make every such read scan every delete of the window).
//
// Each key's history is found by hash, so a write or a point read costs a hash lookup, not a
// walk down an ordered tree of the window's keys with a cache miss or two at each level (the
// largest cost of the write path in profiles). Key order is needed only by range reads: the keys
// are held in sorted runs, newest last, each about at most half the size of the one before; the
// keys new since the last range read become a run when the next one comes, and a run merges
// into the one before once it is half its size or more (a key takes part in a few sequential
// merges, not one walk down a tree of the whole window). A range read searches every run. A
// history emptied by make_durable or rollback stays until empty ones are as many as the rest,
// then they all go at once; merges also leave empty ones out.
//
// Pure data structure: no I/O. Not thread-safe; owned by one storage server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "protocol/types.h"
#include "storage/key_table.h"

namespace keel {

class VersionedData {
 public:
  explicit VersionedData(Version durable_version) : oldest_(durable_version), latest_(durable_version) {}

  Version oldest_version() const { return oldest_; }
  Version latest_version() const { return latest_; }
  // Marks `version` as applied (every write at or below it has arrived).
  void advance_to(Version version);

  void set(Version version, Key key, Value value);
  void clear_range(Version version, const KeyRange& range);

  // What the window says about `key` at `version`: nullopt if nothing (ask the engine),
  // otherwise the value (an inner nullopt when the key is cleared).
  std::optional<std::optional<Value>> get(const Key& key, Version version) const;
  // A hint that get(key) follows soon (KeyTable::prefetch's stages).
  void prefetch(const Key& key, int stage) const { histories_.prefetch(key, stage); }

  // Up to `limit` keys in `range` that have writes in the window (sets and clears of that one
  // key), in order (from the end if `reverse`).
  std::vector<Key> keys_with_writes(const KeyRange& range, bool reverse, size_t limit) const;
  // The oldest writes of versions up to `version`, at most `writes_max` of them, in order, as
  // mutations for the engine; they are forgotten, and oldest_version becomes `version` at once.
  // Call again until it returns fewer than `writes_max`: until then the window still holds some
  // writes at or below oldest_version, and the engine, having the rest, is at no one version,
  // but what this says over what the engine says is right at every version from oldest_version.
  std::vector<Mutation> make_durable(Version version, size_t writes_max = SIZE_MAX);
  // Counts the calls of make_durable that handed out writes: a reader that asked the engine and
  // then the window can tell whether writes moved from one to the other in between.
  uint64_t handed_out() const { return handed_out_; }
  // The newest version at or below `target` whose writes, from oldest_version on, hold at most
  // `bytes_max` key and value bytes, so engine commits stay bounded when the engine falls
  // behind; but never oldest_version when a write is at or below `target` (a single version
  // larger than `bytes_max` goes whole).
  Version durable_step(Version target, size_t bytes_max) const;
  // Forgets every write of a version above `version`, which becomes latest_version, as if they
  // never arrived. Requires oldest_version <= version <= latest_version: what the engine holds
  // cannot be undone.
  void rollback(Version version);

  size_t bytes() const { return bytes_; }

 private:
  // `sequence` orders writes within one version (a batch may set and then clear a key).
  struct Write {
    Version version;
    uint64_t sequence;
    std::optional<Value> value;  // nullopt: the key was cleared (alone)
  };
  struct Clear {
    Version version;
    uint64_t sequence;
    KeyRange range;
  };
  // A key's writes, oldest first. Most keys have one write in the window: it is held in the
  // history itself, so it costs no allocation, and a read or make_durable finds it in the
  // entry's own cache lines instead of following a pointer to a vector (a miss per key in tables
  // of hundreds of thousands). A second write moves both to the vector. The oldest goes to the
  // engine by moving a start index, not by shifting the rest down: a hot key holds thousands of
  // writes in the window, and shifting them all for each one handed out made make_durable
  // quadratic in them. The taken slots are reclaimed once they are half the vector (amortized
  // O(1) per write).
  class WriteHistory {
   public:
    bool empty() const { return !single_ && start_ == writes_.size(); }
    std::span<const Write> live() const {
      if (single_) return std::span<const Write>(&*single_, 1);
      return std::span<const Write>(writes_).subspan(start_);
    }
    const Write& front() const { return live().front(); }
    const Write& back() const { return live().back(); }
    void push_back(Write write);
    void pop_back();
    Write take_front();

   private:
    void reclaim_taken();
    std::optional<Write> single_;  // the only write, when writes_ holds none live
    std::vector<Write> writes_;
    size_t start_ = 0;  // writes_[0, start_) were taken
  };
  struct History {
    WriteHistory writes;  // empty: waiting to be purged
    bool listed = false;  // in one of runs_ or in new_keys_
  };
  using Histories = KeyTable<History>;
  using Entry = Histories::Entry;  // never moves while in histories_
  // One write in arrival order. Keys and values are held once, in histories_ and clears_: a
  // set's entry points at its key's history (the oldest logged set of a key is its first Write,
  // the newest its last) and a clear's entry is the oldest or newest clear (clears_ is in the
  // same order).
  struct Logged {
    Version version;
    Entry* set;    // nullptr for a range clear (in clears_)
    size_t bytes;  // key and value bytes
  };

  void append(Version version, Key key, std::optional<Value> value);
  void list_new_key(Entry* entry);
  // False when every new key is outside `range` (by the bounds below).
  bool new_keys_may_intersect(const KeyRange& range) const;
  void sort_new_keys() const;
  void purge_empty_histories();

  Version oldest_;
  Version latest_;
  Histories histories_;
  // Every non-empty history is listed once: in a run (sorted by key) or among the new ones.
  mutable std::vector<std::vector<Entry*>> runs_;
  mutable std::vector<Entry*> new_keys_;  // listed since the last sort, unsorted
  // The lowest and highest key listed in new_keys_ since it was last empty (some of those keys
  // may have been purged since: the bounds may be wider than new_keys_, never narrower).
  Key new_keys_lowest_;
  Key new_keys_highest_;
  size_t empty_histories_ = 0;
  std::deque<Clear> clears_;  // in version order
  std::deque<Logged> log_;    // every write, in order, for the engine
  size_t bytes_ = 0;
  uint64_t next_sequence_ = 0;
  uint64_t handed_out_ = 0;
};

}  // namespace keel
