#include "server/storage_server/watch_map.h"

#include <gtest/gtest.h>

namespace keel {
namespace {

TEST(WatchMapTest, AKeysChangeReachesItsWatchesOnly) {
  WatchMap watches;
  watches.changed_key("a", 5);  // nobody watches: nothing kept
  EXPECT_EQ(watches.watched_keys(), 0u);
  WatchMap::Registration a(&watches, "a");
  WatchMap::Registration ab(&watches, "ab");
  watches.changed_key("a", 7);
  EXPECT_EQ(a.last_change(), 7);
  EXPECT_EQ(ab.last_change(), 0);  // a longer key is another key
  watches.changed_key(std::string("a\0", 2), 8);
  EXPECT_EQ(a.last_change(), 7);
  EXPECT_EQ(ab.last_change(), 0);
  watches.changed(KeyRange{"a", "b"}, 9);  // a range reaches every key in it
  EXPECT_EQ(a.last_change(), 9);
  EXPECT_EQ(ab.last_change(), 9);
}

}  // namespace
}  // namespace keel
