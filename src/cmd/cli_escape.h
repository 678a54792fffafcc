// Text conventions of `keel cli`, as fdbcli has them: printable escaping of keys and values, and
// the parsing of a command line into commands and arguments.
//
// Printable form: printable ASCII (0x20..0x7e) as is except the backslash, which is `\\`; every
// other byte is `\xNN` (lowercase hex). Input accepts the same escapes plus `\"`, so a printed
// key can be typed back (in double quotes if it has spaces or `;`, with `"` written `\"`).
// Arguments are separated by whitespace; double quotes group an argument that contains spaces or
// semicolons (`""` is the empty argument); `;` outside quotes separates commands on one line.
//
// Pure functions: no I/O, no state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "protocol/types.h"

namespace keel::cmd {

// A malformed line or argument (unterminated quote, bad escape, bad selector...).
struct CliSyntaxError {
  std::string message;
};

// One argument: its bytes with quotes removed and escapes decoded.
struct CliToken {
  std::string text;
  // How many leading bytes of `text` were typed plainly (outside quotes, not escaped). Keywords
  // (`reverse`, `on`) and selector operators (`>=`) are recognised only there, so `"reverse"` or
  // `\x3ekey` always mean the key itself.
  size_t literal_prefix = 0;

  bool is_literal() const { return literal_prefix == text.size(); }
  bool is_keyword(std::string_view word) const { return is_literal() && text == word; }
};

using CliCommandTokens = std::vector<CliToken>;

// `bytes` in printable form.
std::string printable(std::string_view bytes);

// Splits `line` into commands of tokens; empty commands are dropped. Throws CliSyntaxError.
std::vector<CliCommandTokens> parse_cli_line(std::string_view line);

// The key selector of `getkey`: `KEY` or `>=KEY` (first key >= KEY), `>KEY`, `<=KEY`, `<KEY`
// (the operator may also be its own token), optionally followed by a `+N` / `-N` token that moves
// the answer N keys forward / back. Throws CliSyntaxError.
KeySelector parse_key_selector(const std::vector<CliToken>& tokens);

}  // namespace keel::cmd
