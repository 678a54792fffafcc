#include "runtime/assert.h"

#include <cstdio>
#include <cstdlib>

namespace keel {
namespace {
std::string& assertion_context() {
  static std::string context;
  return context;
}
}  // namespace

void set_assertion_context(std::string context) { assertion_context() = std::move(context); }

void assertion_failed(const char* expression, const char* file, int line) {
  std::fprintf(stderr, "Assertion failed: %s at %s:%d\n", expression, file, line);
  if (!assertion_context().empty()) {
    std::fprintf(stderr, "Reproduce with: %s\n", assertion_context().c_str());
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace keel
