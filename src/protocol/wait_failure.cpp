#include "protocol/wait_failure.h"

#include "runtime/combinators.h"

namespace keel {
namespace {

Future<Void> answer_after_hold(WaitFailureRequest request) {
  co_await delay(wait_failure_hold_seconds);
  request.reply.send(Void{});
  co_return Void{};
}

}  // namespace

Future<Void> serve_wait_failure(FutureStream<WaitFailureRequest> requests) {
  ActorCollection held;
  while (true) {
    WaitFailureRequest request = co_await requests.next();
    held.add(answer_after_hold(std::move(request)));
  }
}

Future<Void> wait_for_failure(RequestStream<WaitFailureRequest> stream) {
  while (true) {
    WaitFailureRequest request;
    Future<Void> answered = timeout_error(stream.get_reply(request), wait_failure_timeout_seconds);
    co_await ready(answered);
    if (answered.is_error()) co_return Void{};
  }
}

}  // namespace keel
