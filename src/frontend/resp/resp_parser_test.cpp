#include "frontend/resp/resp_parser.h"

#include <gtest/gtest.h>

namespace keel {
namespace {

using Status = RespParser::Status;
using Args = std::vector<std::string>;

std::vector<Args> parse_all(RespParser& parser) {
  std::vector<Args> commands;
  Args command;
  while (parser.next(command) == Status::command) commands.push_back(command);
  return commands;
}

TEST(RespParser, ArraysOfBulkStrings) {
  RespParser parser;
  parser.feed("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
  const std::vector<Args> commands = parse_all(parser);
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0], (Args{"GET", "k"}));
  EXPECT_EQ(commands[1], (Args{"SET", "k", ""}));
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(RespParser, ByteAtATime) {
  const std::string request = "*2\r\n$4\r\nECHO\r\n$5\r\na\r\nb\x00\r\nPING\r\n";
  const std::string bytes(request.data(), request.size());
  RespParser parser;
  std::vector<Args> commands;
  for (char c : std::string("*2\r\n$4\r\nECHO\r\n$5\r\na\r\nb") + std::string(1, '\0') + "\r\nPING\r\n") {
    parser.feed(std::string_view(&c, 1));
    for (Args& command : parse_all(parser)) commands.push_back(command);
  }
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0][1], std::string("a\r\nb") + std::string(1, '\0'));
  EXPECT_EQ(commands[1], (Args{"PING"}));
}

TEST(RespParser, InlineCommandsWithQuotes) {
  RespParser parser;
  parser.feed("SET  k \"a b\\x41\\n\" 'it\\'s'\r\n\r\nPING\n");
  const std::vector<Args> commands = parse_all(parser);
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0], (Args{"SET", "k", "a bA\n", "it's"}));
  EXPECT_EQ(commands[1], (Args{"PING"}));
}

TEST(RespParser, UnbalancedQuotesAreMalformed) {
  RespParser parser;
  parser.feed("SET k \"abc\r\n");
  Args command;
  EXPECT_EQ(parser.next(command), Status::malformed);
  EXPECT_EQ(parser.error(), "ERR Protocol error: unbalanced quotes in request");
  EXPECT_EQ(parser.next(command), Status::malformed);  // stays stuck
}

TEST(RespParser, Limits) {
  RespLimits limits;
  limits.bulk_bytes_max = 10;
  limits.array_length_max = 4;
  limits.inline_bytes_max = 16;
  limits.query_buffer_bytes_max = 64;
  Args command;
  {
    RespParser parser(limits);
    parser.feed("*1\r\n$11\r\n");
    EXPECT_EQ(parser.next(command), Status::malformed);
    EXPECT_NE(parser.error().find("invalid bulk length (the limit is 10 bytes"), std::string::npos);
  }
  {
    RespParser parser(limits);
    parser.feed("*1\r\n$-5\r\n");
    EXPECT_EQ(parser.next(command), Status::malformed);
    EXPECT_EQ(parser.error(), "ERR Protocol error: invalid bulk length");  // a negative length: no limit to name
  }
  {
    RespParser parser(limits);
    parser.feed("*5\r\n");
    EXPECT_EQ(parser.next(command), Status::malformed);
    EXPECT_EQ(parser.error(), "ERR Protocol error: invalid multibulk length");
  }
  {
    RespParser parser(limits);
    parser.feed(std::string(17, 'a'));
    EXPECT_EQ(parser.next(command), Status::malformed);
    EXPECT_EQ(parser.error(), "ERR Protocol error: too big inline request");
  }
  {
    RespParser parser(limits);
    parser.feed("*4\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n$10\r\n01234");
    EXPECT_EQ(parser.next(command), Status::malformed);
    EXPECT_NE(parser.error().find("query buffer"), std::string::npos);
  }
  {
    RespParser parser(limits);
    parser.feed("*1\r\n$-5\r\n");
    EXPECT_EQ(parser.next(command), Status::malformed);
  }
  {
    RespParser parser(limits);
    parser.feed("*1\r\nfoo\r\n");
    EXPECT_EQ(parser.next(command), Status::malformed);
    EXPECT_EQ(parser.error(), "ERR Protocol error: expected '$', got 'f'");
  }
  {
    RespParser parser(limits);
    parser.feed("*1\r\n$3\r\nabcXY");
    EXPECT_EQ(parser.next(command), Status::malformed);
  }
}

TEST(RespParser, EmptyArraysAreSkipped) {
  RespParser parser;
  parser.feed("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n");
  const std::vector<Args> commands = parse_all(parser);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0], (Args{"PING"}));
}

}  // namespace
}  // namespace keel
