// WatchMap: which keys clients watch on this storage server, and when each last changed.
//
// The server's pull loop calls changed() for every mutation it applies; a watch request holds a
// Registration on its key while it waits, and waits with changed_after() for a mutation of the
// key newer than the version it last compared. Entries exist only while registered, so the map
// costs nothing for keys nobody watches.
#pragma once

#include <map>
#include <memory>

#include "protocol/types.h"
#include "runtime/future.h"
#include "runtime/notified.h"

namespace keel {

class WatchMap {
  struct Entry {
    NotifiedValue<Version> last_change{0};
    int registrations = 0;
  };

 public:
  // Keeps a key's entry alive while a watch request waits on it.
  class Registration {
   public:
    Registration(WatchMap* map, Key key);
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration();
    // Ready once the key is written at a version above `version`.
    Future<Void> changed_after(Version version) { return entry_->last_change.when_at_least(version + 1); }
    Version last_change() const { return entry_->last_change.get(); }

   private:
    WatchMap* map_;
    Key key_;
    Entry* entry_;
  };

  // A mutation of `range` (a single key is a one-key range) was applied at `version`.
  void changed(const KeyRange& range, Version version);
  void changed_key(const Key& key, Version version);  // as changed(single_key_range(key)), without building it
  size_t watched_keys() const { return entries_.size(); }

 private:
  std::map<Key, std::unique_ptr<Entry>> entries_;
};

}  // namespace keel
