#include "frontend/resp/lcs.h"

#include <algorithm>

#include "runtime/assert.h"

namespace keel {
namespace {

// lengths[i * (|b| + 1) + j]: the length of the LCS of a[0..i) and b[0..j).
class LcsTable {
 public:
  LcsTable(std::string_view a, std::string_view b) : columns_(b.size() + 1), lengths_((a.size() + 1) * columns_, 0) {
    for (size_t i = 1; i <= a.size(); ++i) {
      for (size_t j = 1; j <= b.size(); ++j) {
        at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
      }
    }
  }
  uint32_t at(size_t i, size_t j) const { return lengths_[i * columns_ + j]; }

 private:
  uint32_t& at(size_t i, size_t j) { return lengths_[i * columns_ + j]; }

  size_t columns_;
  std::vector<uint32_t> lengths_;
};

}  // namespace

uint64_t lcs_table_cells(std::string_view a, std::string_view b) {
  return (uint64_t{a.size()} + 1) * (uint64_t{b.size()} + 1);
}

LcsResult longest_common_subsequence(std::string_view a, std::string_view b) {
  KEEL_ASSERT(lcs_table_cells(a, b) <= lcs_table_cells_max);
  const LcsTable table(a, b);
  LcsResult result;
  result.common.resize(table.at(a.size(), b.size()));
  size_t i = a.size();
  size_t j = b.size();
  size_t remaining = result.common.size();
  bool in_match = false;  // `match` holds the run being extended towards the beginnings
  LcsMatch match;
  while (i > 0 && j > 0) {
    bool run_ends = false;
    if (a[i - 1] == b[j - 1]) {
      result.common[--remaining] = a[i - 1];
      if (in_match) {  // the walk goes diagonally while characters match: the run is contiguous
        KEEL_ASSERT(match.a_first == i && match.b_first == j);
        --match.a_first;
        --match.b_first;
      } else {
        match = LcsMatch{static_cast<uint32_t>(i - 1), static_cast<uint32_t>(i - 1), static_cast<uint32_t>(j - 1),
                         static_cast<uint32_t>(j - 1)};
        in_match = true;
      }
      run_ends = match.a_first == 0 || match.b_first == 0;
      --i;
      --j;
    } else {
      if (table.at(i - 1, j) > table.at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      run_ends = in_match;
    }
    if (run_ends) {
      result.matches.push_back(match);
      in_match = false;
    }
  }
  KEEL_ASSERT(remaining == 0 && !in_match);
  return result;
}

}  // namespace keel
