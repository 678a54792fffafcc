#include "rpc/frame.h"

#include <gtest/gtest.h>

#include <cstring>

#include "runtime/error.h"
#include "runtime/random.h"

namespace keel {
namespace {

std::vector<Frame> decode_all(FrameDecoder& decoder) {
  std::vector<Frame> frames;
  while (std::optional<Frame> frame = decoder.next()) frames.push_back(std::move(*frame));
  return frames;
}

TEST(FrameTest, RoundTripFedByteByByte) {
  std::string stream;
  encode_frame(7, "first", stream);
  encode_frame(8, "", stream);
  encode_frame(9, std::string(100000, 'z'), stream);
  FrameDecoder decoder;
  std::vector<Frame> frames;
  for (char byte : stream) {
    decoder.feed(std::string_view(&byte, 1));
    for (Frame& frame : decode_all(decoder)) frames.push_back(std::move(frame));
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].token, 7u);
  EXPECT_EQ(frames[0].message, "first");
  EXPECT_EQ(frames[1].message, "");
  EXPECT_EQ(frames[2].message.size(), 100000u);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

int decode_error(std::string_view stream) {
  FrameDecoder decoder;
  decoder.feed(stream);
  try {
    decode_all(decoder);
  } catch (const Error& error) {
    return error.code();
  }
  return 0;
}

TEST(FrameTest, CorruptPayloadFailsTheChecksum) {
  std::string stream;
  encode_frame(7, "payload", stream);
  stream.back() ^= 0x01;
  EXPECT_EQ(decode_error(stream), errc::checksum_failed);
}

TEST(FrameTest, OversizedLengthIsRejectedWithoutWaitingForIt) {
  std::string stream(frame_header_bytes, '\0');
  const uint32_t length = frame_bytes_max + 1;
  std::memcpy(stream.data(), &length, 4);
  EXPECT_EQ(decode_error(stream), errc::frame_too_large);
}

TEST(FrameTest, PayloadShorterThanTokenIsRejected) {
  std::string stream(frame_header_bytes + 3, '\0');
  const uint32_t length = 3;
  std::memcpy(stream.data(), &length, 4);
  EXPECT_EQ(decode_error(stream), errc::serialization_failed);
}

TEST(FrameTest, TruncatedStreamWaitsForMore) {
  std::string stream;
  encode_frame(1, "abcdef", stream);
  FrameDecoder decoder;
  decoder.feed(std::string_view(stream).substr(0, stream.size() - 1));
  EXPECT_FALSE(decoder.next().has_value());
}

// Random corruption of valid streams: the decoder returns frames or throws one of its errors,
// never crashes, never yields a frame whose bytes were not sent intact.
TEST(FrameTest, RandomizedCorruptionIsContained) {
  DeterministicRandom random(20261129);
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string stream;
    std::vector<std::string> sent;
    const int frames = static_cast<int>(random.random_int(1, 6));
    for (int i = 0; i < frames; ++i) {
      sent.push_back(random.random_bytes(static_cast<size_t>(random.random_int(0, 300))));
      encode_frame(static_cast<uint64_t>(i), sent.back(), stream);
    }
    const int mutations = static_cast<int>(random.random_int(0, 4));
    for (int i = 0; i < mutations && !stream.empty(); ++i) {
      const auto at = static_cast<size_t>(random.random_int(0, static_cast<int64_t>(stream.size())));
      switch (random.random_int(0, 3)) {
        case 0: stream[at] = static_cast<char>(random.next_u64()); break;
        case 1: stream.erase(at, 1); break;
        default: stream.insert(at, 1, static_cast<char>(random.next_u64())); break;
      }
    }
    FrameDecoder decoder;
    size_t position = 0;
    try {
      while (position < stream.size()) {
        const auto chunk = static_cast<size_t>(random.random_int(1, 64));
        decoder.feed(std::string_view(stream).substr(position, chunk));
        position += chunk;
        while (std::optional<Frame> frame = decoder.next()) {
          ASSERT_LT(frame->token, sent.size()) << "iteration " << iteration;
          EXPECT_EQ(frame->message, sent[frame->token]) << "iteration " << iteration;
        }
      }
    } catch (const Error& error) {
      EXPECT_TRUE(error.code() == errc::checksum_failed || error.code() == errc::frame_too_large ||
                  error.code() == errc::serialization_failed)
          << error.describe();
    }
  }
}

}  // namespace
}  // namespace keel
