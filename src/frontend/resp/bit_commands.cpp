// Bit commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS (the bit arithmetic is in
// bit_string.cpp). A bit offset addresses a byte below proto-max-bulk-len, as in Redis; SETBIT
// past the longest string keel stores answers the string-size error and writes nothing.
#include "frontend/resp/bit_string.h"
#include "frontend/resp/commands.h"
#include "frontend/resp/resp_knobs.h"

namespace keel {
namespace {

using namespace resp_errors;

constexpr std::string_view bit_offset_invalid = "ERR bit offset is not an integer or out of range";
constexpr std::string_view bit_value_invalid = "ERR bit is not an integer or out of range";

// An integer from 0 whose byte (offset / 8) lies below proto-max-bulk-len (the knob
// resp_bulk_bytes_max); false (error written) otherwise.
bool bit_offset_argument(CommandContext& c, size_t index, uint64_t& offset) {
  int64_t value = 0;
  const auto bytes_max = static_cast<int64_t>(resp_knobs().resp_bulk_bytes_max);
  if (!parse_int64(c.args[index], value) || value < 0 || value / 8 >= bytes_max) {
    c.out.error(bit_offset_invalid);
    return false;
  }
  offset = static_cast<uint64_t>(value);
  return true;
}

// BYTE or BIT; false (syntax error written) otherwise.
bool unit_argument(CommandContext& c, size_t index, BitUnit& unit) {
  if (equals_ignore_case(c.args[index], "byte")) {
    unit = BitUnit::byte;
  } else if (equals_ignore_case(c.args[index], "bit")) {
    unit = BitUnit::bit;
  } else {
    c.out.error(syntax);
    return false;
  }
  return true;
}

// Writes WRONGTYPE and returns true when the key holds something other than a string.
bool holds_other_type(CommandContext& c, const KeyRecord& record) {
  if (!record.alive() || record.meta.type == KeyType::string) return false;
  c.out.error(wrong_type);
  return true;
}

// SETBIT key offset 0|1: the bit's old value. Grows the string with zero bytes as needed; a
// SETBIT that changes nothing writes nothing (no stamp: WATCH does not fire, as in Redis).
Future<Void> setbit(CommandContext& c) {
  uint64_t offset = 0;
  if (!bit_offset_argument(c, 2, offset)) co_return Void{};
  int64_t bit = 0;
  if (!parse_int64(c.args[3], bit) || (bit != 0 && bit != 1)) {
    c.out.error(bit_value_invalid);
    co_return Void{};
  }
  const std::string& key = c.args[1];
  KeyRecord record = co_await c.store->load(key);
  if (holds_other_type(c, record)) co_return Void{};
  std::string value = record.alive() ? record.meta.value : std::string();
  const uint64_t bytes_needed = offset / 8 + 1;
  if (bytes_needed > string_bytes_max) {  // past the longest string: it cannot be there already
    c.out.error(string_too_long);
    co_return Void{};
  }
  const bool grows = !record.alive() || value.size() < bytes_needed;
  if (value.size() < bytes_needed) value.resize(bytes_needed, '\0');
  const bool old_bit = get_bit(value, offset);
  c.out.integer(old_bit ? 1 : 0);
  if (!grows && old_bit == (bit == 1)) co_return Void{};
  put_bit(value, offset, bit == 1);
  KeyMeta meta;
  meta.type = KeyType::string;
  meta.expire_ms = record.alive() ? record.meta.expire_ms : 0;
  meta.value = std::move(value);
  c.store->write(key, record, meta);
  co_return Void{};
}

// GETBIT key offset: 0 past the end of the string or for a missing key.
Future<Void> getbit(CommandContext& c) {
  uint64_t offset = 0;
  if (!bit_offset_argument(c, 2, offset)) co_return Void{};
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (holds_other_type(c, record)) co_return Void{};
  c.out.integer(record.alive() && get_bit(record.meta.value, offset) ? 1 : 0);
  co_return Void{};
}

// BITCOUNT key [start end [BYTE | BIT]]: arguments are checked before the key is read (Redis 7.2).
Future<Void> bitcount(CommandContext& c) {
  const size_t argc = c.args.size();
  if (argc == 3 || argc > 5) {
    c.out.error(syntax);
    co_return Void{};
  }
  int64_t start = 0;
  int64_t end = -1;
  BitUnit unit = BitUnit::byte;
  if (argc >= 4 && (!integer_argument(c, 2, start) || !integer_argument(c, 3, end))) co_return Void{};
  if (argc == 5 && !unit_argument(c, 4, unit)) co_return Void{};
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (holds_other_type(c, record)) co_return Void{};
  // Both ends counted from the end and crossed: nothing (clamping would make it the first unit).
  if (!record.alive() || (start < 0 && end < 0 && start > end)) {
    c.out.integer(0);
    co_return Void{};
  }
  const std::string& value = record.meta.value;
  c.out.integer(count_bits(value, resolve_bit_span(static_cast<int64_t>(value.size()), start, end, unit)));
  co_return Void{};
}

// BITPOS key bit [start [end [BYTE | BIT]]]: the first bit equal to `bit`, or -1. A missing key
// is all zero bits. Looking for a 0 without an end: a string of ones answers the first bit after
// it (the string continues with zeros); with an end given, -1.
Future<Void> bitpos(CommandContext& c) {
  const size_t argc = c.args.size();
  int64_t bit = 0;
  if (!integer_argument(c, 2, bit)) co_return Void{};
  if (bit != 0 && bit != 1) {
    c.out.error("ERR The bit argument must be 1 or 0.");
    co_return Void{};
  }
  if (argc > 6) {
    c.out.error(syntax);
    co_return Void{};
  }
  int64_t start = 0;
  int64_t end = -1;
  BitUnit unit = BitUnit::byte;
  if (argc >= 4 && !integer_argument(c, 3, start)) co_return Void{};
  if (argc == 6 && !unit_argument(c, 5, unit)) co_return Void{};
  if (argc >= 5 && !integer_argument(c, 4, end)) co_return Void{};
  KeyRecord record = co_await c.store->load(c.args[1]);
  if (holds_other_type(c, record)) co_return Void{};
  if (!record.alive()) {
    c.out.integer(bit == 1 ? -1 : 0);
    co_return Void{};
  }
  const std::string& value = record.meta.value;
  const BitSpan span = resolve_bit_span(static_cast<int64_t>(value.size()), start, end, unit);
  int64_t position = find_bit(value, span, bit == 1);
  if (position == -1 && bit == 0 && argc < 5 && !span.empty()) position = span.last_bit + 1;
  c.out.integer(position);
  co_return Void{};
}

constexpr uint32_t readonly = command_flags::readonly;

}  // namespace

std::vector<CommandSpec> bit_commands() {
  return {
      {"setbit", 4, command_flags::write, 1, 1, 1, setbit},
      {"getbit", 3, readonly | command_flags::fast, 1, 1, 1, getbit},
      {"bitcount", -2, readonly, 1, 1, 1, bitcount},
      {"bitpos", -3, readonly, 1, 1, 1, bitpos},
  };
}

}  // namespace keel
