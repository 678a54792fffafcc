#include "cmd/cli_escape.h"

#include <charconv>
#include <cstdint>

#include <fmt/format.h>

namespace keel::cmd {
namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Builds the tokens and commands of one line, one character at a time.
class LineParser {
 public:
  explicit LineParser(std::string_view line) : line_(line) {}

  std::vector<CliCommandTokens> parse() {
    while (position_ < line_.size()) step();
    if (in_quotes_) throw CliSyntaxError{"unterminated quoted argument (a `\"' is missing)"};
    end_command();
    return std::move(commands_);
  }

 private:
  void step() {
    const char c = line_[position_];
    if (c == '\\') {
      append(decode_escape(), false);
    } else if (c == '"') {
      in_quotes_ = !in_quotes_;
      token_started_ = true;
      plain_ = false;
      ++position_;
    } else if (!in_quotes_ && is_space(c)) {
      end_token();
      ++position_;
    } else if (!in_quotes_ && c == ';') {
      end_command();
      ++position_;
    } else {
      append(c, !in_quotes_);
      ++position_;
    }
  }

  // Decodes the escape at position_ (`\\`, `\"`, `\xNN`) and moves past it.
  char decode_escape() {
    const std::string_view rest = line_.substr(position_);
    if (rest.size() >= 2 && (rest[1] == '\\' || rest[1] == '"')) {
      position_ += 2;
      return rest[1];
    }
    if (rest.size() >= 4 && rest[1] == 'x' && hex_value(rest[2]) >= 0 && hex_value(rest[3]) >= 0) {
      position_ += 4;
      return static_cast<char>(hex_value(rest[2]) * 16 + hex_value(rest[3]));
    }
    throw CliSyntaxError{fmt::format("invalid escape `{}' at column {} (use \\\\, \\\" or \\xNN)",
                                     rest.substr(0, std::min<size_t>(rest.size(), 4)), position_ + 1)};
  }

  void append(char c, bool plain) {
    if (!plain) plain_ = false;
    if (plain_) ++token_.literal_prefix;
    token_.text.push_back(c);
    token_started_ = true;
  }

  void end_token() {
    if (token_started_) command_.push_back(std::move(token_));
    token_ = CliToken{};
    token_started_ = false;
    plain_ = true;
  }

  void end_command() {
    end_token();
    if (!command_.empty()) commands_.push_back(std::move(command_));
    command_.clear();
  }

  std::string_view line_;
  size_t position_ = 0;
  bool in_quotes_ = false;
  bool token_started_ = false;  // so that `""` is an (empty) argument
  bool plain_ = true;           // no quote or escape met yet in this token
  CliToken token_;
  CliCommandTokens command_;
  std::vector<CliCommandTokens> commands_;
};

// `+N` / `-N` as a selector offset.
int32_t parse_offset(const CliToken& token) {
  const std::string& text = token.text;
  if (!token.is_literal() || text.size() < 2 || (text[0] != '+' && text[0] != '-')) {
    throw CliSyntaxError{fmt::format("expected an offset +N or -N after the selector, got `{}'", printable(text))};
  }
  int64_t magnitude = 0;
  const char* first = text.data() + 1;
  const char* last = text.data() + text.size();
  const auto [end, error] = std::from_chars(first, last, magnitude);
  if (error != std::errc() || end != last || magnitude > INT32_MAX / 2) {
    throw CliSyntaxError{fmt::format("invalid selector offset `{}'", printable(text))};
  }
  return static_cast<int32_t>(text[0] == '-' ? -magnitude : magnitude);
}

}  // namespace

std::string printable(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == '\\') {
      out += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(hex_digits[byte >> 4]);
      out.push_back(hex_digits[byte & 0xf]);
    }
  }
  return out;
}

std::vector<CliCommandTokens> parse_cli_line(std::string_view line) { return LineParser(line).parse(); }

KeySelector parse_key_selector(const std::vector<CliToken>& tokens) {
  if (tokens.empty()) throw CliSyntaxError{"expected a key selector"};
  struct Operator {
    std::string_view text;
    KeySelector (*make)(Key);
  };
  // Longest first, so `>=` is not read as `>` followed by `=`.
  static constexpr Operator operators[] = {{">=", KeySelector::first_greater_or_equal},
                                           {"<=", KeySelector::last_less_or_equal},
                                           {">", KeySelector::first_greater_than},
                                           {"<", KeySelector::last_less_than}};
  size_t next = 1;
  KeySelector selector = KeySelector::first_greater_or_equal(tokens[0].text);
  for (const Operator& op : operators) {
    const CliToken& first = tokens[0];
    if (first.literal_prefix < op.text.size() || first.text.compare(0, op.text.size(), op.text) != 0) continue;
    if (first.text.size() > op.text.size()) {
      selector = op.make(first.text.substr(op.text.size()));
    } else {
      if (tokens.size() < 2) throw CliSyntaxError{fmt::format("expected a key after `{}'", op.text)};
      selector = op.make(tokens[1].text);
      next = 2;
    }
    break;
  }
  if (tokens.size() > next) selector.offset += parse_offset(tokens[next++]);
  if (tokens.size() > next) throw CliSyntaxError{"too many arguments after the key selector"};
  return selector;
}

}  // namespace keel::cmd
