// NetworkAddress: an IPv4 address and port. Part of the wire format (serialize below): the
// field order ip, port must never change.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace keel {

struct NetworkAddress {
  uint32_t ip = 0;  // host byte order: 127.0.0.1 is 0x7f000001
  uint16_t port = 0;

  // Parses "A.B.C.D:PORT"; throws invalid_address.
  static NetworkAddress parse(std::string_view text);
  static NetworkAddress loopback(uint16_t port) { return NetworkAddress{0x7f000001, port}; }
  std::string to_string() const;
  bool is_valid() const { return ip != 0 || port != 0; }

  template <class Archive>
  void serialize(Archive& archive) {
    archive(ip, port);
  }
  auto operator<=>(const NetworkAddress&) const = default;
};

}  // namespace keel

