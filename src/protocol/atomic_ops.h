// Atomic operations: how an atomic mutation combines with the value already stored. The same
// code runs in the client (read-your-writes) and in storage servers, so both agree exactly.
//
// Semantics (as FoundationDB's at API version 510 and later):
// - add, bit_and, bit_or, bit_xor, max, min: the existing value is zero-extended or truncated
//   to the operand's length; integers are little-endian and unsigned for max/min. A missing
//   value counts as the operand itself for bit_and and min, and as zeros otherwise.
// - byte_min, byte_max: bytewise comparison; a missing value takes the operand.
// - append_if_fits: appends unless the result would exceed value_bytes_max.
// - compare_and_clear: clears the key if its value equals the operand.
// - set_versionstamped_key / _value: the key (value) ends with a 4-byte little-endian offset at
//   which the 10-byte versionstamp (8-byte big-endian commit version, 2-byte big-endian batch
//   index) is written at commit; the offset bytes are removed.
#pragma once

#include <optional>

#include "protocol/types.h"

namespace keel {

inline constexpr size_t versionstamp_bytes = 10;

bool is_atomic(MutationType type);
bool is_versionstamped(MutationType type);

// The value after applying an atomic `type` with `operand` to `existing` (nullopt: cleared).
std::optional<Value> apply_atomic(MutationType type, const std::optional<Value>& existing, const Value& operand);

// The 10-byte versionstamp of a commit.
std::string make_versionstamp(Version version, uint16_t batch_index);

// Checks the placeholder offset of a versionstamped mutation; throws client_invalid_operation.
void validate_versionstamped(const Mutation& mutation);

// Turns a versionstamped mutation into the set_value it becomes at `version`/`batch_index`.
Mutation apply_versionstamp(const Mutation& mutation, Version version, uint16_t batch_index);

}  // namespace keel
