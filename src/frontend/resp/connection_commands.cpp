// Connection commands: PING, ECHO, HELLO, AUTH, SELECT, CLIENT, QUIT, RESET, TIME. They run
// outside any transaction and touch only the session.
#include <set>

#include <fmt/format.h>

#include "frontend/resp/session.h"
#include "runtime/scheduler.h"
#include "world/world.h"

namespace keel {
namespace {

using namespace resp_errors;

constexpr std::string_view redis_version = "7.2.0";

Future<Void> ping(CommandContext& c) {
  if (c.args.size() > 2) {
    c.out.error(wrong_arity_error("ping"));
  } else if (c.args.size() == 2) {
    c.out.bulk(c.args[1]);
  } else {
    c.out.simple("PONG");
  }
  return Void{};
}

Future<Void> echo(CommandContext& c) {
  c.out.bulk(c.args[1]);
  return Void{};
}

bool valid_client_name(std::string_view name) {
  for (char ch : name) {
    if (ch < '!' || ch > '~') return false;
  }
  return true;
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
Future<Void> hello(CommandContext& c) {
  ClientInfo& info = c.session.info();
  int protocol = info.protocol;
  size_t i = 1;
  if (c.args.size() >= 2) {
    int64_t version = 0;
    if (!parse_int64(c.args[1], version)) {
      c.out.error("ERR Protocol version is not an integer or out of range");
      return Void{};
    }
    if (version != 2 && version != 3) {
      c.out.error("NOPROTO unsupported protocol version");
      return Void{};
    }
    protocol = static_cast<int>(version);
    i = 2;
  }
  std::optional<std::string> name;
  for (; i < c.args.size(); ++i) {
    const std::string option = lowercase(c.args[i]);
    if (option == "auth" && i + 2 < c.args.size()) {
      i += 2;  // no authentication yet: every user is the default user
    } else if (option == "setname" && i + 1 < c.args.size()) {
      name = c.args[++i];
      if (!valid_client_name(*name)) {
        c.out.error("ERR Client names cannot contain spaces, newlines or special characters.");
        return Void{};
      }
    } else {
      c.out.error("ERR Syntax error in HELLO option '" + c.args[i] + "'");
      return Void{};
    }
  }
  info.protocol = protocol;
  if (name) info.name = *name;
  c.out.set_protocol(protocol);
  c.out.map(7);
  c.out.bulk("server");
  c.out.bulk("redis");
  c.out.bulk("version");
  c.out.bulk(redis_version);
  c.out.bulk("proto");
  c.out.integer(protocol);
  c.out.bulk("id");
  c.out.integer(static_cast<int64_t>(info.id));
  c.out.bulk("mode");
  c.out.bulk("standalone");
  c.out.bulk("role");
  c.out.bulk("master");
  c.out.bulk("modules");
  c.out.array(0);
  return Void{};
}

Future<Void> auth(CommandContext& c) {
  if (c.args.size() > 3) {
    c.out.error(syntax);
  } else if (c.args.size() == 2) {
    c.out.error("ERR AUTH <password> called without any password configured for the default user. "
                "Are you sure your configuration is correct?");
  } else if (c.args[1] == "default") {
    c.out.ok();
  } else {
    c.out.error("WRONGPASS invalid username-password pair or user is disabled.");
  }
  return Void{};
}

Future<Void> select(CommandContext& c) {
  int64_t index = 0;
  if (!integer_argument(c, 1, index)) return Void{};
  if (index != 0) {
    c.out.error("ERR DB index is out of range");
  } else {
    c.out.ok();
  }
  return Void{};
}

std::string client_line(const RespServerState& server, const Session& session_ref) {
  const ClientInfo& info = session_ref.info();
  const auto age = static_cast<int64_t>(now() - info.connected_at);
  const auto idle = static_cast<int64_t>(now() - info.active_at);
  return fmt::format(
      "id={} addr={} laddr={} fd=0 name={} age={} idle={} flags={} db=0 sub=0 psub=0 ssub=0 multi={} watch={} "
      "qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} "
      "user=default redir=-1 resp={} lib-name={} lib-ver={}\n",
      info.id, info.peer.to_string(), server.address.to_string(), info.name, age, idle,
      session_ref.in_multi() ? "x" : "N",
      session_ref.in_multi() ? 0 : -1, session_ref.watched_count(),
      info.last_command, info.protocol, info.lib_name, info.lib_version);
}

// A client type Redis names (CLIENT LIST TYPE, CLIENT KILL TYPE): true for "normal", the type
// of every client here; false for the others (master, replica, slave, pubsub). nullopt: no type.
std::optional<bool> normal_client_type(const std::string& name) {
  const std::string type = lowercase(name);
  if (type == "normal") return true;
  if (type == "master" || type == "replica" || type == "slave" || type == "pubsub") return false;
  return std::nullopt;
}

// CLIENT LIST [TYPE type | ID id [id ...]]: the clients, one line each.
void client_list(CommandContext& c) {
  const size_t n = c.args.size();
  std::set<uint64_t> ids;
  bool all_types = true;
  if (n == 4 && lowercase(c.args[2]) == "type") {
    const std::optional<bool> normal = normal_client_type(c.args[3]);
    if (!normal) {
      c.out.error("ERR Unknown client type '" + c.args[3] + "'");
      return;
    }
    all_types = *normal;
  } else if (n > 3 && lowercase(c.args[2]) == "id") {
    for (size_t i = 3; i < n; ++i) {
      int64_t id = 0;
      if (!parse_int64(c.args[i], id) || id < 1) {
        c.out.error("ERR Invalid client ID");
        return;
      }
      ids.insert(static_cast<uint64_t>(id));
    }
  } else if (n != 2) {
    c.out.error(syntax);
    return;
  }
  std::string text;
  for (const auto& [id, session] : c.server.sessions) {
    if (all_types && (ids.empty() || ids.contains(id))) text += client_line(c.server, *session);
  }
  c.out.verbatim(text);
}

// Which clients a CLIENT KILL names.
struct KillFilter {
  std::optional<uint64_t> id;
  std::optional<std::string> address;
  std::optional<std::string> local_address;
  std::optional<int64_t> max_age_seconds;
  bool normal = true;  // a TYPE other than normal names no client here
  bool skip_me = true;
};

// CLIENT KILL's filters from args[2] on (pairs); false after an error reply.
bool parse_kill_filter(CommandContext& c, KillFilter& filter) {
  for (size_t i = 2; i < c.args.size(); i += 2) {
    const std::string option = lowercase(c.args[i]);
    if (i + 1 >= c.args.size()) {
      c.out.error(syntax);
      return false;
    }
    const std::string& value = c.args[i + 1];
    if (option == "id") {
      int64_t id = 0;
      if (!parse_int64(value, id) || id < 1) {
        c.out.error("ERR client-id should be greater than 0");
        return false;
      }
      filter.id = static_cast<uint64_t>(id);
    } else if (option == "type") {
      const std::optional<bool> normal = normal_client_type(value);
      if (!normal) {
        c.out.error("ERR Unknown client type '" + value + "'");
        return false;
      }
      filter.normal = *normal;
    } else if (option == "addr") {
      filter.address = value;
    } else if (option == "laddr") {
      filter.local_address = value;
    } else if (option == "user") {
      if (value != "default") {  // the one user there is (no ACLs)
        c.out.error("ERR No such user '" + value + "'");
        return false;
      }
    } else if (option == "skipme" && (equals_ignore_case(value, "yes") || equals_ignore_case(value, "no"))) {
      filter.skip_me = equals_ignore_case(value, "yes");
    } else if (option == "maxage") {
      int64_t seconds = 0;
      if (!integer_argument(c, i + 1, seconds)) return false;
      filter.max_age_seconds = seconds;
    } else {
      c.out.error(syntax);
      return false;
    }
  }
  return true;
}

// CLIENT KILL addr:port (OK, or an error if no client has that address) or CLIENT KILL <filter
// value> ... (how many were closed; SKIPME yes unless told). Another client's connection closes
// at once, this client's own after the reply.
void client_kill(CommandContext& c) {
  KillFilter filter;
  const bool old_form = c.args.size() == 3;
  if (old_form) {
    filter.address = c.args[2];
    filter.skip_me = false;
  } else if (!parse_kill_filter(c, filter)) {
    return;
  }
  std::vector<std::shared_ptr<IConnection>> closed;  // closed after the walk: a close may end a session
  int64_t killed = 0;
  for (const auto& [id, session] : c.server.sessions) {
    const ClientInfo& info = session->info();
    if (!filter.normal || (filter.id && *filter.id != id)) continue;
    if (filter.address && *filter.address != info.peer.to_string()) continue;
    if (filter.local_address && *filter.local_address != c.server.address.to_string()) continue;
    if (filter.max_age_seconds && now() - info.connected_at < static_cast<double>(*filter.max_age_seconds)) continue;
    if (session == &c.session) {
      if (filter.skip_me) continue;
      c.session.close_after_reply();
    } else {
      closed.push_back(session->connection());
    }
    ++killed;
  }
  for (const std::shared_ptr<IConnection>& connection : closed) connection->close();
  if (!old_form) {
    c.out.integer(killed);
  } else if (killed == 0) {
    c.out.error("ERR No such client");
  } else {
    c.out.ok();
  }
}

Future<Void> client(CommandContext& c) {
  const std::string sub = lowercase(c.args[1]);
  ClientInfo& info = c.session.info();
  const size_t n = c.args.size();
  if (sub == "setname" && n == 3) {
    if (!valid_client_name(c.args[2])) {
      c.out.error("ERR Client names cannot contain spaces, newlines or special characters.");
    } else {
      info.name = c.args[2];
      c.out.ok();
    }
  } else if (sub == "getname" && n == 2) {
    if (info.name.empty()) {
      c.out.null();
    } else {
      c.out.bulk(info.name);
    }
  } else if (sub == "id" && n == 2) {
    c.out.integer(static_cast<int64_t>(info.id));
  } else if (sub == "info" && n == 2) {
    c.out.verbatim(client_line(c.server, c.session));
  } else if (sub == "list") {
    client_list(c);
  } else if (sub == "kill") {
    client_kill(c);
  } else if (sub == "setinfo" && n == 4) {
    const std::string attribute = lowercase(c.args[2]);
    if (attribute == "lib-name") {
      info.lib_name = c.args[3];
    } else if (attribute == "lib-ver") {
      info.lib_version = c.args[3];
    } else {
      c.out.error("ERR Unrecognized option '" + c.args[2] + "'");
      return Void{};
    }
    c.out.ok();
  } else if ((sub == "no-evict" || sub == "no-touch") && n == 3) {
    const std::string value = lowercase(c.args[2]);
    if (value == "on" || value == "off") {
      c.out.ok();
    } else {
      c.out.error(resp_errors::syntax);
    }
  } else if (sub == "help") {
    const std::vector<std::string_view> lines = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "GETNAME", "ID", "INFO",
        "KILL <ip:port>", "KILL <option> <value> [<option> <value> [...]]",
        "    ID <client-id>, TYPE (NORMAL|MASTER|REPLICA|PUBSUB), USER <username>, ADDR <ip:port>,",
        "    LADDR <ip:port>, SKIPME (YES|NO), MAXAGE <seconds>", "LIST [TYPE <type> | ID <client-id> [...]]",
        "SETINFO <LIB-NAME|LIB-VER> <value>", "SETNAME <name>", "NO-EVICT (ON|OFF)", "NO-TOUCH (ON|OFF)", "HELP"};
    c.out.array(lines.size());
    for (std::string_view line : lines) c.out.simple(line);
  } else {  // subcommand_error() let nothing else through
    c.out.error("ERR unknown subcommand '" + c.args[1] + "'. Try CLIENT HELP.");
  }
  return Void{};
}

Future<Void> quit(CommandContext& c) {
  c.out.ok();
  c.session.close_after_reply();
  return Void{};
}

Future<Void> reset(CommandContext& c) {
  c.session.reset();
  c.out.set_protocol(2);
  c.out.simple("RESET");
  return Void{};
}

// TIME: seconds and microseconds of the wall clock.
Future<Void> time(CommandContext& c) {
  const auto us = static_cast<int64_t>(world().wall_time() * 1e6);
  c.out.array(2);
  c.out.bulk(std::to_string(us / 1'000'000));
  c.out.bulk(std::to_string(us % 1'000'000));
  return Void{};
}

}  // namespace

std::vector<CommandSpec> connection_commands() {
  constexpr uint32_t connection = command_flags::connection;
  constexpr uint32_t fast = command_flags::fast;
  return {
      {"ping", -1, connection | fast, 0, 0, 0, ping},
      {"echo", 2, connection | fast, 0, 0, 0, echo},
      {"hello", -1, connection | fast, 0, 0, 0, hello},
      {"auth", -2, connection | fast, 0, 0, 0, auth},
      {"select", 2, connection | fast, 0, 0, 0, select},
      {"client", -2, connection, 0, 0, 0, client},
      {"quit", -1, command_flags::session | fast, 0, 0, 0, quit},
      {"reset", 1, command_flags::session | fast, 0, 0, 0, reset},
      {"time", 1, connection | fast, 0, 0, 0, time},
  };
}

}  // namespace keel
