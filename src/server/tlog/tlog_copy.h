// Copying between logs (private to src/server/tlog), both sides: a recruited log is seeded with
// every unpopped version up to the recovery version of a locked log of the previous generation,
// so that it holds everything the storage servers may still need from before the generation.
#pragma once

#include <optional>

#include "protocol/tlog_interface.h"
#include "runtime/future.h"
#include "server/tlog/tlog_state.h"

namespace keel {

// A seeding log asks for about this many bytes of mutations per copy reply.
inline constexpr int64_t seed_copy_bytes_limit = 4 * 1024 * 1024;
// A copy reply stops at about this many bytes whatever the request asks (a frame must hold it).
inline constexpr int64_t copy_reply_bytes_max = 8 * 1024 * 1024;

// Fills a recruited log whose files were just started empty: copies from `source` (if any) every
// version up to `recovery_version`, writes the generation-start record (tlog_files.h) and syncs.
// On return the chain ends at recovery_version, which is durable and known committed. A copy that
// keeps failing (unreachable source) throws recovery_failed.
Future<Void> seed_log(TLogState* state, std::optional<TLogInterface> source, Version recovery_version);

// A copy server's answer to `request` (durable versions only; waits for them if the request's
// last is appended but not yet synced). Fails the request with operation_failed when its last
// version is beyond what this log holds.
Future<Void> answer_copy(TLogState* state, TLogCopyRequest request);

}  // namespace keel
