// Hard limits of the data model (CONVENTIONS.md: every input beyond a limit gets a clear error).
#pragma once

#include <cstddef>

#include "protocol/types.h"

namespace keel {

inline constexpr size_t key_bytes_max = 10'000;                  // key_too_large (2102)
inline constexpr size_t value_bytes_max = 100'000;               // value_too_large (2103)
inline constexpr size_t transaction_bytes_max = 10'000'000;      // transaction_too_large (2101)
inline constexpr Version versions_per_second = 1'000'000;
// The MVCC window: a transaction may read at most this far behind the newest version.
inline constexpr Version mvcc_window_versions = 5 * versions_per_second;  // transaction_too_old (1007)
inline constexpr double transaction_lifetime_seconds_max = 5.0;

// Keys at or above this byte begin the system keyspace (shard map, metadata).
inline constexpr char system_key_byte = '\xff';

}  // namespace keel
