// RoomFeed: the recent server changes of one room, pulled from the database
// once per new version and served from memory to every client of the room,
// so that live pushes cost one pull per room, not one per client. It holds
// the changes of every site; each client is given them without the columns
// it wrote itself. The window is bounded: a client that falls behind it
// catches up with pulls of its own. Not thread-safe (the sync server keeps
// it on its io thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>

#include "crbridge/sqlite/change.h"

namespace crbridge {

// `changes` as a client of site `client` must get them: without the column
// changes that site wrote (sentinels are the server's and stay), numbered
// again from seq 0 within each db_version, as a pull leaving it out would
// have numbered them.
Changeset ChangesFor(std::span<const Change> changes, const SiteId& client);

class RoomFeed {
 public:
  // An empty feed whose next pull starts after server version `head`;
  // `max_changes` bounds what it holds (its newest pull is always kept).
  RoomFeed(int64_t head, size_t max_changes) : head_(head), max_changes_(max_changes) {}

  // Server versions up to here have been pulled.
  int64_t head() const { return head_; }

  // A pull of the room after head() that considered every version up to
  // `through` (ending on a version boundary) and found `changes`.
  void Append(int64_t through, Changeset changes);

  enum class Read {
    kServed,  // `changes` (maybe none) follow `after`; `through` is where they end
    kAhead,   // nothing after `after` has been pulled yet
    kBehind,  // `after` is older than the feed holds: pull it separately
  };
  // What a client of site `client` that has seen the versions up to `after`
  // gets next: the rest of one pull.
  Read Next(int64_t after, const SiteId& client, Changeset* changes, int64_t* through) const;

  size_t held_changes() const { return held_changes_; }

 private:
  struct Pull {
    int64_t after;
    int64_t through;
    Changeset changes;
  };

  int64_t head_;
  size_t max_changes_;
  size_t held_changes_ = 0;
  std::deque<Pull> pulls_;  // contiguous: each one's `after` is the previous one's `through`
};

}  // namespace crbridge
