// Endpoint: where a message is delivered: a process address and a token naming one receiver in
// that process. Well-known tokens (below well_known_token_max) let processes find each other's
// services without a lookup; all other tokens are drawn at random when a receiver registers.
#pragma once

#include <compare>
#include <cstdint>

#include "world/network_address.h"

namespace keel {

struct Endpoint {
  NetworkAddress address;
  uint64_t token = 0;

  bool is_valid() const { return token != 0; }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(address, token);
  }
  auto operator<=>(const Endpoint&) const = default;
};

namespace well_known_token {
inline constexpr uint64_t connect_packet = 1;      // first frame on every connection
inline constexpr uint64_t ping = 2;                // keeps an idle connection's liveness visible
inline constexpr uint64_t endpoint_not_found = 3;  // "no receiver for token T here"
inline constexpr uint64_t echo = 100;              // the echo service (tests and benchmarks)
}  // namespace well_known_token

inline constexpr uint64_t well_known_token_max = 1u << 16;

}  // namespace keel
