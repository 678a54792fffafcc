// The cluster file: how clients (and `keel server`, which writes it) name a cluster. One line,
//
//   keel:<cluster id>@<address>[,<address>...]
//   e.g. keel:8c1f0e2a9d3b4c5e@10.0.0.1:4500,10.0.0.2:4500,10.0.0.3:4500
//
// the addresses (IP:PORT) of the cluster's coordinators, comma-separated: 1, 3 or 5 of them,
// no address twice. The id (letters, digits, `_`, `-`) tells clusters apart for people;
// clients do not check it. Anything after the first line is ignored, and so is whitespace
// around the line and around each address. The format is an interface: never change it.
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
};

// Parses the first line of a cluster file; throws connection_string_invalid.
ClusterConnectionString parse_connection_string(std::string_view contents);
// The line for `connection` (without a newline); it parses back to the same value.
std::string format_connection_string(const ClusterConnectionString& connection);
// "a" or "a, b, c": addresses for messages.
std::string describe_addresses(const std::vector<NetworkAddress>& addresses);

}  // namespace keel
