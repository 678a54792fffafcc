#include "rpc/frame.h"

#include <cstring>

#include <xxhash.h>

#include "runtime/error.h"

namespace keel {
namespace {

void append_u64(std::string& out, uint64_t value) { out.append(reinterpret_cast<const char*>(&value), 8); }

bool short_payload(const std::string& buffer, size_t offset) {
  uint32_t length = 0;
  std::memcpy(&length, buffer.data() + offset, 4);
  return length < sizeof(uint64_t);
}

}  // namespace

void encode_frame(uint64_t token, std::string_view message, std::string& out) {
  const size_t payload_length = sizeof(token) + message.size();
  if (payload_length > frame_bytes_max) throw Error(errc::frame_too_large);
  const size_t header_at = out.size();
  out.resize(header_at + frame_header_bytes);
  append_u64(out, token);
  out.append(message);
  const uint64_t checksum = XXH3_64bits(out.data() + header_at + frame_header_bytes, payload_length);
  const auto length = static_cast<uint32_t>(payload_length);
  std::memcpy(out.data() + header_at, &length, 4);
  std::memcpy(out.data() + header_at + 4, &checksum, 8);
}

FrameStatus decode_frame_at(std::string_view data, size_t& offset, Frame& out) {
  const size_t available = data.size() - offset;
  if (available < frame_header_bytes) return FrameStatus::incomplete;
  const char* header = data.data() + offset;
  uint32_t length = 0;
  uint64_t checksum = 0;
  std::memcpy(&length, header, 4);
  std::memcpy(&checksum, header + 4, 8);
  if (length > frame_bytes_max) return FrameStatus::too_large;
  if (length < sizeof(uint64_t)) return FrameStatus::corrupt;
  if (available < frame_header_bytes + length) return FrameStatus::incomplete;
  const char* payload = header + frame_header_bytes;
  if (XXH3_64bits(payload, length) != checksum) return FrameStatus::corrupt;
  std::memcpy(&out.token, payload, 8);
  out.message.assign(payload + 8, length - 8);
  offset += frame_header_bytes + length;
  return FrameStatus::ok;
}

std::optional<Frame> FrameDecoder::next() {
  Frame frame;
  switch (decode_frame_at(buffer_, consumed_, frame)) {
    case FrameStatus::incomplete:
      return std::nullopt;
    case FrameStatus::too_large:
      throw Error(errc::frame_too_large);
    case FrameStatus::corrupt:
      // A payload too short to hold its token is malformed; anything else failed its checksum.
      throw Error(buffer_.size() - consumed_ >= frame_header_bytes && short_payload(buffer_, consumed_)
                      ? errc::serialization_failed
                      : errc::checksum_failed);
    case FrameStatus::ok:
      break;
  }
  // Compact once the consumed prefix dominates, so the buffer does not grow without bound.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 64 * 1024 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return frame;
}

}  // namespace keel
