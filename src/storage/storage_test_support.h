// Test support for storage engines: running a coroutine inside a simulated process (engines reach
// files only through the world) and letting virtual time pass. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "runtime/combinators.h"
#include "sim/simulator.h"

namespace keel::testing {

inline Future<Void> run_and_signal(std::function<Future<Void>()> body, Promise<Void> done) {
  try {
    Future<Void> running = body();
    co_await running;
  } catch (const Error& error) {
    ADD_FAILURE() << "unexpected error " << error.describe();
  }
  done.send(Void{});
  co_return Void{};
}

// Runs `body` as a new process on `machine`, and the simulator until the body returns.
inline void run_in_process(sim::Simulator& simulator, sim::SimMachine& machine, std::function<Future<Void>()> body) {
  Promise<Void> done;
  simulator.add_process(machine, "test", [body, done] { return run_and_signal(body, done); });
  ASSERT_TRUE(simulator.run_until(done.get_future(), 1e6)) << "the test process got stuck";
}

// Lets the simulation run for `seconds` of virtual time.
inline void run_for(sim::Simulator& simulator, double seconds) {
  simulator.scheduler().set_current_process(0);
  Future<Void> later = delay(seconds);
  ASSERT_TRUE(simulator.run_until(later, 1e9));
}

}  // namespace keel::testing
