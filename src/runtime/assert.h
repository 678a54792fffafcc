// KEEL_ASSERT: an invariant check that stays on in every build (CONVENTIONS.md). A failed
// assertion prints where and what, plus the reproduction context (simulation spec and seed)
// when one is set, then aborts. It never throws: a broken invariant is not an expected error.
#pragma once

#include <string>

namespace keel {

[[noreturn]] void assertion_failed(const char* expression, const char* file, int line);

// Text printed with every assertion failure, e.g. "keel sim tests/sim/fast/x.toml --seed 7".
void set_assertion_context(std::string context);

}  // namespace keel

#define KEEL_ASSERT(condition)                                      \
  do {                                                              \
    if (!(condition)) {                                             \
      ::keel::assertion_failed(#condition, __FILE__, __LINE__);     \
    }                                                               \
  } while (false)
