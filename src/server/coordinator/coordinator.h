// The coordinator role: serves, for every cluster id it is asked about, one generation register
// (durable) and one leader register (in memory) (docs/coordination.md). Every process runs one,
// so any of them can be named a coordinator; a set of coordinators is named by its cluster id.
//
// - Register reads and writes step that id's pure GenerationRegister at once, in arrival
//   order; each reply is sent only after a save covering every step taken so far is durable
//   (group commit: one save covers every step made before it started). So no reply ever
//   reflects a state that a crash could take back.
// - Candidacies and leader queries step the id's LeaderRegister, which starts quiet for one
//   lease after every (re)start of the process: commitments made before a crash are forgotten,
//   so it must not commit to anyone until they would have lapsed anyway.
// - A forward (ForwardRequest) retires an id once durable: its register, candidacy requests
//   fail with coordinators_changed, and its leader queries answer with the forward.
// - A failed save (io_error) ends the role with that error (fail-stop); a corrupt register file
//   ends it with checksum_failed at startup.
//
// On disk: `<directory>/<cluster id>/register`, one per id ever written.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "protocol/coordinator_interface.h"
#include "runtime/future.h"

namespace keel {

// What a coordinator exposes to a simulation's global view (never to other roles).
struct CoordinatorProbe {
  // The leader the id's register is committed to at a time.
  std::function<std::optional<LeaderInfo>(const std::string& cluster_id, double at)> leader;
};

// Recovers the registers saved in `directory`, then serves `coordinator` until cancelled. If
// `probe` is given, it is filled while the role runs and emptied when it stops.
Future<Void> run_coordinator(CoordinatorInterface coordinator, std::string directory, CoordinatorProbe* probe = nullptr);

}  // namespace keel
