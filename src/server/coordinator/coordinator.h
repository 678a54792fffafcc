// The coordinator role: serves one generation register (durable) and one leader register (in
// memory) to the cluster (docs/coordination.md).
//
// - Register reads and writes step the pure GenerationRegister at once, in arrival order; each
//   reply is sent only after a save covering every step taken so far is durable (group commit:
//   one save covers every step made before it started). So no reply ever reflects a state that
//   a crash could take back.
// - Candidacies and leader queries step the LeaderRegister, which starts quiet for one lease
//   after every (re)start: commitments made before a crash are forgotten, so it must not
//   commit to anyone until they would have lapsed anyway.
// - A failed save (io_error) ends the role with that error (fail-stop); a corrupt register file
//   ends it with checksum_failed at startup.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "protocol/coordinator_interface.h"
#include "runtime/future.h"
#include "server/coordinator/generation_register.h"

namespace keel {

// What a coordinator exposes to a simulation's global view (never to other roles).
struct CoordinatorProbe {
  std::function<std::optional<LeaderInfo>(double)> leader;  // committed leader at a time
  std::function<GenerationRegisterState()> durable_state;   // the last state known saved
};

// Recovers the register saved in `directory`, then serves `coordinator` until cancelled. If
// `probe` is given, it is filled while the role runs and emptied when it stops.
Future<Void> run_coordinator(CoordinatorInterface coordinator, std::string directory, CoordinatorProbe* probe = nullptr);

}  // namespace keel
