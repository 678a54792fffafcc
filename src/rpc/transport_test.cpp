#include "rpc/transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "rpc/echo_service.h"
#include "rpc/frame.h"
#include "world/real_world.h"

namespace keel {
namespace {

// Runs a RealWorld serving echo on 127.0.0.1 in its own thread (worlds are per thread).
class EchoServerThread {
 public:
  EchoServerThread() {
    thread_ = std::thread([this] {
      RealWorld world;
      Transport& transport = Transport::current();
      address_ = transport.listen(NetworkAddress::loopback(0));
      Future<Void> serving = serve_echo();
      ready_ = true;
      while (!stop_) {
        world.run(delay(0.01));
      }
      rejected_ = transport.stats().frames_rejected;
    });
    while (!ready_) std::this_thread::yield();
  }
  ~EchoServerThread() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  NetworkAddress address() const { return address_; }
  uint64_t frames_rejected() const { return rejected_; }

 private:
  std::thread thread_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> rejected_{0};
  NetworkAddress address_;
};

Future<int> echo_many(NetworkAddress server, int count) {
  RequestStream<EchoRequest> echo = echo_service_at(server);
  int matched = 0;
  for (int i = 0; i < count; ++i) {
    EchoRequest request;
    request.text = "message " + std::to_string(i);
    request.sequence = static_cast<uint64_t>(i);
    Future<EchoReply> pending = echo.get_reply(request);
    EchoReply reply = co_await pending;
    if (reply.text == request.text && reply.sequence == request.sequence) ++matched;
  }
  co_return matched;
}

TEST(TransportTest, EchoBetweenTwoWorldsOnLoopback) {
  EchoServerThread server;
  RealWorld world;
  Future<int> matched = timeout_error(echo_many(server.address(), 200), 20.0);
  world.run(ready(matched));
  EXPECT_EQ(matched.get(), 200);
}

Future<int> error_of(Future<EchoReply> reply) {
  try {
    co_await reply;
  } catch (const Error& error) {
    co_return error.code();
  }
  co_return 0;
}

TEST(TransportTest, MissingEndpointRepliesBrokenPromise) {
  EchoServerThread server;
  RealWorld world;
  RequestStream<EchoRequest> nowhere(Endpoint{server.address(), 777});
  EchoRequest request;
  Future<int> code = timeout_error(error_of(nowhere.get_reply(request)), 20.0);
  world.run(ready(code));
  EXPECT_EQ(code.get(), errc::broken_promise);
}

TEST(TransportTest, NobodyListeningGivesConnectionFailed) {
  NetworkAddress closed;
  {
    RealWorld probe;
    closed = probe.listen(NetworkAddress::loopback(0))->address();
  }
  RealWorld world;
  EchoRequest request;
  Future<int> code = timeout_error(error_of(echo_service_at(closed).get_reply(request)), 20.0);
  world.run(ready(code));
  EXPECT_EQ(code.get(), errc::connection_failed);
}

Future<int> send_garbage(NetworkAddress server) {
  std::shared_ptr<IConnection> connection = co_await world().connect(server);
  std::string bad;
  encode_frame(well_known_token::connect_packet, "not a connect packet at all", bad);
  connection->write(bad);
  int closed = 0;
  try {
    while (true) co_await connection->read_some();
  } catch (const Error& error) {
    closed = error.code();
  }
  co_return closed;
}

TEST(TransportTest, BadHandshakeClosesTheConnection) {
  EchoServerThread server;
  RealWorld world;
  Future<int> closed = timeout_error(send_garbage(server.address()), 20.0);
  world.run(ready(closed));
  EXPECT_EQ(closed.get(), errc::connection_failed);
  server.stop();
  EXPECT_EQ(server.frames_rejected(), 1u);
}

}  // namespace
}  // namespace keel
