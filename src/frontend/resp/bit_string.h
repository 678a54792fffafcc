// A string as an array of bits, as Redis's bit commands see it (pure functions): bit 0 is the
// most significant bit of the first byte. SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP
// (bit_commands.cpp) are these functions plus the keyspace.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

// The unit of BITCOUNT's and BITPOS's start and end.
enum class BitUnit { byte, bit };

// A range of a string's bits, both ends included; empty when first_bit > last_bit.
struct BitSpan {
  int64_t first_bit = 0;
  int64_t last_bit = -1;
  bool empty() const { return first_bit > last_bit; }
};

// The bits that start..end (inclusive, in `unit`s; negative counts from the end) name in a
// string of `value_bytes` bytes, clamped to the string as Redis does: start and end below the
// beginning become 0, an end past the string its last unit.
BitSpan resolve_bit_span(int64_t value_bytes, int64_t start, int64_t end, BitUnit unit);

bool get_bit(std::string_view value, uint64_t offset);  // false past the end
// Sets or clears one bit of a string at least offset / 8 + 1 bytes long.
void put_bit(std::string& value, uint64_t offset, bool bit);

// The number of set bits in `span` (which lies inside `value`).
int64_t count_bits(std::string_view value, BitSpan span);
// The first bit of `span` (inside `value`) equal to `bit`; -1 when there is none.
int64_t find_bit(std::string_view value, BitSpan span, bool bit);

enum class BitOperation { bit_and, bit_or, bit_xor, bit_not };

// BITOP's result: the operation over `values` byte by byte, each shorter one read as if padded
// with zero bytes to the longest; as long as the longest. NOT takes exactly one value.
std::string bit_operation(BitOperation operation, const std::vector<std::string_view>& values);

}  // namespace keel
