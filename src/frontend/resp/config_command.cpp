// CONFIG GET/SET/RESETSTAT/REWRITE: the settings Redis clients and tools ask for. Few change
// anything here: proto-max-bulk-len sets the bulk limit knob and timeout the idle time after
// which a client is closed; the persistence settings report what KeelDB does (every commit
// durable) whatever is set; the encoding thresholds and eviction policy are stored per front
// end and reported back, since KeelDB has no encodings and no eviction, and maxmemory can only
// be 0 (a limit would not be kept). CONFIG SET validates every pair before applying any, as
// Redis does.
#include <fmt/format.h>

#include <array>

#include "frontend/resp/resp_knobs.h"
#include "frontend/resp/session.h"

namespace keel {
namespace {

enum class SettingKind { integer, memory, yes_no, choice, text, immutable };

struct Setting {
  std::string_view name;
  std::string_view alias;  // Redis's older name, "" for none
  SettingKind kind;
  std::string_view initial;
  std::string_view choices = {};  // SettingKind::choice: ", "-separated
  bool reported_fixed = false;    // CONFIG GET answers `initial` whatever was set
};

constexpr std::array settings{
    Setting{"appendfsync", "", SettingKind::choice, "always", "always, everysec, no", true},
    Setting{"appendonly", "", SettingKind::yes_no, "yes", "", true},
    Setting{"databases", "", SettingKind::immutable, "1"},
    Setting{"hash-max-listpack-entries", "hash-max-ziplist-entries", SettingKind::integer, "128"},
    Setting{"hash-max-listpack-value", "hash-max-ziplist-value", SettingKind::integer, "64"},
    Setting{"list-max-listpack-size", "list-max-ziplist-size", SettingKind::integer, "-2"},
    Setting{"maxclients", "", SettingKind::immutable, ""},
    Setting{"maxmemory", "", SettingKind::memory, "0"},
    Setting{"maxmemory-policy", "", SettingKind::choice, "noeviction",
            "volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
            "noeviction"},
    Setting{"port", "", SettingKind::immutable, ""},
    Setting{"proto-max-bulk-len", "", SettingKind::memory, ""},
    Setting{"save", "", SettingKind::text, ""},
    Setting{"set-max-intset-entries", "", SettingKind::integer, "512"},
    Setting{"timeout", "", SettingKind::integer, "0"},
    Setting{"zset-max-listpack-entries", "zset-max-ziplist-entries", SettingKind::integer, "128"},
    Setting{"zset-max-listpack-value", "zset-max-ziplist-value", SettingKind::integer, "64"},
};

const Setting* find_setting(std::string_view lowercase_name) {
  for (const Setting& setting : settings) {
    if (setting.name == lowercase_name || (!setting.alias.empty() && setting.alias == lowercase_name)) return &setting;
  }
  return nullptr;
}

std::string current_value(const RespServerState& server, const Setting& setting) {
  if (setting.name == "maxclients") return std::to_string(server.connections_max);
  if (setting.name == "port") return std::to_string(server.address.port);
  if (setting.name == "proto-max-bulk-len") return fmt::format("{}", static_cast<int64_t>(resp_knobs().resp_bulk_bytes_max));
  if (!setting.reported_fixed) {
    const auto stored = server.config_settings.find(std::string(setting.name));
    if (stored != server.config_settings.end()) return stored->second;
  }
  return std::string(setting.initial);
}

// Redis's memory values: a number with an optional unit (k, kb, m, mb, g, gb; any case).
bool parse_memory(std::string_view text, int64_t& bytes) {
  size_t digits = 0;
  while (digits < text.size() && ((text[digits] >= '0' && text[digits] <= '9') || (digits == 0 && text[0] == '-'))) {
    ++digits;
  }
  int64_t number = 0;
  if (!parse_int64(text.substr(0, digits), number) || number < 0) return false;
  const std::string unit = lowercase(text.substr(digits));
  int64_t scale = 1;
  if (unit == "k") scale = 1000;
  else if (unit == "kb") scale = 1024;
  else if (unit == "m") scale = 1000 * 1000;
  else if (unit == "mb") scale = 1024 * 1024;
  else if (unit == "g") scale = 1000 * 1000 * 1000;
  else if (unit == "gb") scale = 1024 * 1024 * 1024;
  else if (!unit.empty() && unit != "b") return false;
  if (number > INT64_MAX / scale) return false;
  bytes = number * scale;
  return true;
}

// Why `value` is no valid value of `setting`, or "" when it is.
std::string invalid_value_reason(const Setting& setting, std::string_view value) {
  int64_t number = 0;
  switch (setting.kind) {
    case SettingKind::integer:
      if (!parse_int64(value, number)) return "argument couldn't be parsed into an integer";
      return setting.name == "timeout" && (number < 0 || number > INT32_MAX) ? "argument must be between 0 and 2147483647 inclusive" : "";
    case SettingKind::memory:
      if (!parse_memory(value, number)) return "argument must be a memory value";
      if (setting.name == "maxmemory" && number != 0) {
        return "KeelDB does not evict keys: data lives on disk, beyond memory, so maxmemory can only be 0 (keel server "
               "--memory sizes the server's caches)";
      }
      return setting.name == "proto-max-bulk-len" && number < 1024 ? "argument must be between 1024 and 9223372036854775807" : "";
    case SettingKind::yes_no: {
      const std::string lower = lowercase(value);
      return lower == "yes" || lower == "no" ? "" : "argument must be 'yes' or 'no'";
    }
    case SettingKind::choice: {
      const std::string lower = lowercase(value);
      std::string_view choices = setting.choices;
      while (!choices.empty()) {
        const size_t comma = choices.find(", ");
        if (choices.substr(0, comma) == lower) return "";
        choices = comma == std::string_view::npos ? std::string_view{} : choices.substr(comma + 2);
      }
      return "argument(s) must be one of the following: " + std::string(setting.choices);
    }
    case SettingKind::text: return "";
    case SettingKind::immutable: return "can't set immutable config";
  }
  return "";
}

void config_get(CommandContext& c) {
  std::vector<std::pair<std::string, std::string>> matched;
  for (const Setting& setting : settings) {
    for (size_t i = 2; i < c.args.size(); ++i) {
      std::string_view reported;
      if (glob_match(c.args[i], setting.name, true)) reported = setting.name;
      else if (!setting.alias.empty() && glob_match(c.args[i], setting.alias, true)) reported = setting.alias;
      if (reported.empty()) continue;
      matched.emplace_back(std::string(reported), current_value(c.server, setting));
      break;
    }
  }
  c.out.map(matched.size());
  for (const auto& [name, value] : matched) {
    c.out.bulk(name);
    c.out.bulk(value);
  }
}

void config_set(CommandContext& c) {
  std::vector<std::pair<const Setting*, std::string>> changes;
  for (size_t i = 2; i < c.args.size(); i += 2) {
    const Setting* setting = find_setting(lowercase(c.args[i]));
    if (setting == nullptr) {
      c.out.error("ERR Unknown option or number of arguments for CONFIG SET - '" + c.args[i] + "'");
      return;
    }
    std::string reason = invalid_value_reason(*setting, c.args[i + 1]);
    for (const auto& change : changes) {
      if (change.first == setting) reason = "duplicate parameter";
    }
    if (!reason.empty()) {
      c.out.error("ERR CONFIG SET failed (possibly related to argument '" + c.args[i] + "') - " + reason);
      return;
    }
    changes.emplace_back(setting, c.args[i + 1]);
  }
  for (const auto& [setting, value] : changes) {
    int64_t bytes = 0;
    if (setting->name == "proto-max-bulk-len" && parse_memory(value, bytes)) {
      resp_knobs().resp_bulk_bytes_max = static_cast<double>(bytes);
    } else {
      int64_t seconds = 0;
      if (setting->name == "timeout" && parse_int64(value, seconds)) c.server.idle_timeout_seconds = seconds;
      const bool lower = setting->kind == SettingKind::choice || setting->kind == SettingKind::yes_no;
      c.server.config_settings[std::string(setting->name)] = lower ? lowercase(value) : value;
    }
  }
  c.out.ok();
}

}  // namespace

Future<Void> config_command(CommandContext& c) {
  const std::string sub = lowercase(c.args[1]);
  if (sub == "get" && c.args.size() >= 3) {
    config_get(c);
  } else if (sub == "set" && c.args.size() >= 4 && c.args.size() % 2 == 0) {
    config_set(c);
  } else if (sub == "resetstat" && c.args.size() == 2) {
    c.server.stats = RespStats{};
    c.out.ok();
  } else if (sub == "rewrite" && c.args.size() == 2) {
    c.out.ok();
  } else if (sub == "set") {  // a name without a value (subcommand_error() checked the rest)
    c.out.error(resp_errors::syntax);
  } else {
    c.out.error("ERR unknown subcommand '" + c.args[1] + "'. Try CONFIG HELP.");
  }
  return Void{};
}

}  // namespace keel
