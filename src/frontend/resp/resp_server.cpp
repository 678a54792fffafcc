#include "frontend/resp/resp_server.h"

#include <algorithm>
#include <optional>
#include <variant>

#include "frontend/resp/expiry_sweeper.h"
#include "frontend/resp/resp_knobs.h"
#include "frontend/resp/resp_parser.h"
#include "frontend/resp/session.h"
#include "protocol/cluster_file.h"
#include "runtime/combinators.h"
#include "runtime/scheduler.h"
#include "runtime/trace.h"

namespace keel {
namespace {

constexpr size_t reply_flush_bytes = 64 * 1024;
constexpr double close_drain_seconds = 5.0;
// A closing connection drops the client's input until it has been quiet this long.
constexpr double close_linger_quiet_seconds = 0.5;

void flush(RespServerState& server, IConnection& connection, ReplyWriter& out) {
  if (out.size() == 0) return;
  server.stats.net_output_bytes += out.size();
  connection.write(out.take());
  out.clear();
}

// Sends what is queued, then reads and drops what the client still sends until it closes or
// goes quiet, all within close_drain_seconds; then closes. Closing with input unread resets the
// connection, and a reset makes the client's system drop the reply it has not read yet: a client
// whose value was over the bulk limit is still sending it when the error goes out.
// `reading`: a read already in progress, if any.
Future<Void> close_after_drain(std::shared_ptr<IConnection> connection, std::optional<Future<std::string>> reading = {}) {
  const double deadline = now() + close_drain_seconds;
  Future<Void> drained = connection->on_unsent_at_most(0);
  co_await timeout(drained, close_drain_seconds);
  while (now() < deadline) {
    Future<std::string> input = reading ? std::move(*reading) : connection->read_some();
    reading.reset();
    std::optional<Void> arrived = co_await timeout(ready(input), std::min(close_linger_quiet_seconds, deadline - now()));
    if (!arrived || input.is_error()) break;
  }
  connection->close();
  co_return Void{};
}

// The complete commands the parser holds, up to the batch limits; `malformed` once the parser
// failed (after the commands before the bad input).
std::vector<std::vector<std::string>> next_commands(RespParser& parser, bool& malformed) {
  const auto commands_max = static_cast<size_t>(resp_knobs().resp_batch_commands_max);
  const auto bytes_max = static_cast<size_t>(resp_knobs().resp_batch_bytes_max);
  std::vector<std::vector<std::string>> commands;
  size_t bytes = 0;
  while (commands.size() < commands_max && bytes < bytes_max) {
    std::vector<std::string> command;
    const RespParser::Status status = parser.next(command);
    if (status == RespParser::Status::need_more) break;
    if (status == RespParser::Status::malformed) {
      malformed = true;
      break;
    }
    for (const std::string& argument : command) bytes += argument.size();
    commands.push_back(std::move(command));
  }
  return commands;
}

// Serves one client. Its replies go out as they come; once more than
// resp_reply_bytes_unsent_max of them wait for the client to read, its commands wait too. Its
// requests are still read meanwhile (up to resp_query_buffer_bytes_max of them): a client that
// sends a whole pipeline before it reads a reply (redis-py does) would otherwise never read
// the replies that stopped us, and both would wait for good.
Future<Void> serve_connection(std::shared_ptr<RespServerState> server, std::shared_ptr<IConnection> connection) {
  Session session(*server, connection);
  RespParser parser(resp_limits_from_knobs());
  ReplyWriter out;
  bool open = true;
  const auto unsent_max = static_cast<size_t>(resp_knobs().resp_reply_bytes_unsent_max);
  const auto input_held_max = static_cast<size_t>(resp_knobs().resp_query_buffer_bytes_max);
  auto backed_up = [&] { return connection->bytes_unsent() + out.size() > unsent_max; };
  std::optional<Future<std::string>> reading;  // kept across waits: a read is never dropped
  std::optional<Future<Void>> draining;        // likewise, so waits do not pile up on the connection
  bool input_ended = false;                    // the client closed (or failed): run what it sent, then end
  try {
    while (open) {
      while (open && !backed_up()) {
        bool malformed = false;
        std::vector<std::vector<std::string>> commands = next_commands(parser, malformed);
        if (commands.empty() && !malformed) break;
        if (!commands.empty()) {
          Future<Void> done = session.execute_pipeline(std::move(commands), out);
          if (!done.is_ready()) flush(*server, *connection, out);  // earlier replies need not wait
          co_await done;
          if (session.closing()) open = false;
        }
        if (malformed && open) {
          out.error(parser.error());
          ++server->stats.protocol_errors;
          open = false;
        }
        if (out.size() >= reply_flush_bytes) flush(*server, *connection, out);
      }
      flush(*server, *connection, out);
      session.info().active_at = now();  // a long command's time does not count as idle
      if (!open || input_ended) break;
      // Backed up, the parser may hold commands: they run once the replies drain. Else it
      // holds none, and only the client's next bytes can bring one.
      const bool waits_for_replies = backed_up();
      if (!reading && (!waits_for_replies || parser.buffered_bytes() < input_held_max)) reading = connection->read_some();
      if (waits_for_replies) {
        if (!draining) draining = connection->on_unsent_at_most(unsent_max / 2);
        if (reading) {
          Future<std::variant<Void, Void>> either = race(*draining, ready(*reading));
          co_await either;
        } else {
          Future<Void> drained = *draining;
          co_await drained;
        }
        if (draining->is_ready()) draining.reset();
        if (!reading || !reading->is_ready()) continue;
      }
      Future<std::string> input = std::move(*reading);
      reading.reset();
      co_await ready(input);
      if (input.is_error()) {  // as Redis, the commands it sent before it closed still run
        input_ended = true;
        continue;
      }
      const std::string& bytes = input.get();
      session.info().active_at = now();
      server->stats.net_input_bytes += bytes.size();
      parser.set_limits(resp_limits_from_knobs());
      parser.feed(bytes);
    }
    if (!input_ended) co_await close_after_drain(connection, std::move(reading));
  } catch (const Error& error) {
    if (error.code() != errc::connection_failed) {
      TraceEvent(Severity::warn, "RespConnectionFailed").error(error).suppress_for(1.0);
    }
  }
  connection->close();
  co_return Void{};
}

// CONFIG SET timeout: closes the clients idle that long, checking once a second, as Redis does.
Future<Void> close_idle_clients(std::shared_ptr<RespServerState> server) {
  while (true) {
    co_await delay(1.0);
    const auto idle_max = static_cast<double>(server->idle_timeout_seconds);
    if (idle_max <= 0) continue;
    std::vector<std::shared_ptr<IConnection>> idle;  // closed after the walk: a close may end a session
    for (const auto& [id, session] : server->sessions) {
      if (now() - session->info().active_at > idle_max) idle.push_back(session->connection());
    }
    for (const std::shared_ptr<IConnection>& connection : idle) connection->close();
  }
}

Future<Void> refuse_connection(std::shared_ptr<IConnection> connection) {
  connection->write("-ERR max number of clients reached\r\n");
  co_await close_after_drain(connection);
  co_return Void{};
}

Future<Void> accept_loop(std::shared_ptr<RespServerState> server, std::shared_ptr<IListener> listener,
                         ActorCollection* connections) {
  while (true) {
    Future<std::shared_ptr<IConnection>> accepted = listener->accept();
    co_await ready(accepted);
    if (accepted.is_error()) {
      TraceEvent(Severity::warn_always, "RespAcceptFailed").error(accepted.error()).suppress_for(1.0);
      co_await delay(0.1);
      continue;
    }
    ++server->stats.connections_received;
    if (server->sessions.size() >= server->connections_max) {
      ++server->stats.connections_rejected;
      connections->add(refuse_connection(accepted.get()));
      continue;
    }
    connections->add(serve_connection(server, accepted.get()));
  }
}

}  // namespace

int64_t wall_time_ms() { return static_cast<int64_t>(world().wall_time() * 1000.0); }

Future<Void> run_resp_server(std::shared_ptr<IListener> listener, RespServerOptions options) {
  auto server = std::make_shared<RespServerState>(Database(options.connection), options.prefix, listener->address());
  server->start_time = now();
  server->connections_max = options.connections_max;
  TraceEvent(Severity::info, "RespServerStarted")
      .detail("Address", listener->address().to_string())
      .detail("Cluster", format_connection_string(options.connection->get()));
  ActorCollection connections;
  Future<Void> sweeper = options.sweep_expired ? run_expiry_sweeper(server) : never();
  Future<Void> accepting = accept_loop(server, listener, &connections);
  Future<Void> failed = connections.result();
  Future<Void> idle_closer = close_idle_clients(server);
  std::vector<Future<Void>> actors{accepting, failed, sweeper, idle_closer};
  co_await when_any(actors);
  co_return Void{};
}

}  // namespace keel
