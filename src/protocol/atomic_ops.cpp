#include "protocol/atomic_ops.h"

#include <algorithm>
#include <cstring>

#include "protocol/limits.h"
#include "runtime/error.h"

namespace keel {
namespace {

// `value` zero-extended or truncated to `length` bytes.
std::string fit(const std::optional<Value>& value, size_t length) {
  std::string result = value.value_or(std::string());
  result.resize(length, '\0');
  return result;
}

std::string add_little_endian(const std::string& a, const std::string& b) {
  std::string sum(a.size(), '\0');
  unsigned carry = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const unsigned total = static_cast<unsigned char>(a[i]) + static_cast<unsigned char>(b[i]) + carry;
    sum[i] = static_cast<char>(total & 0xff);
    carry = total >> 8;
  }
  return sum;
}

// Compares little-endian unsigned integers of equal length.
int compare_little_endian(const std::string& a, const std::string& b) {
  for (size_t i = a.size(); i-- > 0;) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

template <class Op>
std::string bitwise(const std::string& a, const std::string& b, Op op) {
  std::string result(a.size(), '\0');
  for (size_t i = 0; i < a.size(); ++i) result[i] = static_cast<char>(op(a[i], b[i]));
  return result;
}

uint32_t placeholder_offset(const std::string& bytes) {
  uint32_t offset = 0;
  std::memcpy(&offset, bytes.data() + bytes.size() - 4, 4);
  return offset;
}

}  // namespace

bool is_atomic(MutationType type) {
  return type != MutationType::set_value && type != MutationType::clear_range;
}

bool is_versionstamped(MutationType type) {
  return type == MutationType::set_versionstamped_key || type == MutationType::set_versionstamped_value;
}

std::optional<Value> apply_atomic(MutationType type, const std::optional<Value>& existing, const Value& operand) {
  const size_t length = operand.size();
  switch (type) {
    case MutationType::add:
      return add_little_endian(fit(existing, length), operand);
    case MutationType::bit_and:
      if (!existing) return operand;
      return bitwise(fit(existing, length), operand, [](char x, char y) { return x & y; });
    case MutationType::bit_or:
      return bitwise(fit(existing, length), operand, [](char x, char y) { return x | y; });
    case MutationType::bit_xor:
      return bitwise(fit(existing, length), operand, [](char x, char y) { return x ^ y; });
    case MutationType::max:
      return compare_little_endian(fit(existing, length), operand) >= 0 ? fit(existing, length) : operand;
    case MutationType::min:
      if (!existing) return operand;
      return compare_little_endian(fit(existing, length), operand) <= 0 ? fit(existing, length) : operand;
    case MutationType::byte_min:
      return existing && *existing < operand ? *existing : operand;
    case MutationType::byte_max:
      return existing && *existing > operand ? *existing : operand;
    case MutationType::append_if_fits: {
      const std::string base = existing.value_or(std::string());
      if (base.size() + operand.size() > value_bytes_max) return base;
      return base + operand;
    }
    case MutationType::compare_and_clear:
      if (existing && *existing == operand) return std::nullopt;
      return existing;
    case MutationType::set_value:
      return operand;
    case MutationType::clear_range:
    case MutationType::set_versionstamped_key:
    case MutationType::set_versionstamped_value:
      break;
  }
  throw Error(errc::client_invalid_operation);
}

std::string make_versionstamp(Version version, uint16_t batch_index) {
  std::string stamp(versionstamp_bytes, '\0');
  for (int i = 0; i < 8; ++i) stamp[static_cast<size_t>(i)] = static_cast<char>((static_cast<uint64_t>(version) >> (56 - 8 * i)) & 0xff);
  stamp[8] = static_cast<char>(batch_index >> 8);
  stamp[9] = static_cast<char>(batch_index & 0xff);
  return stamp;
}

void validate_versionstamped(const Mutation& mutation) {
  const std::string& bytes = mutation.type == MutationType::set_versionstamped_key ? mutation.param1 : mutation.param2;
  if (bytes.size() < 4) throw Error(errc::client_invalid_operation);
  const uint32_t offset = placeholder_offset(bytes);
  if (static_cast<size_t>(offset) + versionstamp_bytes > bytes.size() - 4) throw Error(errc::client_invalid_operation);
}

Mutation apply_versionstamp(const Mutation& mutation, Version version, uint16_t batch_index) {
  validate_versionstamped(mutation);
  Mutation result{MutationType::set_value, mutation.param1, mutation.param2};
  std::string& bytes = mutation.type == MutationType::set_versionstamped_key ? result.param1 : result.param2;
  const uint32_t offset = placeholder_offset(bytes);
  bytes.resize(bytes.size() - 4);
  bytes.replace(offset, versionstamp_bytes, make_versionstamp(version, batch_index));
  return result;
}

}  // namespace keel
