// The longest common subsequence of two strings, as Redis's LCS computes it (a pure function):
// the full dynamic-programming table, then one walk back from its end that prefers, between two
// equal choices, to drop a character of the second string. The walk fixes which subsequence and
// which matched ranges are reported, so clients see exactly what Redis answers.
//
// The table has (|a| + 1) x (|b| + 1) cells of 4 bytes, allocated and freed within one call:
// callers bound it with lcs_table_cells (LCS answers an error beyond lcs_table_cells_max).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

// 16 Mi cells: 64 MB of table, tens of milliseconds of work (two strings of about 4,000 bytes).
inline constexpr uint64_t lcs_table_cells_max = uint64_t{1} << 24;

// One run of consecutive matched characters: a[a_first..a_last] equals b[b_first..b_last].
struct LcsMatch {
  uint32_t a_first = 0;
  uint32_t a_last = 0;
  uint32_t b_first = 0;
  uint32_t b_last = 0;
  uint32_t length() const { return a_last - a_first + 1; }
};

struct LcsResult {
  std::string common;            // the subsequence
  std::vector<LcsMatch> matches;  // from the ends of the strings towards their beginnings
};

uint64_t lcs_table_cells(std::string_view a, std::string_view b);
// Requires lcs_table_cells(a, b) <= lcs_table_cells_max.
LcsResult longest_common_subsequence(std::string_view a, std::string_view b);

}  // namespace keel
