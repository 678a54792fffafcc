#include "protocol/cluster_file.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "runtime/error.h"

namespace keel {
namespace {

constexpr std::string_view prefix = "keel:";

std::string_view trimmed(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

NetworkAddress parse_address(std::string_view text) {
  try {
    return NetworkAddress::parse(trimmed(text));
  } catch (const Error&) {
    throw Error(errc::connection_string_invalid);
  }
}

}  // namespace

bool valid_cluster_id(std::string_view id) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  return !id.empty() && std::all_of(id.begin(), id.end(), allowed);
}

std::string default_cluster_id(const std::vector<NetworkAddress>& coordinators) {
  // FNV-1a over the addresses in order: stable across builds and platforms.
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const NetworkAddress& address : coordinators) {
    for (const char c : address.to_string() + ",") {
      hash ^= static_cast<unsigned char>(c);
      hash *= 0x100000001b3ULL;
    }
  }
  return fmt::format("{:016x}", hash);
}

ClusterConnectionString parse_connection_string(std::string_view contents) {
  const std::string_view line = trimmed(contents.substr(0, contents.find('\n')));
  const size_t at = line.find('@');
  if (line.substr(0, prefix.size()) != prefix || at == std::string_view::npos) {
    throw Error(errc::connection_string_invalid);
  }
  ClusterConnectionString connection;
  const std::string_view id = line.substr(prefix.size(), at - prefix.size());
  if (!valid_cluster_id(id)) throw Error(errc::connection_string_invalid);
  connection.id = std::string(id);
  std::string_view addresses = line.substr(at + 1);
  std::set<NetworkAddress> seen;
  while (true) {
    const size_t comma = addresses.find(',');
    const NetworkAddress address = parse_address(addresses.substr(0, comma));
    if (!seen.insert(address).second) throw Error(errc::connection_string_invalid);
    connection.coordinators.push_back(address);
    if (comma == std::string_view::npos) break;
    addresses.remove_prefix(comma + 1);
  }
  const size_t count = connection.coordinators.size();
  if (count % 2 == 0 || count > coordinators_max) throw Error(errc::connection_string_invalid);
  return connection;
}

std::string format_connection_string(const ClusterConnectionString& connection) {
  std::string line = std::string(prefix) + connection.id + "@";
  for (size_t i = 0; i < connection.coordinators.size(); ++i) {
    if (i > 0) line += ",";
    line += connection.coordinators[i].to_string();
  }
  return line;
}

std::string describe_addresses(const std::vector<NetworkAddress>& addresses) {
  std::string text;
  for (const NetworkAddress& address : addresses) {
    if (!text.empty()) text += ", ";
    text += address.to_string();
  }
  return text;
}

}  // namespace keel
