// BITFIELD's integers inside a string (pure functions; bit_commands.cpp adds the keyspace): a
// field is `bits` bits (1 to 64 signed, 1 to 63 unsigned) starting at a bit offset, most
// significant bit first, as Redis reads them; bits past the end of the string read as zeros.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel {

struct BitFieldType {
  bool is_signed = false;
  int bits = 0;
};

// "i8", "u16", ...: nullopt for anything else (u64 included, as in Redis).
std::optional<BitFieldType> parse_bit_field_type(std::string_view text);

enum class BitFieldOverflow { wrap, sat, fail };

// The field's value (sign-extended for a signed type).
int64_t read_bit_field(std::string_view value, uint64_t offset, BitFieldType type);
// Writes the low `type.bits` bits of `field`; the string must already hold them.
void write_bit_field(std::string& value, uint64_t offset, BitFieldType type, int64_t field);

// `current + increment` as the type holds it: in range, it is the sum; out of range, WRAP keeps
// its low bits (sign-extended for a signed type), SAT the nearest bound, FAIL nothing (nullopt).
// SET uses an increment of 0 to fit its value.
std::optional<int64_t> add_to_bit_field(int64_t current, int64_t increment, BitFieldType type,
                                        BitFieldOverflow overflow);

}  // namespace keel
