// Bit commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO (the
// bit arithmetic is in bit_string.cpp and bit_field.cpp). A bit offset that writes addresses a
// byte below proto-max-bulk-len, as in Redis; SETBIT past the longest string keel stores answers
// the string-size error and writes nothing. A bit offset that only reads may address any byte
// below Redis's default proto-max-bulk-len (512 MB) as well, since Redis answers such reads (0
// past the end of the string) and clients expect them to work with keel's smaller default.
#include "frontend/resp/bit_field.h"
#include "frontend/resp/bit_string.h"
#include "frontend/resp/commands.h"
#include "frontend/resp/resp_knobs.h"

namespace keel {
namespace {

using namespace resp_errors;

constexpr std::string_view bit_offset_invalid = "ERR bit offset is not an integer or out of range";
constexpr std::string_view bit_value_invalid = "ERR bit is not an integer or out of range";

// The bytes a bit offset may address (above): proto-max-bulk-len (the knob resp_bulk_bytes_max)
// for a write; for a read, at least Redis's default.
int64_t bit_offset_bytes_max(bool writes) {
  constexpr int64_t redis_default_bulk_bytes_max = int64_t{512} * 1024 * 1024;
  const auto configured = static_cast<int64_t>(resp_knobs().resp_bulk_bytes_max);
  return writes ? configured : std::max(configured, redis_default_bulk_bytes_max);
}

// An integer from 0 whose byte (offset / 8) lies below bit_offset_bytes_max(writes); false
// (error written) otherwise.
bool bit_offset_argument(CommandContext& c, size_t index, bool writes, uint64_t& offset) {
  int64_t value = 0;
  const int64_t bytes_max = bit_offset_bytes_max(writes);
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
  if (!bit_offset_argument(c, 2, true, offset)) co_return Void{};
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
  if (!string_size_allowed(bytes_needed, value.size())) {
    c.out.error(string_too_long);
    co_return Void{};
  }
  const bool grows = !record.alive() || value.size() < bytes_needed;
  if (value.size() < bytes_needed) value.resize(bytes_needed, '\0');
  const bool old_bit = get_bit(value, offset);
  c.out.integer(old_bit ? 1 : 0);
  if (!grows && old_bit == (bit == 1)) co_return Void{};
  put_bit(value, offset, bit == 1);
  put_string(c, key, record, std::move(value), record.alive() ? record.meta.expire_ms : 0);
  co_return Void{};
}

// GETBIT key offset: 0 past the end of the string or for a missing key.
Future<Void> getbit(CommandContext& c) {
  uint64_t offset = 0;
  if (!bit_offset_argument(c, 2, false, offset)) co_return Void{};
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

// BITOP AND|OR|XOR|NOT destkey key [key ...]: the result's length. A missing source is a string
// of zero bytes; an empty result deletes destkey (which loses any expiry, as in Redis).
Future<Void> bitop(CommandContext& c) {
  BitOperation operation = BitOperation::bit_and;
  const std::string name = lowercase(c.args[1]);
  if (name == "and") {
    operation = BitOperation::bit_and;
  } else if (name == "or") {
    operation = BitOperation::bit_or;
  } else if (name == "xor") {
    operation = BitOperation::bit_xor;
  } else if (name == "not") {
    operation = BitOperation::bit_not;
  } else {
    c.out.error(syntax);
    co_return Void{};
  }
  if (operation == BitOperation::bit_not && c.args.size() != 4) {
    c.out.error("ERR BITOP NOT must be called with a single source key.");
    co_return Void{};
  }
  std::vector<Future<KeyRecord>> loads;
  for (size_t i = 3; i < c.args.size(); ++i) loads.push_back(c.store->load(c.args[i]));
  const std::string& destination = c.args[2];
  Future<KeyRecord> destination_load = c.store->load(destination);
  std::vector<KeyRecord> sources;
  for (Future<KeyRecord>& load : loads) {
    KeyRecord record = co_await std::move(load);
    count_lookup(c, record.alive());  // a source's read counts, as in Redis; the destination's does not
    if (holds_other_type(c, record)) co_return Void{};
    sources.push_back(std::move(record));
  }
  std::vector<std::string_view> values;
  for (const KeyRecord& record : sources) values.push_back(record.alive() ? std::string_view(record.meta.value) : "");
  std::string result = bit_operation(operation, values);
  const KeyRecord old = co_await std::move(destination_load);
  c.out.integer(static_cast<int64_t>(result.size()));
  if (result.empty()) {
    c.store->remove(destination, old, old.alive());
    co_return Void{};
  }
  put_string(c, destination, old, std::move(result), 0);
  co_return Void{};
}

// One GET, SET or INCRBY of a BITFIELD, with the OVERFLOW mode in force where it stands.
struct BitFieldOp {
  enum class Kind { get, set, incrby } kind = Kind::get;
  BitFieldType type;
  uint64_t offset = 0;
  int64_t value = 0;
  BitFieldOverflow overflow = BitFieldOverflow::wrap;
};

// A field's type and offset ("#N": N fields of the type in) at args[index], args[index + 1];
// op.kind says whether the field is written (bit_offset_bytes_max).
bool bit_field_argument(CommandContext& c, size_t index, BitFieldOp& op) {
  const std::optional<BitFieldType> type = parse_bit_field_type(c.args[index]);
  if (!type) {
    c.out.error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
    return false;
  }
  op.type = *type;
  const std::string& text = c.args[index + 1];
  const bool in_fields = !text.empty() && text[0] == '#';
  int64_t number = 0;
  const int64_t bytes_max = bit_offset_bytes_max(op.kind != BitFieldOp::Kind::get);
  if (!parse_int64(in_fields ? std::string_view(text).substr(1) : std::string_view(text), number) || number < 0 ||
      (in_fields && number > (bytes_max * 8) / type->bits) || (in_fields ? number * type->bits : number) / 8 >= bytes_max) {
    c.out.error(bit_offset_invalid);
    return false;
  }
  op.offset = static_cast<uint64_t>(in_fields ? number * type->bits : number);
  return true;
}

// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
// [OVERFLOW WRAP|SAT|FAIL] ...: one reply per GET, SET (the old value) and INCRBY (the new one;
// null when OVERFLOW FAIL refused it). Every argument is checked before the key is read. The
// string grows with zero bytes to hold every field written. BITFIELD_RO takes only GETs.
Future<Void> bitfield(CommandContext& c) {
  const bool read_only = lowercase(c.args[0]) == "bitfield_ro";
  std::vector<BitFieldOp> ops;
  BitFieldOverflow overflow = BitFieldOverflow::wrap;
  bool writes = false;
  for (size_t i = 2; i < c.args.size();) {
    const std::string name = lowercase(c.args[i]);
    const size_t remaining = c.args.size() - i - 1;
    if (name == "overflow" && remaining >= 1) {
      const std::string mode = lowercase(c.args[i + 1]);
      if (mode == "wrap") overflow = BitFieldOverflow::wrap;
      else if (mode == "sat") overflow = BitFieldOverflow::sat;
      else if (mode == "fail") overflow = BitFieldOverflow::fail;
      else {
        c.out.error("ERR Invalid OVERFLOW type specified");
        co_return Void{};
      }
      i += 2;
      continue;
    }
    BitFieldOp op;
    op.overflow = overflow;
    if (name == "get" && remaining >= 2) {
      if (!bit_field_argument(c, i + 1, op)) co_return Void{};
      i += 3;
    } else if ((name == "set" || name == "incrby") && remaining >= 3) {
      op.kind = name == "set" ? BitFieldOp::Kind::set : BitFieldOp::Kind::incrby;
      if (!bit_field_argument(c, i + 1, op)) co_return Void{};
      if (!integer_argument(c, i + 3, op.value)) co_return Void{};
      if (read_only) {
        c.out.error("ERR BITFIELD_RO only supports the GET subcommand");
        co_return Void{};
      }
      writes = true;
      i += 4;
    } else {
      c.out.error(syntax);
      co_return Void{};
    }
    ops.push_back(op);
  }
  const std::string& key = c.args[1];
  KeyRecord record = co_await c.store->load(key);
  if (holds_other_type(c, record)) co_return Void{};
  std::string value = record.alive() ? record.meta.value : std::string();
  const size_t original_size = value.size();
  if (writes) {
    uint64_t bytes_needed = value.size();
    for (const BitFieldOp& op : ops) {
      if (op.kind != BitFieldOp::Kind::get) {
        bytes_needed = std::max<uint64_t>(bytes_needed, (op.offset + static_cast<uint64_t>(op.type.bits) - 1) / 8 + 1);
      }
    }
    if (!string_size_allowed(bytes_needed, value.size())) {
      c.out.error(string_too_long);
      co_return Void{};
    }
    value.resize(bytes_needed, '\0');
  }
  c.out.array(ops.size());
  bool changed = value.size() != original_size;
  for (const BitFieldOp& op : ops) {
    const int64_t current = read_bit_field(value, op.offset, op.type);
    if (op.kind == BitFieldOp::Kind::get) {
      c.out.integer(current);
      continue;
    }
    const std::optional<int64_t> next =
        add_to_bit_field(op.kind == BitFieldOp::Kind::set ? op.value : current,
                         op.kind == BitFieldOp::Kind::set ? 0 : op.value, op.type, op.overflow);
    if (!next) {
      c.out.null();
      continue;
    }
    write_bit_field(value, op.offset, op.type, *next);
    changed = changed || *next != current;
    c.out.integer(op.kind == BitFieldOp::Kind::set ? current : *next);
  }
  if (!changed) co_return Void{};
  put_string(c, key, record, std::move(value), record.alive() ? record.meta.expire_ms : 0);
  co_return Void{};
}

}  // namespace

std::vector<CommandSpec> bit_commands() {
  constexpr uint32_t readonly = command_flags::readonly;
  return {
      {"setbit", 4, command_flags::write, 1, 1, 1, setbit},
      {"getbit", 3, readonly | command_flags::fast | command_flags::lookups, 1, 1, 1, getbit},
      {"bitcount", -2, readonly | command_flags::lookups, 1, 1, 1, bitcount},
      {"bitpos", -3, readonly | command_flags::lookups, 1, 1, 1, bitpos},
      {"bitop", -4, command_flags::write, 2, -1, 1, bitop},
      {"bitfield", -2, command_flags::write, 1, 1, 1, bitfield},
      {"bitfield_ro", -2, readonly | command_flags::lookups, 1, 1, 1, bitfield},
  };
}

}  // namespace keel
