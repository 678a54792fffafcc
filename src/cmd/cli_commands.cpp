#include "cmd/cli_commands.h"

#include <charconv>

#include <fmt/format.h>

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

[[noreturn]] void usage_error(const CliCommandInfo& info, std::string_view problem = {}) {
  std::string message = problem.empty() ? "" : fmt::format("ERROR: {}\n", problem);
  throw CliUsageError{message + fmt::format("Usage: {}", info.usage)};
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
  request.key = tokens[1].text;
  request.end = count >= 3 ? tokens[2].text : Key(1, '\xff');
  if (count == 4) request.limit = parse_limit(info, tokens[3]);
}

// coordinators [auto|ADDR...]
void parse_coordinators(const CliCommandInfo& info, const CliCommandTokens& tokens, CliRequest& request) {
  if (tokens.size() == 2 && tokens[1].is_keyword("auto")) {
    request.automatic = true;
    return;
  }
  for (size_t i = 1; i < tokens.size(); ++i) {
    try {
      request.coordinators.push_back(NetworkAddress::parse(tokens[i].text));
    } catch (const Error&) {
      usage_error(info, fmt::format("`{}' is not an address IP:PORT", printable(tokens[i].text)));
    }
  }
}

}  // namespace

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
      {"status", CliVerb::status, "status",
       "Shows the cluster: generation, recovery, controller, coordinators, roles, workers, committed version, "
       "storage servers."},
      {"coordinators", CliVerb::coordinators, "coordinators [auto|ADDR...]",
       "Shows the coordinators, or moves the cluster to new ones: 1, 3 or 5 addresses of its keel server processes, "
       "or `auto' (as many as the replication mode wants, from live processes). Rewrites the cluster file."},
      {"help", CliVerb::help, "help [COMMAND]", "Lists the commands, or shows the usage of one."},
      {"exit", CliVerb::exit, "exit", "Leaves the cli (also: quit, end of input)."},
  };
  return table;
}

CliRequest parse_cli_request(const CliCommandTokens& tokens) {
  const CliToken& name = tokens.front();
  const CliCommandInfo* info = name.is_literal() ? find_command(name.text) : nullptr;
  if (info == nullptr) throw CliUsageError{fmt::format("ERROR: Unknown command `{}'. Try `help'?", printable(name.text))};
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
    case CliVerb::help:
      expect_arguments(*info, tokens, 0, 1);
      if (tokens.size() == 2) request.topic = tokens[1].text;
      break;
    case CliVerb::begin:
    case CliVerb::commit:
    case CliVerb::rollback:
    case CliVerb::status:
    case CliVerb::exit:
      expect_arguments(*info, tokens, 0, 0);
      break;
  }
  return request;
}

std::string cli_help_text(std::string_view topic) {
  if (!topic.empty()) {
    const CliCommandInfo* info = find_command(topic);
    if (info == nullptr) throw CliUsageError{fmt::format("ERROR: Unknown command `{}'. Try `help'?", printable(topic))};
    return fmt::format("{}\n  {}\n", info->usage, info->summary);
  }
  std::string text = "Commands:\n";
  for (const CliCommandInfo& info : cli_command_table()) text += fmt::format("  {:<40} {}\n", info.usage, info.summary);
  text +=
      "Keys and values: printable ASCII as is, `\\\\' for a backslash, `\\xNN' for any other byte; quote an\n"
      "argument with spaces or `;' in \"double quotes\". Separate commands on one line with `;'.\n";
  return text;
}

bool is_write(CliVerb verb) { return verb == CliVerb::set || verb == CliVerb::clear || verb == CliVerb::clearrange; }

}  // namespace keel::cmd
