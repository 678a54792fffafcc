#include "world/network_address.h"

#include <charconv>

#include <fmt/format.h>

#include "runtime/error.h"

namespace keel {
namespace {

// Parses a decimal number in [0, max] that fills `text` exactly.
bool parse_number(std::string_view text, uint32_t max, uint32_t& out) {
  if (text.empty() || text.size() > 5) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size() && out <= max;
}

}  // namespace

NetworkAddress NetworkAddress::parse(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) throw Error(errc::invalid_address);
  std::string_view host = text.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  uint32_t port = 0;
  if (!parse_number(text.substr(colon + 1), 65535, port)) throw Error(errc::invalid_address);
  uint32_t ip = 0;
  for (int part = 0; part < 4; ++part) {
    const size_t dot = part < 3 ? host.find('.') : host.size();
    if (dot == std::string_view::npos) throw Error(errc::invalid_address);
    uint32_t octet = 0;
    if (!parse_number(host.substr(0, dot), 255, octet)) throw Error(errc::invalid_address);
    ip = (ip << 8) | octet;
    host = part < 3 ? host.substr(dot + 1) : std::string_view();
  }
  return NetworkAddress{ip, static_cast<uint16_t>(port)};
}

std::string NetworkAddress::to_string() const {
  return fmt::format("{}.{}.{}.{}:{}", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff, port);
}

}  // namespace keel
