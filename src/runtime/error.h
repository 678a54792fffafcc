// Error: an expected failure as a value with a stable numeric code (see error_codes.h).
//
// The choice between exceptions and Result<T>: role code is written as coroutines that mostly
// forward errors to their caller, so errors travel as C++ exceptions of type `Error` thrown by
// value, and a coroutine that throws completes its Future with that error (as in Flow).
// `Error` deliberately does not derive from std::exception, so it is caught only by code that
// names it. Cancellation is not an error at all: dropping the last Future to a coroutine destroys
// its frame at the suspension point, which runs destructors and cannot be caught or swallowed.
#pragma once

#include <string>
#include <string_view>

#include "runtime/error_codes.h"

namespace keel {

namespace errc {
#define KEEL_ERROR_CONSTANT(name, code, message) inline constexpr int name = code;
KEEL_ERROR_TABLE(KEEL_ERROR_CONSTANT)
#undef KEEL_ERROR_CONSTANT
}  // namespace errc

class Error {
 public:
  Error() = default;
  explicit Error(int code) : code_(code) {}

  int code() const { return code_; }
  // The stable snake_case name, e.g. "transaction_too_old"; "unknown_error_code" if not in the table.
  std::string_view name() const;
  // The message for users; never empty.
  std::string_view message() const;
  // "name (code): message", for logs and CLI output.
  std::string describe() const;
  const char* what() const { return message().data(); }

  // True for errors that a client retry loop should retry after a backoff.
  bool is_retryable() const;

  bool operator==(const Error& other) const = default;

 private:
  int code_ = errc::success;
};

// True if `code` is a row of the error table.
bool is_known_error_code(int code);

}  // namespace keel
