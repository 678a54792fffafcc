// Test support for storage engines on a real disk: a temporary directory, and running a coroutine
// in a RealWorld (its blocking-work pool included) until it completes. Shared by the real-world
// conformance suite (kv_store_real_test.cpp) and the engines' own tests. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "runtime/combinators.h"
#include "runtime/random.h"
#include "runtime/trace.h"
#include "world/real_world.h"

namespace keel::testing {

// A fresh directory under the system's temporary directory, removed with the object.
class TemporaryDirectory {
 public:
  explicit TemporaryDirectory(const std::string& prefix = "keel-test-") {
    path_ = (std::filesystem::temp_directory_path() / (prefix + std::to_string(nondeterministic_unique_id()))).string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  ~TemporaryDirectory() { std::filesystem::remove_all(path_); }

  const std::string& path() const { return path_; }
  std::string path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs `body` on a new RealWorld until it completes, at most `seconds` (then timed_out); how it
// ended (Error() when it succeeded). The world and its thread pool are gone when this returns, so
// the caller may fork. KEEL_TEST_TRACE=1 in the environment sends the trace to stderr.
inline Error run_in_real_world(const std::function<Future<Void>()>& body, double seconds = 120) {
  RealWorld world;
  if (std::getenv("KEEL_TEST_TRACE") != nullptr) trace_log().set_output_file(stderr);
  Future<Void> done = timeout_error(body(), seconds);
  world.run(ready(done));
  return done.is_error() ? done.error() : Error();
}

// run_in_real_world, failing the test unless the body succeeded.
inline void run_real(const std::function<Future<Void>()>& body, double seconds = 120) {
  const Error error = run_in_real_world(body, seconds);
  if (error.code() != errc::success) ADD_FAILURE() << "unexpected error " << error.describe();
}

}  // namespace keel::testing
