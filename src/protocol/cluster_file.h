// The cluster file: how clients (and `keel server`, which writes it) name a cluster. One line,
//
//   keel:<cluster id>@<address>[,<address>...]
//   e.g. keel:8c1f0e2a9d3b4c5e@10.0.0.1:4500,10.0.0.2:4500,10.0.0.3:4500
//
// the addresses (IP:PORT) of the cluster's coordinators, comma-separated: 1, 3 or 5 of them,
// no address twice. The id (letters, digits, `_`, `-`) names this set of coordinators: every
// request to a coordinator carries it, and each coordinator keeps a register per id. A
// cluster's first set has the id default_cluster_id() derives from its addresses (so every
// server finds it from its configuration alone); each change of coordinators (`keel cli
// coordinators`) draws a new random id, so a set that returns later starts fresh. Anything
// after the first line is ignored, and so is whitespace around the line and around each
// address. The format is an interface: never change it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "world/network_address.h"

namespace keel {

// Coordinators a cluster may have (an odd count up to this).
inline constexpr size_t coordinators_max = 5;

struct ClusterConnectionString {
  std::string id;
  std::vector<NetworkAddress> coordinators;  // in the file's order
  bool operator==(const ClusterConnectionString&) const = default;
};

// Parses the first line of a cluster file; throws connection_string_invalid.
ClusterConnectionString parse_connection_string(std::string_view contents);
// The line for `connection` (without a newline); it parses back to the same value.
std::string format_connection_string(const ClusterConnectionString& connection);
// The id of a cluster's first coordinator set: 16 hex digits derived from the addresses.
std::string default_cluster_id(const std::vector<NetworkAddress>& coordinators);
// True for an id the format allows (letters, digits, `_`, `-`; not empty).
bool valid_cluster_id(std::string_view id);

// "a" or "a, b, c": addresses for messages.
std::string describe_addresses(const std::vector<NetworkAddress>& addresses);

}  // namespace keel
