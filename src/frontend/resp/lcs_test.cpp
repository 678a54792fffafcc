#include "frontend/resp/lcs.h"

#include <gtest/gtest.h>

#include "runtime/random.h"

namespace keel {
namespace {

// Up to 60 letters of the first `alphabet` of the alphabet (few letters: long common runs).
std::string random_text(DeterministicRandom& random, int64_t alphabet) {
  std::string text;
  for (auto length = random.random_int(0, 60); length > 0; --length) {
    text.push_back(static_cast<char>('a' + random.random_int(0, alphabet)));
  }
  return text;
}

TEST(RespLcs, RedisDocumentationExample) {
  const LcsResult result = longest_common_subsequence("ohmytext", "mynewtext");
  EXPECT_EQ(result.common, "mytext");
  ASSERT_EQ(result.matches.size(), 2u);
  EXPECT_EQ(result.matches[0].a_first, 4u);
  EXPECT_EQ(result.matches[0].a_last, 7u);
  EXPECT_EQ(result.matches[0].b_first, 5u);
  EXPECT_EQ(result.matches[0].b_last, 8u);
  EXPECT_EQ(result.matches[0].length(), 4u);
  EXPECT_EQ(result.matches[1].a_first, 2u);
  EXPECT_EQ(result.matches[1].a_last, 3u);
  EXPECT_EQ(result.matches[1].b_first, 0u);
  EXPECT_EQ(result.matches[1].b_last, 1u);
}

TEST(RespLcs, EmptyAndDisjoint) {
  EXPECT_EQ(longest_common_subsequence("", "abc").common, "");
  EXPECT_TRUE(longest_common_subsequence("abc", "").matches.empty());
  EXPECT_TRUE(longest_common_subsequence("abc", "xyz").matches.empty());
  EXPECT_EQ(lcs_table_cells("", ""), 1u);
  EXPECT_EQ(lcs_table_cells(std::string(4095, 'a'), std::string(4095, 'b')), lcs_table_cells_max);
}

// The reply is consistent: the common string is a subsequence of both, each match is a run of
// equal bytes, the matches go towards the beginnings without overlapping and spell the common
// string backwards.
TEST(RespLcs, RandomStringsGiveConsistentMatches) {
  DeterministicRandom random(77);
  for (int iteration = 0; iteration < 300; ++iteration) {
    const auto alphabet = random.random_int(1, 5);
    const std::string a = random_text(random, alphabet);
    const std::string b = random_text(random, alphabet);
    const LcsResult result = longest_common_subsequence(a, b);
    std::string spelled;
    int64_t a_limit = static_cast<int64_t>(a.size());
    int64_t b_limit = static_cast<int64_t>(b.size());
    for (const LcsMatch& match : result.matches) {
      ASSERT_LE(match.a_first, match.a_last);
      ASSERT_LT(static_cast<int64_t>(match.a_last), a_limit) << iteration;
      ASSERT_LT(static_cast<int64_t>(match.b_last), b_limit) << iteration;
      ASSERT_EQ(match.b_last - match.b_first, match.a_last - match.a_first);
      ASSERT_EQ(a.substr(match.a_first, match.length()), b.substr(match.b_first, match.length())) << iteration;
      spelled = a.substr(match.a_first, match.length()) + spelled;
      a_limit = match.a_first;
      b_limit = match.b_first;
    }
    ASSERT_EQ(spelled, result.common) << iteration;
    // No longer common subsequence: the length agrees with a table built independently.
    std::vector<std::vector<int>> table(a.size() + 1, std::vector<int>(b.size() + 1, 0));
    for (size_t i = 1; i <= a.size(); ++i) {
      for (size_t j = 1; j <= b.size(); ++j) {
        table[i][j] = a[i - 1] == b[j - 1] ? table[i - 1][j - 1] + 1 : std::max(table[i - 1][j], table[i][j - 1]);
      }
    }
    ASSERT_EQ(static_cast<int>(result.common.size()), table[a.size()][b.size()]) << iteration;
  }
}

}  // namespace
}  // namespace keel
