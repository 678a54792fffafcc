#include "server/resolver/conflict_set.h"

#include <algorithm>

#include "runtime/assert.h"

namespace keel {

const char* conflict_outcome_name(ConflictOutcome outcome) {
  switch (outcome) {
    case ConflictOutcome::committed:
      return "committed";
    case ConflictOutcome::conflict:
      return "conflict";
    case ConflictOutcome::too_old:
      return "too_old";
  }
  return "unknown";
}

ConflictSet::ConflictSet(Version initial_version, uint64_t priority_seed, size_t generation_boundaries_max)
    : generation_boundaries_max_(generation_boundaries_max),
      oldest_version_(initial_version),
      newest_version_(initial_version),
      random_(priority_seed) {
  KEEL_ASSERT(initial_version >= 0 && generation_boundaries_max > 0);
}

std::vector<ConflictOutcome> ConflictSet::resolve(Version commit_version, std::vector<ConflictTransaction>&& batch) {
  return resolve_batch(commit_version, batch);
}

std::vector<ConflictOutcome> ConflictSet::resolve(Version commit_version, const std::vector<ConflictTransaction>& batch) {
  return resolve_batch(commit_version, batch);
}

// `Batch` is const for a batch the caller keeps: its held ranges are copied, not taken.
template <typename Batch>
std::vector<ConflictOutcome> ConflictSet::resolve_batch(Version commit_version, Batch& batch) {
  record_held_writes();
  KEEL_ASSERT(commit_version > newest_version_);
  newest_version_ = commit_version;
  oldest_version_ = std::max(oldest_version_, commit_version - mvcc_window_versions);
  drop_old_generations();
  if (!generations_.empty()) {
    Generation& newest = generations_.back();
    newest.sealed = newest.sealed || commit_version - newest.first_version >= generation_versions ||
                    newest.writes->size() >= generation_boundaries_max_;
  }
  // Writes after the last transaction that reads are checked against by nobody in this batch.
  size_t readers_end = batch.size();
  while (readers_end > 0 && !reads_any(batch[readers_end - 1])) --readers_end;
  std::vector<ConflictOutcome> outcomes;
  outcomes.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& transaction = batch[i];
    // A read version at or past the commit version was taken in a newer generation: its client
    // then reached a proxy of this superseded one (everything_soak seed 9076). It does not
    // commit here; the client retries and finds the new generation.
    const ConflictOutcome outcome =
        transaction.read_version < commit_version ? check(transaction) : ConflictOutcome::conflict;
    outcomes.push_back(outcome);
    if (outcome != ConflictOutcome::committed) continue;
    for (auto& range : transaction.writes) {
      if (range.empty()) continue;
      if (i < readers_end) {
        open_generation(commit_version).record_write(range, commit_version);
      } else {
        held_writes_.push_back(std::move(range));  // a copy when const
      }
    }
  }
  return outcomes;
}

void ConflictSet::record_held_writes() {
  if (held_writes_.empty()) return;
  WriteTreap& writes = open_generation(newest_version_);
  for (const KeyRange& range : held_writes_) writes.record_write(range, newest_version_);
  held_writes_.clear();
}

size_t ConflictSet::size() const {
  size_t boundaries = 0;
  for (const Generation& generation : generations_) boundaries += generation.writes->size();
  return boundaries;
}

bool ConflictSet::reads_any(const ConflictTransaction& transaction) {
  return std::any_of(transaction.reads.begin(), transaction.reads.end(), [](const KeyRange& range) { return !range.empty(); });
}

// A transaction that read nothing (no read-conflict range) cannot conflict, however old its read
// version: blind writes commit without one.
ConflictOutcome ConflictSet::check(const ConflictTransaction& transaction) const {
  if (reads_any(transaction) && transaction.read_version < oldest_version_) return ConflictOutcome::too_old;
  for (const KeyRange& range : transaction.reads) {
    if (!range.empty() && written_after(range, transaction.read_version)) return ConflictOutcome::conflict;
  }
  return ConflictOutcome::committed;
}

// Generations are in version order, so the search stops at the first, newest first, written
// entirely at or below `version`.
bool ConflictSet::written_after(const KeyRange& range, Version version) const {
  for (auto generation = generations_.rbegin(); generation != generations_.rend(); ++generation) {
    if (generation->last_version <= version) return false;
    if (generation->writes->max_version_in(range) > version) return true;
  }
  return false;
}

// The generation that takes this batch's writes: the newest unless sealed.
WriteTreap& ConflictSet::open_generation(Version commit_version) {
  if (generations_.empty() || generations_.back().sealed) {
    std::unique_ptr<WriteTreap> writes;
    if (spare_.empty()) {
      writes = std::make_unique<WriteTreap>(random_.next_u64());
    } else {
      writes = std::move(spare_.back());
      spare_.pop_back();
      writes->clear(random_.next_u64());
    }
    generations_.push_back(Generation{std::move(writes), commit_version, commit_version});
  }
  generations_.back().last_version = commit_version;
  return *generations_.back().writes;
}

// One spare is kept: a generation leaves about when a new one starts.
void ConflictSet::drop_old_generations() {
  while (!generations_.empty() && generations_.front().last_version <= oldest_version_) {
    if (spare_.empty()) spare_.push_back(std::move(generations_.front().writes));
    generations_.pop_front();
  }
}

void ConflictSet::check_invariants() const {
  KEEL_ASSERT(oldest_version_ <= newest_version_);
  Version previous_last = -1;
  for (const Generation& generation : generations_) {
    KEEL_ASSERT(previous_last < generation.first_version);
    KEEL_ASSERT(generation.first_version <= generation.last_version);
    KEEL_ASSERT(generation.last_version <= newest_version_);
    KEEL_ASSERT(generation.last_version > oldest_version_);
    generation.writes->check_invariants(generation.last_version);
    previous_last = generation.last_version;
  }
  for (size_t i = 0; i + 1 < generations_.size(); ++i) KEEL_ASSERT(generations_[i].sealed);
}

}  // namespace keel
