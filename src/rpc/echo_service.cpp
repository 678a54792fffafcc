#include "rpc/echo_service.h"

#include <vector>

#include "runtime/combinators.h"

namespace keel {

Future<Void> serve_echo() {
  RequestStream<EchoRequest> stream = RequestStream<EchoRequest>::serve(well_known_token::echo);
  FutureStream<EchoRequest> requests = stream.requests();
  while (true) {
    EchoRequest request = co_await requests.next();
    EchoReply reply;
    reply.text = std::move(request.text);
    reply.sequence = request.sequence;
    request.reply.send(reply);
  }
}

RequestStream<EchoRequest> echo_service_at(NetworkAddress address) {
  return RequestStream<EchoRequest>(Endpoint{address, well_known_token::echo});
}

namespace {

// One of `in_flight` lanes: sends requests one after another until `count` were taken. A
// connection that fails ends every lane: the peer is not there, and the requests left would
// each wait out the reconnection backoff to fail the same way.
Future<Void> echo_lane(RequestStream<EchoRequest> echo, uint64_t count, std::string payload,
                       uint64_t* next_sequence, EchoLoadResult* result) {
  while (*next_sequence < count) {
    EchoRequest request;
    request.sequence = (*next_sequence)++;
    request.text = payload;
    ++result->sent;
    try {
      Future<EchoReply> pending = echo.get_reply(request);
      EchoReply reply = co_await pending;
      if (reply.sequence == request.sequence && reply.text == payload) {
        ++result->matched;
      } else {
        ++result->mismatched;
      }
    } catch (const Error& error) {
      if (result->errors++ == 0) result->first_error = error;
      if (error.code() == errc::connection_failed) *next_sequence = count;
    }
  }
  co_return Void{};
}

}  // namespace

Future<EchoLoadResult> run_echo_load(NetworkAddress address, uint64_t count, int in_flight,
                                     size_t payload_bytes) {
  EchoLoadResult result;
  uint64_t next_sequence = 0;
  const std::string payload(payload_bytes, 'e');
  const double start = now();
  std::vector<Future<Void>> lanes;
  for (int lane = 0; lane < in_flight; ++lane) {
    lanes.push_back(echo_lane(echo_service_at(address), count, payload, &next_sequence, &result));
  }
  Future<std::vector<Void>> all = when_all(std::move(lanes));
  co_await all;
  result.seconds = now() - start;
  co_return result;
}

}  // namespace keel
