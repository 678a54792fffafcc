#include "runtime/error.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace keel {
namespace {

struct ErrorRow {
  int code;
  std::string_view name;
  std::string_view message;
};

constexpr std::array error_rows = {
#define KEEL_ERROR_ROW(name, code, message) ErrorRow{code, #name, message},
    KEEL_ERROR_TABLE(KEEL_ERROR_ROW)
#undef KEEL_ERROR_ROW
};

const ErrorRow* find_row(int code) {
  auto it = std::find_if(error_rows.begin(), error_rows.end(),
                         [code](const ErrorRow& row) { return row.code == code; });
  return it == error_rows.end() ? nullptr : &*it;
}

}  // namespace

std::string_view Error::name() const {
  const ErrorRow* row = find_row(code_);
  return row ? row->name : std::string_view("unknown_error_code");
}

std::string_view Error::message() const {
  const ErrorRow* row = find_row(code_);
  return row ? row->message : std::string_view("An error with an unknown code occurred");
}

std::string Error::describe() const { return fmt::format("{} ({}): {}", name(), code_, message()); }

bool Error::is_retryable() const {
  switch (code_) {
    case errc::not_committed:
    case errc::transaction_too_old:
    case errc::future_version:
    case errc::commit_unknown_result:
    case errc::wrong_shard_server:
    case errc::request_maybe_delivered:
    case errc::connection_failed:
    case errc::broken_promise:
    case errc::timed_out:
    case errc::tlog_stopped:
      return true;
    default:
      return false;
  }
}

bool is_known_error_code(int code) { return find_row(code) != nullptr; }

}  // namespace keel
