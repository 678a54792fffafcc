#include "runtime/trace.h"

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "runtime/future.h"

namespace keel {

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::debug: return "debug";
    case Severity::info: return "info";
    case Severity::warn: return "warn";
    case Severity::warn_always: return "warn_always";
    case Severity::error: return "error";
  }
  return "unknown";
}

void TraceLog::log(Severity severity, std::string_view type,
                   const std::vector<std::pair<std::string, std::string>>& details,
                   double suppress_seconds) {
  const double time = clock_ ? clock_() : 0.0;
  const std::string address = address_ ? address_() : std::string();
  if (suppress_seconds > 0) {
    auto key = std::make_pair(std::string(type), address);
    auto it = suppressed_until_.find(key);
    if (it != suppressed_until_.end() && time < it->second) return;
    suppressed_until_[key] = time + suppress_seconds;
  }
  ++event_count_;
  // The hash covers what a replay must reproduce: time, place, kind and content.
  XXH64_state_t* state = XXH64_createState();
  XXH64_reset(state, hash_);
  XXH64_update(state, &time, sizeof(time));
  XXH64_update(state, address.data(), address.size());
  XXH64_update(state, type.data(), type.size());
  for (const auto& [key, value] : details) {
    XXH64_update(state, key.data(), key.size());
    XXH64_update(state, value.data(), value.size());
  }
  hash_ = XXH64_digest(state);
  XXH64_freeState(state);

  const bool is_error = severity >= Severity::error;
  if (is_error) ++error_count_;
  const bool printed = output_ != nullptr && severity >= min_severity_;
  if (!printed && !(is_error && first_errors_.size() < 10)) return;

  nlohmann::ordered_json line;
  line["Time"] = time;
  line["Address"] = address;
  line["Severity"] = severity_name(severity);
  line["Type"] = type;
  for (const auto& [key, value] : details) line[key] = value;
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (is_error && first_errors_.size() < 10) first_errors_.push_back(text);
  if (printed) {
    std::fputs(text.c_str(), output_);
    std::fputc('\n', output_);
  }
}

void TraceLog::reset() {
  suppressed_until_.clear();
  hash_ = 0;
  error_count_ = 0;
  event_count_ = 0;
  first_errors_.clear();
}

std::string printable(std::string_view bytes) {
  std::string text;
  text.reserve(bytes.size());
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') text += c;
    else text += fmt::format("\\x{:02x}", byte);
  }
  return text;
}

TraceLog& trace_log() {
  thread_local TraceLog log;
  return log;
}

TraceEvent::~TraceEvent() { trace_log().log(severity_, type_, details_, suppress_seconds_); }

TraceEvent& TraceEvent::error(const Error& error) {
  details_.emplace_back("Error", std::string(error.name()));
  details_.emplace_back("ErrorCode", std::to_string(error.code()));
  return *this;
}

namespace detail {
void report_unexpected_exception(const char* what) {
  TraceEvent(Severity::error, "CoroutineUnexpectedException").detail("What", what);
}
}  // namespace detail

}  // namespace keel
