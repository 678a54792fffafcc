// Frames: how messages are cut out of a byte stream.
//
//   frame  = u32 payload_length | u64 checksum | payload
//   payload = u64 token | message bytes
//
// `checksum` is XXH3-64 of the payload. A frame longer than frame_bytes_max, or whose checksum
// does not match, is rejected: the decoder throws and the transport closes the connection. The
// decoder never allocates more than the bytes it has actually received.
//
// The first frame on every connection is the ConnectPacket (token connect_packet_token) that
// carries the protocol version; see transport.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel {

inline constexpr size_t frame_header_bytes = 12;
// Large enough for a maximal transaction (10 MB of mutations) with headroom.
inline constexpr size_t frame_bytes_max = 32 * 1024 * 1024;

struct Frame {
  uint64_t token = 0;
  std::string message;
};

// Appends one frame carrying `message` for `token` to `out`.
void encode_frame(uint64_t token, std::string_view message, std::string& out);

enum class FrameStatus { ok, incomplete, too_large, corrupt };

// Decodes the frame at `data[offset]` into `out` and advances `offset` past it (ok), or says why
// it cannot: incomplete (more bytes needed), too_large (length over frame_bytes_max), corrupt
// (payload shorter than its token, or a checksum mismatch). Also used for frames in files.
FrameStatus decode_frame_at(std::string_view data, size_t& offset, Frame& out);

class FrameDecoder {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, or nullopt if more bytes are needed. Throws frame_too_large,
  // checksum_failed or serialization_failed (payload shorter than its token) on a bad frame;
  // after a throw the decoder is unusable.
  std::optional<Frame> next();
  size_t buffered_bytes() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  size_t consumed_ = 0;
};

}  // namespace keel
