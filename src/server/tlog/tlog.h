// The transaction log (tlog): the durable, ordered record of committed mutations, by tag.
//
// - Commits arrive from proxies as a chain (prev_version -> version) and are appended strictly
//   in that order; each is acknowledged only after an fsync covers it (group commit: one sync
//   covers every record appended before it started).
// - A commit of a newer generation whose prev_version is below this log's last version rolls
//   the log back to prev_version first: versions above it were never acknowledged.
// - Peeks return a tag's mutations from a version on, long-polling up to a second for more;
//   they only ever return durable data, and after a restart only data at or below the known
//   committed version until the new generation's first commit settles what survives.
// - Pops drop a tag's data up to a version; whole segment files go once every tag popped past
//   them.
//
// On-disk format: segment files `log-<first version, 20 digits>` in the log's directory, each a
// sequence of records:
//   u32 payload_length | u64 XXH3-64 checksum of payload | payload = serialized TLogRecord
// A record that is short or fails its checksum ends the log (a torn tail) if it is in the last
// segment; anywhere else it is corruption (checksum_failed).
#pragma once

#include <string>

#include "protocol/tlog_interface.h"
#include "runtime/future.h"

namespace keel {

// Recovers the log in `directory` (creating it if needed), then serves `tlog` until cancelled.
Future<Void> run_tlog(TLogInterface tlog, std::string directory);

}  // namespace keel
