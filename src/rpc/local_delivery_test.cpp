// Requests and replies between a process and itself: types marked sent_locally_as_object go as
// objects, never serialized; the others as bytes; failures answer as they do over the network.
#include <gtest/gtest.h>

#include <string>

#include "rpc/request_stream.h"
#include "runtime/combinators.h"
#include "world/real_world.h"

namespace keel {
namespace {

int serializations = 0;  // of the test's messages, by either path

struct ObjectReply {
  std::string text;
  template <class Archive>
  void serialize(Archive& archive) {
    ++serializations;
    archive(text);
  }
};

struct ObjectRequest {
  std::string text;
  ReplyPromise<ObjectReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    ++serializations;
    archive(text, reply);
  }
};

struct BytesRequest {
  std::string text;
  ReplyPromise<ObjectReply> reply;
  template <class Archive>
  void serialize(Archive& archive) {
    ++serializations;
    archive(text, reply);
  }
};

}  // namespace

template <>
inline constexpr bool sent_locally_as_object<ObjectReply> = true;
template <>
inline constexpr bool sent_locally_as_object<ObjectRequest> = true;

namespace {

// Answers each request with its text and "!", fails those asking "fail" with not_committed and
// drops those asking "drop" unanswered.
template <class Request>
Future<Void> answer(FutureStream<Request> requests) {
  while (true) {
    Request request = co_await requests.next();
    if (request.text == "fail") {
      request.reply.send_error(Error(errc::not_committed));
    } else if (request.text != "drop") {
      request.reply.send(ObjectReply{request.text + "!"});
    }
  }
}

template <class Request>
Future<std::string> ask(RequestStream<Request> stream, std::string text) {
  Request request;
  request.text = std::move(text);
  try {
    Future<ObjectReply> reply = stream.get_reply(std::move(request));
    const ObjectReply answered = co_await reply;
    co_return answered.text;
  } catch (const Error& error) {
    co_return "error " + std::string(error.name());
  }
}

class LocalDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    serializations = 0;
    Transport::current().listen(NetworkAddress::loopback(0));
  }
  template <class Request>
  std::string run(RequestStream<Request> stream, std::string text) {
    Future<std::string> answered = timeout_error(ask(stream, std::move(text)), 20.0);
    world_.run(ready(answered));
    return answered.get();
  }
  RealWorld world_;
};

TEST_F(LocalDeliveryTest, ObjectTypesSkipSerialization) {
  RequestStream<ObjectRequest> stream = RequestStream<ObjectRequest>::serve();
  Future<Void> serving = answer(stream.requests());
  EXPECT_EQ(run(stream, "hello"), "hello!");
  EXPECT_EQ(run(stream, "again"), "again!");
  EXPECT_EQ(serializations, 0);
}

TEST_F(LocalDeliveryTest, OtherTypesGoAsBytes) {
  RequestStream<BytesRequest> stream = RequestStream<BytesRequest>::serve();
  Future<Void> serving = answer(stream.requests());
  EXPECT_EQ(run(stream, "hello"), "hello!");
  EXPECT_EQ(serializations, 2);  // the request written and read; the reply went as an object
}

TEST_F(LocalDeliveryTest, FailuresAnswerAsOverTheNetwork) {
  RequestStream<ObjectRequest> stream = RequestStream<ObjectRequest>::serve();
  Future<Void> serving = answer(stream.requests());
  EXPECT_EQ(run(stream, "fail"), "error not_committed");
  EXPECT_EQ(run(stream, "drop"), "error broken_promise");
  const RequestStream<ObjectRequest> nowhere(Endpoint{Transport::current().local_address(), 777});
  EXPECT_EQ(run(nowhere, "anyone?"), "error broken_promise");
  EXPECT_EQ(serializations, 0);
}

}  // namespace
}  // namespace keel
