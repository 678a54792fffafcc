// Tunable settings of the coordinators, the coordinated state client and leader election
// (randomized in simulation; see runtime/knobs.h).
#pragma once

namespace keel {

struct CoordinatorKnobs {
  // A coordinator committed to a leader stays with it this long after its last claim; a leader
  // holds its lease this long (less the margin) after sending the claims a majority confirmed.
  double leader_lease_seconds = 1.0;
  // Covers clock-rate differences between a leader and its coordinators (real world).
  double leader_lease_margin_seconds = 0.1;
  // A coordinator nominates only candidates heard from within this long.
  double candidate_timeout_seconds = 1.0;
  // How often a candidate (or leader) heartbeats each coordinator.
  double candidacy_interval_seconds = 0.2;
  // A request to one coordinator that takes longer counts as unanswered.
  double coordinator_request_timeout_seconds = 1.0;
  // Phase 1 attempts (each with a higher generation) before a read gives up.
  double coordinated_read_attempts_max = 8;
  // Random back-off before a phase 1 retry, up to this long (doubling per attempt).
  double coordinated_retry_delay_seconds = 0.05;

  CoordinatorKnobs();
};

CoordinatorKnobs& coordinator_knobs();

}  // namespace keel
