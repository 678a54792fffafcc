#include "frontend/resp/keyspace.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "runtime/assert.h"
#include "runtime/random.h"
#include "runtime/trace.h"

namespace keel {
namespace {

constexpr uint8_t meta_format_unstamped = 1;
constexpr uint8_t meta_format = 2;

void append_be64(std::string& out, int64_t value) {
  const auto bits = static_cast<uint64_t>(value);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((bits >> shift) & 0xff));
}

int64_t read_be64(std::string_view bytes) {
  KEEL_ASSERT(bytes.size() >= 8);
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  return static_cast<int64_t>(bits);
}

void append_be32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

std::string encode_record(uint8_t format, const KeyMeta& meta, std::string_view stamp) {
  std::string bytes;
  bytes.reserve(meta_header_bytes + (meta.type == KeyType::string ? meta.value.size() : 8));
  bytes.push_back(static_cast<char>(format));
  bytes.push_back(static_cast<char>(meta.type));
  append_be64(bytes, meta.expire_ms);
  bytes.append(stamp);
  if (meta.type == KeyType::string) {
    bytes += meta.value;
  } else {
    append_be64(bytes, meta.hash_fields);
  }
  return bytes;
}

}  // namespace

std::string encode_meta(const KeyMeta& meta, std::string_view stamp) {
  KEEL_ASSERT(stamp.size() == stamp_bytes);
  return encode_record(meta_format, meta, stamp);
}

std::string encode_unstamped_meta(const KeyMeta& meta) {
  KEEL_ASSERT(meta.type == KeyType::string && meta.value.size() > string_bytes_max);
  return encode_record(meta_format_unstamped, meta, "");
}

KeyMeta decode_meta(std::string_view bytes, std::optional<std::string>* stamp) {
  KeyMeta invalid;
  invalid.type = KeyType::invalid;
  if (stamp != nullptr) stamp->reset();
  if (bytes.empty()) return invalid;
  const auto format = static_cast<uint8_t>(bytes[0]);
  if (format != meta_format && format != meta_format_unstamped) return invalid;
  const size_t header = format == meta_format ? meta_header_bytes : unstamped_meta_header_bytes;
  if (bytes.size() < header) return invalid;
  KeyMeta meta;
  const auto type = static_cast<uint8_t>(bytes[1]);
  if (type != static_cast<uint8_t>(KeyType::string) && type != static_cast<uint8_t>(KeyType::hash)) return invalid;
  meta.type = static_cast<KeyType>(type);
  meta.expire_ms = read_be64(bytes.substr(2));
  if (meta.type == KeyType::string) {
    meta.value = std::string(bytes.substr(header));
  } else {
    if (bytes.size() != header + 8) return invalid;
    meta.hash_fields = read_be64(bytes.substr(header));
  }
  if (stamp != nullptr && format == meta_format) *stamp = std::string(bytes.substr(unstamped_meta_header_bytes, stamp_bytes));
  return meta;
}

std::string fresh_stamp() {
  const uint64_t bits = deterministic_random().next_u64();
  std::string stamp(stamp_bytes, '\0');
  for (size_t i = 0; i < stamp_bytes; ++i) stamp[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  return stamp;
}

std::string fresh_watch_marker(int64_t now_ms) {
  std::string marker = fresh_stamp();
  append_be64(marker, now_ms);
  return marker;
}

int64_t watch_marker_written_ms(std::string_view marker) {
  return marker.size() == stamp_bytes + 8 ? read_be64(marker.substr(stamp_bytes)) : 0;
}

std::optional<std::string> modification_stamp(const KeyRecord& record, std::optional<Value> stamp_key_value) {
  if (record.present && record.stamp) return record.stamp;
  return stamp_key_value;
}

Key prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<uint8_t>(end.back()) == 0xff) end.pop_back();
  KEEL_ASSERT(!end.empty());
  end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
  return end;
}

KeyLayout::KeyLayout(std::string prefix) : prefix_(std::move(prefix)) {}

size_t KeyLayout::redis_key_bytes_max() const {
  const size_t expiry_header = prefix_.size() + 1 + 8;  // expiry_key(): tag, deadline
  return key_bytes_max > expiry_header ? key_bytes_max - expiry_header : 0;
}

Key KeyLayout::tagged_key(char tag, std::string_view key) const {
  Key result;
  result.reserve(prefix_.size() + 1 + key.size());
  result.append(prefix_);
  result.push_back(tag);
  result.append(key);
  return result;
}

KeyRange KeyLayout::tagged_range(char tag) const {
  const Key begin = tagged_key(tag, "");
  return KeyRange{begin, prefix_end(begin)};
}

std::string KeyLayout::key_of_tagged(char tag, std::string_view tagged) const {
  KEEL_ASSERT(tagged.size() > prefix_.size() && tagged[prefix_.size()] == tag);
  return std::string(tagged.substr(prefix_.size() + 1));
}

Key KeyLayout::meta_key(std::string_view key) const { return tagged_key('k', key); }

KeyRange KeyLayout::meta_range() const { return tagged_range('k'); }

std::string KeyLayout::key_of_meta(std::string_view meta_key) const { return key_of_tagged('k', meta_key); }

Key KeyLayout::stamp_key(std::string_view key) const { return tagged_key('s', key); }

Key KeyLayout::field_key(std::string_view key, std::string_view field) const {
  Key result;
  result.reserve(prefix_.size() + 1 + 4 + key.size() + field.size());
  result.append(prefix_);
  result.push_back('h');
  append_be32(result, static_cast<uint32_t>(key.size()));
  result.append(key);
  result.append(field);
  return result;
}

size_t KeyLayout::field_bytes_max(std::string_view key) const {
  const size_t header = prefix_.size() + 1 + 4 + key.size();  // field_key() before the field
  return key_bytes_max > header ? key_bytes_max - header : 0;
}

KeyRange KeyLayout::fields_range(std::string_view key) const {
  Key begin = field_key(key, "");
  Key end = prefix_end(begin);
  return KeyRange{std::move(begin), std::move(end)};
}

std::string KeyLayout::field_of(std::string_view key, std::string_view field_key) const {
  const size_t header = prefix_.size() + 1 + 4 + key.size();
  KEEL_ASSERT(field_key.size() >= header);
  return std::string(field_key.substr(header));
}

Key KeyLayout::expiry_key(int64_t deadline_ms, std::string_view key) const {
  Key result = prefix_;
  result.push_back('x');
  append_be64(result, deadline_ms);
  result.append(key);
  return result;
}

KeyRange KeyLayout::expiry_range_below(int64_t deadline_ms) const {
  Key begin = prefix_;
  begin.push_back('x');
  return KeyRange{begin, expiry_key(deadline_ms, "")};
}

std::pair<int64_t, std::string> KeyLayout::decode_expiry_key(std::string_view expiry_key) const {
  const size_t header = prefix_.size() + 1;
  KEEL_ASSERT(expiry_key.size() >= header + 8);
  return {read_be64(expiry_key.substr(header)), std::string(expiry_key.substr(header + 8))};
}

Key KeyLayout::watch_marker_key(std::string_view key) const { return tagged_key('w', key); }

KeyRange KeyLayout::watch_marker_range() const { return tagged_range('w'); }

std::string KeyLayout::key_of_watch_marker(std::string_view marker_key) const {
  return key_of_tagged('w', marker_key);
}

KeyRange KeyLayout::all() const { return KeyRange{prefix_, prefix_end(prefix_)}; }

std::vector<KeyRange> KeyLayout::all_but_watch_markers() const {
  const KeyRange markers = watch_marker_range();
  return {KeyRange{prefix_, markers.begin}, KeyRange{markers.end, prefix_end(prefix_)}};
}

Future<KeyRecord> KeyStore::load(std::string key) { return load_record(std::move(key), false, false); }

Future<KeyRecord> KeyStore::load_any(std::string key) { return load_record(std::move(key), false, true); }

Future<KeyRecord> KeyStore::load_snapshot(std::string key) { return load_record(std::move(key), true, true); }

void KeyStore::prefetch(const std::string& key) {
  const auto [it, added] = prefetched_.try_emplace(key, Prefetched{prefetch_rounds_.size(), prefetch_keys_.size()});
  if (added) prefetch_keys_.push_back(layout_.meta_key(key));
}

namespace {
Future<std::shared_ptr<std::vector<std::optional<Value>>>> shared_records(Future<std::vector<std::optional<Value>>> values) {
  co_return std::make_shared<std::vector<std::optional<Value>>>(co_await std::move(values));
}
}  // namespace

void KeyStore::read_prefetched() {
  if (prefetch_keys_.empty()) return;
  std::vector<Key> keys;
  keys.swap(prefetch_keys_);
  prefetch_rounds_.push_back(shared_records(transaction_.get_all(std::move(keys), true)));
}

KeyRecord decode_record(const std::optional<Value>& bytes, int64_t now_ms) {
  KeyRecord record;
  if (bytes) {
    record.present = true;
    record.meta = decode_meta(*bytes, &record.stamp);
    record.expired = record.meta.expire_ms != 0 && record.meta.expire_ms <= now_ms;
  }
  return record;
}

Future<KeyRecord> KeyStore::load_record(std::string key, bool snapshot, bool any_type) {
  std::optional<Value> bytes;
  const auto prefetched = prefetched_.find(key);
  if (prefetched != prefetched_.end()) {
    const Prefetched at = prefetched->second;
    prefetched_.erase(prefetched);
    if (!snapshot) transaction_.add_read_conflict_range(single_key_range(layout_.meta_key(key)));
    if (at.round == prefetch_rounds_.size()) read_prefetched();
    Future<Records> round = prefetch_rounds_[at.round];
    const Records records = co_await std::move(round);
    bytes = std::move((*records)[at.index]);  // this load's alone: a key is prefetched once per round
  } else {
    bytes = co_await transaction_.get(layout_.meta_key(key), snapshot);
  }
  KeyRecord record = decode_record(bytes, now_ms_);
  if (lookup_counts_ != nullptr) ++(record.alive() ? lookup_counts_->hits : lookup_counts_->misses);
  if (!bytes) co_return record;
  if (record.meta.type == KeyType::invalid) {
    TraceEvent(Severity::warn_always, "RespRecordInvalid").detail("Key", printable(key)).suppress_for(1.0);
    if (!any_type) {
      invalid_key_ = key;
      throw Error(errc::resp_record_invalid);
    }
  }
  co_return record;
}

void KeyStore::write(const std::string& key, const KeyRecord& old, const KeyMeta& meta) {
  forget_prefetched(key);
  if (old.present && old.meta.type == KeyType::hash && (old.expired || meta.type != KeyType::hash)) {
    transaction_.clear_range(layout_.fields_range(key));
  }
  const int64_t old_deadline = old.present ? old.meta.expire_ms : 0;
  if (old_deadline != meta.expire_ms) {
    if (old_deadline != 0) transaction_.clear(layout_.expiry_key(old_deadline, key));
    if (meta.expire_ms != 0) transaction_.set(layout_.expiry_key(meta.expire_ms, key), "");
  }
  put_record(key, meta);
}

void KeyStore::overwrite(const std::string& key, const KeyRecord& old, const KeyMeta& meta) {
  forget_prefetched(key);
  KEEL_ASSERT(meta.expire_ms == 0 || meta.expire_ms > now_ms_);
  KeyRange fields = layout_.fields_range(key);
  if (old.present && old.meta.type != KeyType::string) transaction_.clear_range(fields);
  transaction_.add_read_conflict_range(std::move(fields));
  const int64_t old_deadline = old.present ? old.meta.expire_ms : 0;
  if (old_deadline != 0 && old_deadline != meta.expire_ms) transaction_.clear(layout_.expiry_key(old_deadline, key));
  if (meta.expire_ms != 0) transaction_.set(layout_.expiry_key(meta.expire_ms, key), "");  // even if unchanged
  put_record(key, meta);
}

void KeyStore::put_record(const std::string& key, const KeyMeta& meta) {
  if (meta.type == KeyType::string && meta.value.size() > string_bytes_max) {
    // A format-1 string too long for format 2's header: it stays format 1, stamp beside it.
    transaction_.set(layout_.meta_key(key), encode_unstamped_meta(meta));
    transaction_.set(layout_.stamp_key(key), fresh_stamp());
    return;
  }
  transaction_.set(layout_.meta_key(key), encode_meta(meta, fresh_stamp()));
}

void KeyStore::remove(const std::string& key, const KeyRecord& old, bool touch_stamp) {
  forget_prefetched(key);
  if (!old.present) return;
  if (old.meta.type != KeyType::string) transaction_.clear_range(layout_.fields_range(key));
  if (old.meta.expire_ms != 0) transaction_.clear(layout_.expiry_key(old.meta.expire_ms, key));
  transaction_.clear(layout_.meta_key(key));
  if (touch_stamp) transaction_.set(layout_.stamp_key(key), fresh_stamp());
  else if (old.stamp) transaction_.set(layout_.stamp_key(key), *old.stamp);  // format 1 left it there already
}

void KeyStore::touch(const std::string& key, const KeyRecord& record) {
  KEEL_ASSERT(record.alive());
  write(key, record, record.meta);
}

Future<std::optional<Value>> KeyStore::get_field(const std::string& key, const std::string& field) {
  if (field.size() > layout_.field_bytes_max(key)) return std::optional<Value>();  // cannot have been written
  return transaction_.get(layout_.field_key(key, field));
}

void KeyStore::set_field(const std::string& key, const std::string& field, const Value& value) {
  transaction_.set(layout_.field_key(key, field), value);
}

void KeyStore::clear_field(const std::string& key, const std::string& field) {
  if (field.size() > layout_.field_bytes_max(key)) return;  // cannot have been written
  transaction_.clear(layout_.field_key(key, field));
}

bool parse_int64(std::string_view text, int64_t& value) {
  if (text.empty() || text.size() > 20) return false;
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    i = 1;
  }
  if (i == text.size()) return false;
  if (text[i] == '0') {
    if (text.size() != 1) return false;  // leading zeros and "-0" are not integers
    value = 0;
    return true;
  }
  uint64_t magnitude = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (UINT64_MAX - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  if (negative) {
    if (magnitude > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    value = static_cast<int64_t>(0 - magnitude);
  } else {
    if (magnitude > static_cast<uint64_t>(INT64_MAX)) return false;
    value = static_cast<int64_t>(magnitude);
  }
  return true;
}

bool parse_long_double(std::string_view text, long double& value) {
  if (text.empty() || text.size() > 5000) return false;
  if (std::isspace(static_cast<unsigned char>(text[0]))) return false;
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  value = std::strtold(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE || std::isnan(value)) return false;
  return true;
}

}  // namespace keel
