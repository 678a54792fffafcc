// Structured trace events: one JSON object per line with the time, the process address, the
// severity, a PascalCase type (`<Role><Happening>`) and string details.
//
//   TraceEvent(Severity::warn, "RpcFrameRejected").detail("Peer", peer).error(e);
//
// The event is logged when the TraceEvent object is destroyed. `suppress_for(seconds)` logs at
// most one event of that type per interval (per process). Every event logged, printed or not,
// feeds the rolling trace hash that simulation reports as part of a run's fingerprint, and
// events of severity `error` are counted: simulation fails a run that logged any.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "runtime/error.h"

namespace keel {

enum class Severity : int { debug = 5, info = 10, warn = 20, warn_always = 30, error = 40 };
std::string_view severity_name(Severity severity);

class TraceLog {
 public:
  // Where printed lines go: nowhere (hash and count only), stderr, or a file.
  void set_output_file(std::FILE* file) { output_ = file; }
  void set_min_severity(Severity severity) { min_severity_ = severity; }
  // Supplies the address of the current process for each event ("" when unknown).
  void set_address_provider(std::function<std::string()> provider) { address_ = std::move(provider); }
  // Supplies the current time for each event.
  void set_clock(std::function<double()> clock) { clock_ = std::move(clock); }

  void log(Severity severity, std::string_view type,
           const std::vector<std::pair<std::string, std::string>>& details, double suppress_seconds);

  uint64_t hash() const { return hash_; }
  uint64_t error_count() const { return error_count_; }
  uint64_t event_count() const { return event_count_; }
  // The first few error events, for failure reports.
  const std::vector<std::string>& first_errors() const { return first_errors_; }
  void reset();

 private:
  std::FILE* output_ = nullptr;
  Severity min_severity_ = Severity::info;
  std::function<std::string()> address_;
  std::function<double()> clock_;
  std::map<std::pair<std::string, std::string>, double> suppressed_until_;
  uint64_t hash_ = 0;
  uint64_t error_count_ = 0;
  uint64_t event_count_ = 0;
  std::vector<std::string> first_errors_;
};

// The current thread's trace log.
TraceLog& trace_log();

// `bytes` with everything but printable ASCII escaped as \xNN (and `\` as \x5c), for keys and
// values in trace details and problem reports.
std::string printable(std::string_view bytes);

class TraceEvent {
 public:
  explicit TraceEvent(std::string_view type) : TraceEvent(Severity::info, type) {}
  TraceEvent(Severity severity, std::string_view type) : severity_(severity), type_(type) {}
  TraceEvent(const TraceEvent&) = delete;
  TraceEvent& operator=(const TraceEvent&) = delete;
  ~TraceEvent();

  template <class V>
  TraceEvent& detail(std::string_view key, const V& value) {
    details_.emplace_back(std::string(key), fmt::format("{}", value));
    return *this;
  }
  TraceEvent& error(const Error& error);
  TraceEvent& suppress_for(double seconds) {
    suppress_seconds_ = seconds;
    return *this;
  }

 private:
  Severity severity_;
  std::string type_;
  std::vector<std::pair<std::string, std::string>> details_;
  double suppress_seconds_ = 0;
};

}  // namespace keel
