// The durable copy of a coordinator's generation register: one file, replaced atomically.
//
// Saving writes the whole state to `register.new`, syncs it, then renames it over `register`
// (a rename is durable when it completes). A crash at any point leaves either the previous
// state or the new one in `register`; a torn `register.new` is deleted at the next load.
//
// On-disk format of both files (never change it; add fields only at the end of the state):
//   u32 payload_length | u64 XXH3-64 checksum of payload | payload = u64 token 0 | serialized
//   GenerationRegisterState (read_generation, write_generation, value; each generation its
//   counter, proposer and sequence as u64)
// exactly one frame and nothing after it. A `register` that fails this check is corruption
// (the rename only ever installs a synced, complete file): loading fails with checksum_failed.
#pragma once

#include <string>

#include "runtime/future.h"
#include "server/coordinator/generation_register.h"

namespace keel {

// The state saved in `directory` (created if missing), or the initial state if none was saved.
Future<GenerationRegisterState> load_register(std::string directory);

// Makes `state` the saved state; durable when the future completes. A failure (io_error) is
// fail-stop for the coordinator: it must not answer from a state it could not save.
Future<Void> save_register(std::string directory, GenerationRegisterState state);

}  // namespace keel
