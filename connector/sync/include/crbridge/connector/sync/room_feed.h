// RoomFeed: the recent server changes of one room, pulled from the database
// once per new version and served from memory to every client of the room,
// so that live pushes cost one pull per room, not one per client. It holds
// the changes of every site; each client is given them without the columns
// it wrote itself, one message at a time (a bounded number of bytes). The
// window is bounded in changes and bytes: a client that falls behind it
// catches up with pulls of its own. A message that clients get alike (none
// of its columns theirs, none filtered out) is encoded once and shared.
// Not thread-safe (the sync server keeps it on its io thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <utility>

#include "crbridge/server/core/sync_store.h"
#include "crbridge/sqlite/change.h"

namespace crbridge {

// Which changes a client is sent (an empty filter: all of them): a client
// of an older schema is not sent the tables and columns it lacks.
using ChangeFilter = std::function<bool(const Change&)>;

// `changes` as a client of site `client` must get them: without the column
// changes that site wrote (sentinels are the server's and stay) and those
// `filter` leaves out, numbered again from seq 0 within each db_version, as
// a pull leaving them out would have numbered them.
Changeset ChangesFor(std::span<const Change> changes, const SiteId& client, const ChangeFilter& filter);

// One Changes message's changes for one client, encoded (EncodeChanges):
// the bytes are shared by the clients that get the same.
struct EncodedChanges {
  std::shared_ptr<const Blob> bytes;
  size_t count = 0;
  int64_t last_version = 0;  // the last change's db_version
};

// ChangesFor(changes, client, filter), encoded.
EncodedChanges EncodedFor(std::span<const Change> changes, const SiteId& client, const ChangeFilter& filter);

// How many of `changes` (a pull's, each row's changes sharing its
// db_version and seq) go in one Changes message of at most `max_bytes`:
// whole rows, and at least one, so that a row larger than that goes alone.
size_t ChangesInMessage(std::span<const Change> changes, size_t max_bytes);

// Where a pull's change stands: its row's place (PullBatch).
inline PullPosition PositionOf(const Change& change) { return PullPosition(change.db_version, change.seq); }

class RoomFeed {
 public:
  // An empty feed whose next pull starts after `head`; `max_changes` and
  // `max_bytes` (encoded) bound what it holds (its newest pull is always
  // kept).
  RoomFeed(const PullPosition& head, size_t max_changes, size_t max_bytes)
      : head_(head), max_changes_(max_changes), max_bytes_(max_bytes) {}

  // Everything up to here has been pulled.
  const PullPosition& head() const { return head_; }

  // A pull of the room after head() that considered everything up to
  // `through` and found `changes` (in pull order, as PullBatch has them).
  void Append(const PullPosition& through, Changeset changes);

  enum class Read {
    kServed,  // `changes` (maybe none) follow `after`; `through` is where they end
    kAhead,   // nothing after `after` has been pulled yet
    kBehind,  // `after` is older than the feed holds: pull it separately
  };
  // What a client of site `client` that has everything up to `after` gets
  // next (EncodedFor): the rest of one pull, as much of it as goes in a
  // message of `max_bytes`. A message the client's site and filter leave
  // whole is encoded once, for every client that gets it.
  Read Next(const PullPosition& after, const SiteId& client, const ChangeFilter& filter, size_t max_bytes,
            EncodedChanges* changes, PullPosition* through);

  size_t held_changes() const { return held_changes_; }
  size_t held_bytes() const { return held_bytes_; }

 private:
  struct Pull {
    PullPosition after;
    PullPosition through;
    Changeset changes;
    size_t bytes;  // of `changes`, and of `encoded` once made
    // Messages of the pull left whole, by where they start in `changes`
    // and their count (clients mostly stand at the same places: the
    // pull's start, and where the messages before ended); a few at most.
    std::map<std::pair<size_t, size_t>, EncodedChanges> encoded;
  };

  // Drops the oldest pulls beyond the bounds, but the newest.
  void Trim();

  PullPosition head_;
  size_t max_changes_;
  size_t max_bytes_;
  size_t held_changes_ = 0;
  size_t held_bytes_ = 0;
  std::deque<Pull> pulls_;  // contiguous: each one's `after` is the previous one's `through`
};

}  // namespace crbridge
