// The transaction log (tlog): the durable, ordered record of committed mutations, by tag, for one
// generation (docs/fault_tolerance.md, "Recovery as built").
//
// - A log is recruited into one generation and accepts pushes of exactly that generation, as a
//   chain (prev_version -> version) starting at the generation's recovery version, appended
//   strictly in chain order; each is acknowledged only after an fsync covers it (group commit).
// - A recruited log is first seeded: it copies every unpopped version up to the recovery
//   version from a locked log of the previous generation, syncs, and only then serves.
// - `lock` ends the pushes for good (tlog_stopped); peeks, pops and copies are still served. A
//   log restarted from disk is locked from the start.
// - Peeks return a tag's mutations from a version on, long-polling up to a second for more; they
//   only ever return durable data. Storage servers roll back above a recovery version
//   themselves, so a log never holds anything back.
// - Pops drop a tag's data up to a version; whole segment files go once every tag popped past
//   them.
// - The log ends (returns) once the worker's ServerDBInfo shows a generation at least as new as
//   its own accepting commits without it: it deletes its files first.
//
// On-disk format: tlog_files.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "protocol/server_db_info.h"
#include "protocol/tlog_interface.h"
#include "runtime/async_var.h"
#include "runtime/future.h"

namespace keel {

// A log's data directory name within a worker's data directory: "tlog-<id as 16 lowercase hex digits>".
std::string tlog_directory_name(uint64_t id);
// The id of a log directory name, or nullopt for other names.
std::optional<uint64_t> parse_tlog_directory_name(const std::string& name);

struct TLogRecruitment {  // present when the log is newly recruited into a generation
  uint64_t generation = 0;
  Version recovery_version = 0;         // the chain of the generation starts here
  std::optional<TLogInterface> source;  // a locked log of the previous generation to seed from
};

struct TLogOptions {
  uint64_t id = 0;
  std::string directory;                       // the log's files (created if missing)
  std::optional<TLogRecruitment> recruitment;  // none: restarted from disk, locked from the start
  AsyncVar<ServerDBInfo>* db_info = nullptr;   // the worker's view of the cluster (outlives the log)
                                               // null: the log is never removed
};

// Runs the log until cancelled, removed, or failed. `ready` is sent once the log serves: for a recruited log
// after its seed is durable; for a restarted log after it recovered its files. If the log fails before that,
// `ready` gets the error. A normal return means the log was removed (its files are gone).
Future<Void> run_tlog(TLogInterface tlog, TLogOptions options, Promise<Void> ready);

}  // namespace keel
