// Binary serialization of messages.
//
// A message type lists its fields once, in one member function used for both directions:
//
//   struct EchoRequest {
//     std::string text;
//     ReplyPromise<EchoReply> reply;
//     template <class Archive> void serialize(Archive& archive) { archive(text, reply); }
//   };
//
// Format (docs/formats/rpc.md): integers fixed-width little-endian; bool one byte; double as its
// IEEE-754 bits; enums as their underlying integer; strings, vectors and maps a u32 count then
// the elements; optional a u8 presence flag then the value; structs their fields in order.
// Fields are appended at the end of a struct only, and only with a protocol version bump.
//
// Reading never trusts a count: every length is checked against the bytes left before anything
// is allocated, and any inconsistency throws serialization_failed.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "runtime/error.h"

namespace keel {

static_assert(std::endian::native == std::endian::little, "KeelDB's wire format assumes a little-endian host");

class BinaryWriter {
 public:
  static constexpr bool is_reader = false;

  template <class... Ts>
  void operator()(const Ts&... values) {
    (write(values), ...);
  }
  std::string& buffer() { return buffer_; }
  std::string take() { return std::move(buffer_); }

  template <class T>
  void write(const T& value) {
    if constexpr (std::is_enum_v<T>) {
      write(static_cast<std::underlying_type_t<T>>(value));
    } else if constexpr (std::is_same_v<T, bool>) {
      buffer_.push_back(value ? 1 : 0);
    } else if constexpr (std::is_integral_v<T> || std::is_floating_point_v<T>) {
      char bytes[sizeof(T)];
      std::memcpy(bytes, &value, sizeof(T));
      buffer_.append(bytes, sizeof(T));
    } else {
      // Member serialize functions are written once for both directions, so they take the
      // archive by non-const reference; writing does not modify the value.
      const_cast<T&>(value).serialize(*this);
    }
  }
  void write(const std::string& value) {
    write_count(value.size());
    buffer_.append(value);
  }
  template <class T>
  void write(const std::vector<T>& values) {
    write_count(values.size());
    for (const T& value : values) write(value);
  }
  template <class T>
  void write(const std::optional<T>& value) {
    write(value.has_value());
    if (value) write(*value);
  }
  template <class K, class V>
  void write(const std::map<K, V>& values) {
    write_count(values.size());
    for (const auto& [key, value] : values) {
      write(key);
      write(value);
    }
  }

 private:
  void write_count(size_t count) { write(static_cast<uint32_t>(count)); }
  std::string buffer_;
};

class BinaryReader {
 public:
  static constexpr bool is_reader = true;
  // Upper bound on the element count of a container of zero-size elements (e.g. Void).
  static constexpr uint32_t empty_elements_max = 1u << 16;

  explicit BinaryReader(std::string_view data) : data_(data) {}

  template <class... Ts>
  void operator()(Ts&... values) {
    (read(values), ...);
  }
  bool at_end() const { return position_ == data_.size(); }
  size_t remaining() const { return data_.size() - position_; }
  // Throws unless everything was consumed (trailing bytes mean a malformed message).
  void expect_end() const {
    if (!at_end()) throw Error(errc::serialization_failed);
  }

  template <class T>
  void read(T& value) {
    if constexpr (std::is_enum_v<T>) {
      std::underlying_type_t<T> raw{};
      read(raw);
      value = static_cast<T>(raw);
    } else if constexpr (std::is_same_v<T, bool>) {
      const char* byte = take(1);
      if (*byte != 0 && *byte != 1) throw Error(errc::serialization_failed);
      value = *byte == 1;
    } else if constexpr (std::is_integral_v<T> || std::is_floating_point_v<T>) {
      std::memcpy(&value, take(sizeof(T)), sizeof(T));
    } else {
      value.serialize(*this);
    }
  }
  void read(std::string& value) {
    const uint32_t count = read_count(1);
    value.assign(take(count), count);
  }
  template <class T>
  void read(std::vector<T>& values) {
    const uint32_t count = read_count(1);
    values.clear();
    values.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      values.emplace_back();
      read(values.back());
    }
  }
  template <class T>
  void read(std::optional<T>& value) {
    bool present = false;
    read(present);
    if (!present) {
      value.reset();
      return;
    }
    value.emplace();
    read(*value);
  }
  template <class K, class V>
  void read(std::map<K, V>& values) {
    const uint32_t count = read_count(1);
    values.clear();
    for (uint32_t i = 0; i < count; ++i) {
      K key{};
      read(key);
      V value{};
      read(value);
      if (!values.emplace(std::move(key), std::move(value)).second) {
        throw Error(errc::serialization_failed);  // duplicate key: not a map we wrote
      }
    }
  }

 private:
  // A count of elements, each at least `element_bytes_min` long, checked against what is left.
  uint32_t read_count(size_t element_bytes_min) {
    uint32_t count = 0;
    read(count);
    if (static_cast<uint64_t>(count) * element_bytes_min > remaining()) {
      throw Error(errc::serialization_failed);
    }
    return count;
  }
  const char* take(size_t bytes) {
    if (bytes > remaining()) throw Error(errc::serialization_failed);
    const char* start = data_.data() + position_;
    position_ += bytes;
    return start;
  }

  std::string_view data_;
  size_t position_ = 0;
};

template <class T>
std::string serialize_to_string(const T& value) {
  BinaryWriter writer;
  writer.write(value);
  return writer.take();
}

// Decodes a whole buffer into a T; throws serialization_failed on any mismatch.
template <class T>
T deserialize_from_string(std::string_view bytes) {
  BinaryReader reader(bytes);
  T value{};
  reader.read(value);
  reader.expect_end();
  return value;
}

}  // namespace keel
