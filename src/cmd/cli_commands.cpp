#include "cmd/cli_commands.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "protocol/cluster_controller_interface.h"
#include "protocol/cluster_file.h"
#include "runtime/error.h"

namespace keel::cmd {
namespace {

const CliCommandInfo* find_command(std::string_view name) {
  if (name == "quit") name = "exit";
  for (const CliCommandInfo& info : cli_command_table()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

[[noreturn]] void usage_error(const CliCommandInfo& info, std::string_view problem = {}, int code = errc::invalid_command) {
  const std::string what = problem.empty() ? fmt::format("wrong arguments for `{}'", info.name) : std::string(problem);
  throw CliUsageError{cli_error_line(code, what) + fmt::format("\nUsage: {}", info.usage)};
}

[[noreturn]] void unknown_command(std::string_view name) {
  throw CliUsageError{cli_error_line(errc::invalid_command, fmt::format("Unknown command `{}'. Try `help'?", printable(name)))};
}

void expect_arguments(const CliCommandInfo& info, const CliCommandTokens& tokens, size_t min, size_t max) {
  const size_t arguments = tokens.size() - 1;
  if (arguments < min || arguments > max) usage_error(info);
}

int parse_limit(const CliCommandInfo& info, const CliToken& token) {
  int limit = 0;
  const char* first = token.text.data();
  const char* last = first + token.text.size();
  const auto [end, error] = std::from_chars(first, last, limit);
  if (!token.is_literal() || error != std::errc() || end != last || limit < 1 || limit > getrange_limit_max) {
    usage_error(info, fmt::format("LIMIT must be a number from 1 to {}, got `{}'", getrange_limit_max,
                                  printable(token.text)));
  }
  return limit;
}

// getrange BEGIN [END] [LIMIT] [reverse]
void parse_getrange(const CliCommandInfo& info, const CliCommandTokens& tokens, CliRequest& request) {
  size_t count = tokens.size();
  if (count >= 3 && tokens.back().is_keyword("reverse")) {
    request.reverse = true;
    --count;
  }
  if (count < 2 || count > 4) usage_error(info);
  for (size_t i = 1; i < count; ++i) {
    if (tokens[i].is_keyword("reverse")) {
      usage_error(info, "`reverse' comes last (a key named reverse is written \"reverse\")");
    }
  }
  request.key = tokens[1].text;
  request.end = count >= 3 ? tokens[2].text : Key(1, '\xff');
  if (count == 4) request.limit = parse_limit(info, tokens[3]);
}

// ADDR... from tokens[first] on.
void parse_addresses(const CliCommandInfo& info, const CliCommandTokens& tokens, size_t first, CliRequest& request) {
  for (size_t i = first; i < tokens.size(); ++i) {
    try {
      request.addresses.push_back(NetworkAddress::parse(tokens[i].text));
    } catch (const Error&) {
      usage_error(info, fmt::format("`{}' is not an address IP:PORT", printable(tokens[i].text)), errc::invalid_address);
    }
  }
}

// coordinators [auto|ADDR...]
void parse_coordinators(const CliCommandInfo& info, const CliCommandTokens& tokens, CliRequest& request) {
  if (tokens.size() == 2 && tokens[1].is_keyword("auto")) {
    request.automatic = true;
    return;
  }
  parse_addresses(info, tokens, 1, request);
  std::vector<NetworkAddress> sorted = request.addresses;
  std::sort(sorted.begin(), sorted.end());
  const auto twice = std::adjacent_find(sorted.begin(), sorted.end());
  if (twice != sorted.end()) {
    usage_error(info, fmt::format("`{}' is named twice", twice->to_string()), errc::coordinators_invalid);
  }
  const size_t count = request.addresses.size();
  if (count > coordinators_max) {
    usage_error(info, fmt::format("name 1, 3 or 5 coordinators, got {}", count), errc::coordinators_invalid);
  }
  if (count % 2 == 0 && count != 0) {
    usage_error(info,
                fmt::format("name 1, 3 or 5 coordinators, got {}: a majority of an even number survives no more "
                            "failures than one fewer",
                            count),
                errc::coordinators_invalid);
  }
}

// include all|ADDR...
void parse_include(const CliCommandInfo& info, const CliCommandTokens& tokens, CliRequest& request) {
  if (tokens.size() < 2) usage_error(info);
  if (tokens.size() == 2 && tokens[1].is_keyword("all")) {
    request.all = true;
    return;
  }
  parse_addresses(info, tokens, 1, request);
}

[[noreturn]] void invalid_configuration(const CliCommandInfo& info, std::string_view problem) {
  usage_error(info, problem, errc::configuration_invalid);
}

// configure [new] [single|double|triple] [memory|ssd|rocksdb] [logs=N] [proxies=N] [resolvers=N]
void parse_configure(const CliCommandInfo& info, const CliCommandTokens& tokens, CliRequest& request) {
  if (tokens.size() < 2) usage_error(info);
  static const std::vector<std::string_view> modes = {"single", "double", "triple"};
  static const std::vector<std::string_view> engines = {"memory", "ssd", "rocksdb"};
  for (size_t i = 1; i < tokens.size(); ++i) {
    const std::string& text = tokens[i].text;
    if (tokens[i].is_keyword("new")) {
      request.configure_new = true;
      continue;
    }
    auto mode = std::find(modes.begin(), modes.end(), text);
    if (tokens[i].is_literal() && mode != modes.end()) {
      const auto replication = static_cast<int32_t>(mode - modes.begin()) + 1;
      if (request.replication != 0 && request.replication != replication) {
        invalid_configuration(info, fmt::format("two replication modes, `{}' and `{}': name one", modes[request.replication - 1], text));
      }
      request.replication = replication;
      continue;
    }
    if (tokens[i].is_literal() && std::find(engines.begin(), engines.end(), text) != engines.end()) {
      if (!request.engine.empty() && request.engine != text) {
        invalid_configuration(info, fmt::format("two storage engines, `{}' and `{}': name one", request.engine, text));
      }
      request.engine = text;
      continue;
    }
    const size_t equals = text.find('=');
    const std::string name = text.substr(0, equals == std::string::npos ? text.size() : equals);
    int32_t* count = name == "logs" ? &request.tlogs
                     : name == "proxies" ? &request.proxies
                     : name == "resolvers" ? &request.resolvers
                                           : nullptr;
    if (!tokens[i].is_literal() || count == nullptr || equals == std::string::npos) {
      invalid_configuration(info, fmt::format("unknown configuration `{}'", printable(text)));
    }
    const char* first = text.data() + equals + 1;
    const char* last = text.data() + text.size();
    const int32_t earlier = *count;
    const auto [end, error] = std::from_chars(first, last, *count);
    if (error != std::errc() || end != last || *count < 1 || *count > configured_count_max) {
      invalid_configuration(info, fmt::format("{} must be a number from 1 to {}, got `{}'", name, configured_count_max,
                                    printable(text.substr(equals + 1))));
    }
    if (earlier != 0 && earlier != *count) invalid_configuration(info, fmt::format("{} given twice, {} and {}", name, earlier, *count));
  }
}

}  // namespace

std::string cli_error_line(int code, std::string_view problem) {
  return fmt::format("ERROR: {} ({}): {}", Error(code).name(), code, problem);
}

const std::vector<CliCommandInfo>& cli_command_table() {
  static const std::vector<CliCommandInfo> table = {
      {"get", CliVerb::get, "get KEY", "Shows the value of KEY."},
      {"set", CliVerb::set, "set KEY VALUE", "Sets KEY to VALUE (needs writemode on)."},
      {"clear", CliVerb::clear, "clear KEY", "Clears KEY (needs writemode on)."},
      {"clearrange", CliVerb::clearrange, "clearrange BEGIN END", "Clears the keys in [BEGIN, END) (needs writemode on)."},
      {"getrange", CliVerb::getrange, "getrange BEGIN [END] [LIMIT] [reverse]",
       "Shows up to LIMIT (25) keys and values in [BEGIN, END) (END: the end of the user keyspace, \\xff)."},
      {"getkey", CliVerb::getkey, "getkey [>=|>|<=|<]KEY [+N|-N]",
       "Resolves a key selector: the first key >= KEY (default), > KEY, or the last <= KEY, < KEY, moved N keys."},
      {"begin", CliVerb::begin, "begin", "Starts a transaction: later commands join it until commit or rollback."},
      {"commit", CliVerb::commit, "commit", "Commits the current transaction."},
      {"rollback", CliVerb::rollback, "rollback", "Discards the current transaction."},
      {"writemode", CliVerb::writemode, "writemode on|off", "Enables or disables set, clear and clearrange."},
      {"status", CliVerb::status, "status [json]",
       "Shows the cluster: generation, recovery, controller, coordinators, roles, workers, committed version, "
       "storage servers, engine metrics, memory. `status json': the same as one JSON object, for monitoring."},
      {"coordinators", CliVerb::coordinators, "coordinators [auto|ADDR...]",
       "Shows the coordinators, or moves the cluster to new ones: 1, 3 or 5 addresses of its keel server processes, "
       "or `auto' (as many as the replication mode wants, from live processes). Rewrites the cluster file."},
      {"configure", CliVerb::configure, "configure [logs=N] [proxies=N] [resolvers=N] [single|double|triple] [memory|ssd|rocksdb]",
       "Changes how many logs, proxies and resolvers each generation has (online: the cluster recovers into a new "
       "generation) and the replication mode (online: data distribution moves every shard to a team of that many "
       "storage servers in distinct zones). The engine is checked against the cluster's: it cannot change online."},
      {"exclude", CliVerb::exclude, "exclude [ADDR...]",
       "Lists the excluded processes, or excludes processes: no transaction role is recruited there any more (a "
       "recovery moves those they host), and data distribution moves the shards of their storage servers to others."},
      {"include", CliVerb::include, "include all|ADDR...",
       "Allows excluded processes to host transaction roles and shards again."},
      {"help", CliVerb::help, "help [COMMAND]", "Lists the commands, or shows the usage of one."},
      {"exit", CliVerb::exit, "exit", "Leaves the cli (also: quit, end of input)."},
  };
  return table;
}

CliRequest parse_cli_request(const CliCommandTokens& tokens) {
  const CliToken& name = tokens.front();
  const CliCommandInfo* info = name.is_literal() ? find_command(name.text) : nullptr;
  if (info == nullptr) unknown_command(name.text);
  CliRequest request;
  request.verb = info->verb;
  switch (info->verb) {
    case CliVerb::get:
    case CliVerb::clear:
      expect_arguments(*info, tokens, 1, 1);
      request.key = tokens[1].text;
      break;
    case CliVerb::set:
      expect_arguments(*info, tokens, 2, 2);
      request.key = tokens[1].text;
      request.value = tokens[2].text;
      break;
    case CliVerb::clearrange:
      expect_arguments(*info, tokens, 2, 2);
      request.key = tokens[1].text;
      request.end = tokens[2].text;
      break;
    case CliVerb::getrange:
      parse_getrange(*info, tokens, request);
      break;
    case CliVerb::getkey: {
      expect_arguments(*info, tokens, 1, 3);
      const std::vector<CliToken> selector_tokens(tokens.begin() + 1, tokens.end());
      try {
        request.selector = parse_key_selector(selector_tokens);
      } catch (const CliSyntaxError& error) {
        usage_error(*info, error.message);
      }
      break;
    }
    case CliVerb::writemode:
      expect_arguments(*info, tokens, 1, 1);
      if (!tokens[1].is_keyword("on") && !tokens[1].is_keyword("off")) usage_error(*info);
      request.writemode_on = tokens[1].text == "on";
      break;
    case CliVerb::coordinators:
      parse_coordinators(*info, tokens, request);
      break;
    case CliVerb::configure:
      parse_configure(*info, tokens, request);
      break;
    case CliVerb::exclude:
      parse_addresses(*info, tokens, 1, request);
      break;
    case CliVerb::include:
      parse_include(*info, tokens, request);
      break;
    case CliVerb::help:
      expect_arguments(*info, tokens, 0, 1);
      if (tokens.size() == 2) request.topic = tokens[1].text;
      break;
    case CliVerb::status:
      expect_arguments(*info, tokens, 0, 1);
      if (tokens.size() == 2) {
        if (tokens[1].text != "json") {
          usage_error(*info, fmt::format("`status' takes no argument but `json', not `{}'", printable(tokens[1].text)));
        }
        request.json = true;
      }
      break;
    case CliVerb::begin:
    case CliVerb::commit:
    case CliVerb::rollback:
    case CliVerb::exit:
      expect_arguments(*info, tokens, 0, 0);
      break;
  }
  return request;
}

std::string cli_help_text(std::string_view topic) {
  if (!topic.empty()) {
    const CliCommandInfo* info = find_command(topic);
    if (info == nullptr) unknown_command(topic);
    return fmt::format("{}\n  {}\n", info->usage, info->summary);
  }
  std::string text = "Commands:\n";
  for (const CliCommandInfo& info : cli_command_table()) text += fmt::format("  {:<40} {}\n", info.usage, info.summary);
  text +=
      "Keys and values: printable ASCII as is, `\\\\' for a backslash, `\\xNN' for any other byte; quote an\n"
      "argument with spaces or `;' in \"double quotes\". Separate commands on one line with `;'.\n";
  return text;
}

bool is_admin(CliVerb verb) {
  return verb == CliVerb::coordinators || verb == CliVerb::configure || verb == CliVerb::exclude ||
         verb == CliVerb::include;
}

bool is_write(CliVerb verb) { return verb == CliVerb::set || verb == CliVerb::clear || verb == CliVerb::clearrange; }

}  // namespace keel::cmd
