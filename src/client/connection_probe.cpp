#include "client/connection_probe.h"

#include <optional>
#include <vector>

#include <fmt/format.h>

#include "protocol/well_known.h"
#include "rpc/frame.h"
#include "rpc/serialize.h"
#include "rpc/transport.h"
#include "runtime/combinators.h"
#include "world/world.h"

namespace keel {
namespace {

constexpr double probe_connect_seconds = 1.0;
constexpr double probe_answer_seconds = 0.5;

enum class Speaker { keel, other_version, resp, unknown, silent, unreachable };

// The first bytes `connection` sends within `seconds`; "" when none came or it failed.
Future<std::string> first_bytes(std::shared_ptr<IConnection> connection, double seconds) {
  Future<std::string> input = connection->read_some();
  std::optional<Void> arrived = co_await timeout(ready(input), seconds);
  if (!arrived || input.is_error()) co_return std::string{};
  co_return input.get();
}

// `bytes` and what follows within `seconds`, until they hold one whole frame (or cannot be one).
Future<std::string> whole_frame(std::shared_ptr<IConnection> connection, std::string bytes, double seconds) {
  const double deadline = now() + seconds;
  while (now() < deadline) {
    size_t offset = 0;
    Frame frame;
    if (decode_frame_at(bytes, offset, frame) != FrameStatus::incomplete) break;
    std::string more = co_await first_bytes(connection, deadline - now());
    if (more.empty()) break;
    bytes += more;
  }
  co_return bytes;
}

// A keel server's first frame is its ConnectPacket.
Speaker greeting_of(const std::string& bytes) {
  size_t offset = 0;
  Frame frame;
  if (decode_frame_at(bytes, offset, frame) != FrameStatus::ok || frame.token != well_known_token::connect_packet) {
    return Speaker::unknown;
  }
  try {
    const auto packet = deserialize_from_string<ConnectPacket>(frame.message);
    if (packet.magic != connect_packet_magic) return Speaker::unknown;
    return packet.version == protocol_version ? Speaker::keel : Speaker::other_version;
  } catch (const Error&) {
    return Speaker::unknown;
  }
}

// What listens at `address`: a keel server greets first; a Redis-protocol server says nothing
// until asked, and answers PING.
Future<Speaker> identify(NetworkAddress address) {
  Future<std::shared_ptr<IConnection>> connecting = world().connect(address);
  std::optional<Void> settled = co_await timeout(ready(connecting), probe_connect_seconds);
  if (!settled || connecting.is_error()) co_return Speaker::unreachable;
  std::shared_ptr<IConnection> connection = connecting.get();
  std::string bytes = co_await first_bytes(connection, probe_answer_seconds);
  Speaker found = Speaker::silent;
  if (!bytes.empty()) {
    bytes = co_await whole_frame(connection, std::move(bytes), probe_answer_seconds);
    found = greeting_of(bytes);
  } else {
    connection->write("PING\r\n");
    bytes = co_await first_bytes(connection, probe_answer_seconds);
    if (!bytes.empty()) found = bytes[0] == '+' || bytes[0] == '-' ? Speaker::resp : Speaker::unknown;
  }
  connection->close();
  co_return found;
}

// The problem with one coordinator, or "".
Future<std::string> problem_of(CoordinatorInterface coordinator, NetworkAddress address, std::string cluster_id) {
  Future<Speaker> identified = identify(address);
  const Speaker speaker = co_await identified;
  const std::string at = address.to_string();
  switch (speaker) {
    case Speaker::unreachable:
      co_return fmt::format("nothing accepts connections at {}", at);
    case Speaker::silent:
      co_return fmt::format("{} accepts connections but sent no keel greeting within {:g} s (a keel server sends one at "
                            "once: another program, or a server too busy to answer)",
                            at, probe_answer_seconds);
    case Speaker::resp:
      co_return fmt::format("{} speaks the Redis protocol: it is a keel server's --resp address, not its --listen address", at);
    case Speaker::unknown:
      co_return fmt::format("{} answers, but not as a keel server", at);
    case Speaker::other_version:
      co_return fmt::format("{} runs a keel server of another protocol version", at);
    case Speaker::keel:
      break;
  }
  GetLeaderRequest request;
  request.cluster_id = cluster_id;
  Future<GetLeaderReply> asked = coordinator.get_leader.get_reply(request);
  std::optional<Void> answered = co_await timeout(ready(asked), probe_connect_seconds);
  if (!answered || asked.is_error() || asked.get().clusters_held.empty()) co_return std::string{};
  co_return fmt::format(
      "{} is a coordinator of cluster {}, not of cluster {} that the cluster file names: the file is another "
      "cluster's; a server writes its own at its --cluster-file",
      at, fmt::join(asked.get().clusters_held, ", "), cluster_id);
}

}  // namespace

Future<std::vector<std::string>> coordinator_problems(ClusterConnectionString connection) {
  const CoordinatorSet coordinators = coordinator_set(connection);
  std::vector<Future<std::string>> probes;
  for (size_t i = 0; i < connection.coordinators.size(); ++i) {
    probes.push_back(problem_of(coordinators.coordinators[i], connection.coordinators[i], connection.id));
  }
  co_return co_await when_all(std::move(probes));
}

Future<std::string> probe_coordinators(ClusterConnectionString connection) {
  Future<std::vector<std::string>> all = coordinator_problems(std::move(connection));
  const std::vector<std::string> problems = co_await all;
  std::string joined;
  for (const std::string& problem : problems) {
    if (problem.empty()) continue;
    if (!joined.empty()) joined += "; ";
    joined += problem;
  }
  co_return joined;
}

}  // namespace keel
