#include "frontend/resp/bit_field.h"

#include "frontend/resp/bit_string.h"

namespace keel {

std::optional<BitFieldType> parse_bit_field_type(std::string_view text) {
  if (text.size() < 2 || text.size() > 3) return std::nullopt;
  BitFieldType type;
  if (text[0] == 'i' || text[0] == 'I') type.is_signed = true;
  else if (text[0] != 'u' && text[0] != 'U') return std::nullopt;
  int bits = 0;
  for (char digit : text.substr(1)) {
    if (digit < '0' || digit > '9') return std::nullopt;
    bits = bits * 10 + (digit - '0');
  }
  if (bits < 1 || bits > (type.is_signed ? 64 : 63)) return std::nullopt;
  type.bits = bits;
  return type;
}

int64_t read_bit_field(std::string_view value, uint64_t offset, BitFieldType type) {
  uint64_t field = 0;
  for (int i = 0; i < type.bits; ++i) field = (field << 1) | (get_bit(value, offset + static_cast<uint64_t>(i)) ? 1 : 0);
  if (type.is_signed && type.bits < 64 && (field >> (type.bits - 1)) != 0) field |= ~uint64_t{0} << type.bits;
  return static_cast<int64_t>(field);
}

void write_bit_field(std::string& value, uint64_t offset, BitFieldType type, int64_t field) {
  const auto bits = static_cast<uint64_t>(field);
  for (int i = 0; i < type.bits; ++i) {
    put_bit(value, offset + static_cast<uint64_t>(i), ((bits >> (type.bits - 1 - i)) & 1) != 0);
  }
}

std::optional<int64_t> add_to_bit_field(int64_t current, int64_t increment, BitFieldType type,
                                        BitFieldOverflow overflow) {
  using Wide = __int128;
  const Wide sum = static_cast<Wide>(current) + static_cast<Wide>(increment);
  const Wide range = static_cast<Wide>(1) << type.bits;
  const Wide min = type.is_signed ? -(range / 2) : 0;
  const Wide max = type.is_signed ? range / 2 - 1 : range - 1;
  if (sum >= min && sum <= max) return static_cast<int64_t>(sum);
  switch (overflow) {
    case BitFieldOverflow::fail:
      return std::nullopt;
    case BitFieldOverflow::sat:
      return static_cast<int64_t>(sum > max ? max : min);
    case BitFieldOverflow::wrap:
      break;
  }
  Wide low = sum % range;
  if (low < 0) low += range;
  if (type.is_signed && low > max) low -= range;
  return static_cast<int64_t>(low);
}

}  // namespace keel
