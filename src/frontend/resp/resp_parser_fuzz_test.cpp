// A bounded randomized test of the parser: valid requests cut at random points must parse back
// exactly; random mutations and garbage must never crash, hang or exceed the limits (run under
// AddressSanitizer by scripts/test). The seed is printed on failure; KEEL_RESP_FUZZ_SEED reruns one.
#include <gtest/gtest.h>

#include <cstdlib>

#include "frontend/resp/resp_parser.h"
#include "runtime/random.h"

namespace keel {
namespace {

using Args = std::vector<std::string>;

std::string random_bytes(DeterministicRandom& random, size_t length) {
  std::string bytes;
  for (size_t i = 0; i < length; ++i) {
    const int choice = static_cast<int>(random.random_int(0, 10));
    if (choice == 0) bytes.push_back('\r');
    else if (choice == 1) bytes.push_back('\n');
    else if (choice == 2) bytes.push_back(static_cast<char>(random.random_int(0, 256)));
    else bytes.push_back(static_cast<char>('a' + random.random_int(0, 26)));
  }
  return bytes;
}

std::string encode(const Args& command) {
  std::string bytes = "*" + std::to_string(command.size()) + "\r\n";
  for (const std::string& arg : command) bytes += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  return bytes;
}

uint64_t base_seed() {
  const char* text = std::getenv("KEEL_RESP_FUZZ_SEED");
  return text != nullptr ? std::strtoull(text, nullptr, 10) : 20240601;
}

// Feeds `bytes` in random pieces; returns the commands until malformed (and whether it was).
std::vector<Args> feed_in_pieces(DeterministicRandom& random, RespParser& parser, const std::string& bytes,
                                 bool& malformed, const RespLimits& limits) {
  std::vector<Args> commands;
  malformed = false;
  size_t at = 0;
  Args command;
  while (at < bytes.size() && !malformed) {
    const auto piece = static_cast<size_t>(random.random_int(1, 64));
    parser.feed(std::string_view(bytes).substr(at, piece));
    at += piece;
    while (true) {
      const RespParser::Status status = parser.next(command);
      if (status == RespParser::Status::need_more) break;
      if (status == RespParser::Status::malformed) {
        malformed = true;
        break;
      }
      commands.push_back(command);
    }
    EXPECT_LE(parser.buffered_bytes(), limits.query_buffer_bytes_max + 64);
  }
  return commands;
}

TEST(RespParserFuzz, ValidRequestsRoundTrip) {
  const uint64_t seed = base_seed();
  for (int iteration = 0; iteration < 2000; ++iteration) {
    DeterministicRandom random(seed + static_cast<uint64_t>(iteration));
    std::vector<Args> sent;
    std::string bytes;
    const int count = static_cast<int>(random.random_int(1, 8));
    for (int i = 0; i < count; ++i) {
      Args command;
      const int args = static_cast<int>(random.random_int(1, 6));
      for (int a = 0; a < args; ++a) command.push_back(random_bytes(random, static_cast<size_t>(random.random_int(0, 40))));
      bytes += encode(command);
      sent.push_back(std::move(command));
    }
    RespLimits limits;
    RespParser parser(limits);
    bool malformed = false;
    const std::vector<Args> received = feed_in_pieces(random, parser, bytes, malformed, limits);
    ASSERT_FALSE(malformed) << "seed " << seed + static_cast<uint64_t>(iteration) << ": " << parser.error();
    ASSERT_EQ(received, sent) << "seed " << seed + static_cast<uint64_t>(iteration);
    ASSERT_EQ(parser.buffered_bytes(), 0u) << "seed " << seed + static_cast<uint64_t>(iteration);
  }
}

TEST(RespParserFuzz, MutatedAndRandomInputIsSafe) {
  const uint64_t seed = base_seed() * 31 + 7;
  for (int iteration = 0; iteration < 5000; ++iteration) {
    DeterministicRandom random(seed + static_cast<uint64_t>(iteration));
    std::string bytes;
    if (random.coin(0.5)) {
      Args command{"SET", random_bytes(random, 5), random_bytes(random, static_cast<size_t>(random.random_int(0, 50)))};
      bytes = encode(command) + encode(command);
      const int mutations = static_cast<int>(random.random_int(1, 4));
      for (int m = 0; m < mutations; ++m) {
        const auto at = static_cast<size_t>(random.random_int(0, static_cast<int64_t>(bytes.size())));
        bytes[at] = static_cast<char>(random.coin(0.5) ? random.random_int(0, 256) : "*$\r\n-0123456789"[random.random_int(0, 15)]);
      }
    } else {
      bytes = random_bytes(random, static_cast<size_t>(random.random_int(0, 300)));
    }
    RespLimits limits;
    limits.bulk_bytes_max = static_cast<size_t>(random.random_int(1, 100));
    limits.array_length_max = static_cast<size_t>(random.random_int(1, 10));
    limits.inline_bytes_max = static_cast<size_t>(random.random_int(1, 200));
    limits.query_buffer_bytes_max = static_cast<size_t>(random.random_int(1, 400));
    RespParser parser(limits);
    bool malformed = false;
    const std::vector<Args> received = feed_in_pieces(random, parser, bytes, malformed, limits);
    for (const Args& command : received) {
      ASSERT_FALSE(command.empty()) << "seed " << seed + static_cast<uint64_t>(iteration);
      ASSERT_LE(command.size(), std::max<size_t>(limits.array_length_max, limits.inline_bytes_max))
          << "seed " << seed + static_cast<uint64_t>(iteration);
    }
    if (malformed) {
      ASSERT_EQ(parser.error().rfind("ERR Protocol error: ", 0), 0u) << "seed " << seed + static_cast<uint64_t>(iteration);
    }
  }
}

}  // namespace
}  // namespace keel
