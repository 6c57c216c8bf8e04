// SyncStore: the server as a cr-sqlite peer, on any source database:
// merges client changesets into the app's tables and the clocks
// (docs/server-side.md) and pulls the changes after a server db_version.
// Merges go through the shadow store's Write (one transaction, one
// db_version per changeset, marked as crbridge's); pulls read one snapshot
// through its Read. Not thread-safe: use from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/sqlite/change.h"

namespace crbridge {

class RoomGraph;

// Whom a client's site id is bound to (docs/sync-server.md, "Site ids"):
// the token's subject when it has one, else the room the client is in.
// The prefixes keep a subject from ever naming a room's owner.
inline std::string SiteOwner(const std::optional<std::string>& subject, const std::string& room) {
  return subject ? "sub:" + *subject : "room:" + room;
}

// PermissionDenied: `site` is the server's own, which no client may use.
inline Status ServerSiteRefused(const SiteId& site) {
  return Status::PermissionDenied("site id " + EncodeHex(site) + " is the server's own; a client may not use it");
}

struct MergeReport {
  int64_t db_version = 0;      // the version the merge was recorded under (0: nothing won)
  size_t applied = 0;          // changes that won and were written
  size_t canonicalized = 0;    // values the server stores in another form, recorded as server changes
  size_t clocks_saturated = 0; // server clock steps that stayed at INT64_MAX (clock_bounds.h)
  // Rows outside the sender's room (left it, or never in it, for tables
  // that derive their rooms): none of their changes applied; their exit
  // removes them from the client (docs/design.md).
  size_t left_room = 0;
  // Rows of the sender's room its changes would have moved out of it (a
  // table that derives its rooms): kept, their written columns recorded
  // again as the server's so the client takes them back.
  size_t kept_in_room = 0;
  // Changes to tables or columns the sender's schema version has and the
  // mappings no longer do (`gone`): not applied, the rest of the changeset is.
  size_t gone = 0;
};

// One client's part of a merge of several clients' changesets
// (SyncStore::MergeTogether): its changesets in the order it sent them,
// each starting where the one before ended, merged as the one changeset
// they make together (what the client would have sent had it waited).
struct ClientMerge {
  SiteId sender;
  std::vector<const Changeset*> changesets;  // must outlive the merge
  PeerVersion end;                           // where the last one ends
  std::optional<std::string> room;
  std::optional<std::string> owner;
  const AddedColumns* gone = nullptr;
  // The client's token expires then: once the transaction holds its
  // locks (it may have waited for them), an expired client's changesets
  // are left out, and `expired` says so.
  std::optional<std::chrono::system_clock::time_point> expiry;
  MergeReport report;  // the merge's, filled in by it
  bool expired = false;
};

// How much one pull returns at the most: about `rows` clock rows and
// `bytes` of encoded changes (estimated from the values' stored lengths);
// a batch has at least one row (or the rows one truncate killed, which
// share their place).
struct PullLimit {
  size_t rows;
  size_t bytes = SIZE_MAX;
  PullLimit(size_t max_rows, size_t max_bytes = SIZE_MAX) : rows(max_rows), bytes(max_bytes) {}  // implicit: rows alone
};

struct PullBatch {
  // In (db_version, seq) order, where `seq` is the place of the change's
  // row in its version, shared by the row's changes: the PullPosition of
  // each change. Peers are sent them numbered again (ChangesFor).
  Changeset changes;
  PullPosition through;        // every change up to here was considered
  bool more = false;           // another pull after `through` may return more
};

// A pull for every room at once (SyncStore::PullEveryRoom): what each room
// gets, each in the order PullBatch has it. The rows of tables without
// rooms go to every room.
struct EveryRoomBatch {
  Changeset every_room;
  std::map<std::string, Changeset> by_room;  // rooms that got something of their own
  PullPosition through;
  bool more = false;

  // What `room` gets: every_room's changes and its own, in pull order.
  Changeset For(const std::string& room) const;
};

class SyncStore {
 public:
  // `config`, `tables` (from CheckConfig) and `shadow` must outlive the
  // store; `shadow` is the merge writer (Marking::kCrbridge).
  SyncStore(const Config& config, const std::vector<ResolvedTable>& tables, ShadowStore& shadow);
  ~SyncStore();

  ShadowStore& shadow() { return shadow_; }
  // The client schema the store's tables make, which pulls carry whole.
  const ServedSchema& served_schema() const { return served_schema_; }

  // Merges a client's changeset in one transaction and advances the
  // sender's tracked version to `end` in it. InvalidArgument naming the
  // problem (unknown table or column, a read-only table, a value that does
  // not convert, a malformed key, a clock out of range: clock_bounds.h)
  // with nothing applied. With `room` (a client of that room), a changeset
  // that writes to a row of another room, or would put a row in another
  // room, is refused the same way; writes to rows that were in the room and
  // left it are not applied, and the rest of the changeset is
  // (MergeReport::left_room). With `owner` (SiteOwner), the sender's
  // site is bound to it in the same transaction, and PermissionDenied, with
  // nothing applied, when the site is the server's own or bound to another
  // owner (ShadowTransaction::SetPeerVersion). A merge that races an app
  // transaction on a row is retried; Aborted when it lost every time.
  // With `gone` (what the sender's schema version has that the mappings
  // no longer do: ColumnsAdded(current, its version)), changes to those
  // are left out (MergeReport::gone) rather than refused.
  Status Merge(const SiteId& sender, const Changeset& changes, const PeerVersion& end, MergeReport* report,
               const std::optional<std::string>& room = std::nullopt,
               const std::optional<std::string>& owner = std::nullopt, const AddedColumns* gone = nullptr);

  // Merges the changesets of several clients in one transaction, under
  // one db_version (group commit), as Merge would merge each client's one
  // after another: nothing of them is applied when any one is refused, or
  // its site is refused (the error is that one's, and the caller merges
  // each on its own to tell which). Each sender at most once.
  Status MergeTogether(std::span<ClientMerge> merges);

  // The changes after `after` (a server version, or a place inside one
  // where an earlier batch ended), for `room` (the rows whose room column
  // holds it, the rows of tables deriving their rooms that are in it, the
  // rows that left it as deaths, and every row of tables without rooms; all
  // rows when unset),
  // leaving out columns last written by `exclude`; within `limit`, ending
  // between two rows, maybe inside a version. Unavailable when the
  // connection is lost; the next call connects again.
  Status Pull(const PullPosition& after, const std::optional<std::string>& room, const std::optional<SiteId>& exclude,
              const PullLimit& limit, PullBatch* batch);
  // The changes after `after` of every room, as Pull(after, room) would
  // return them for each (live feeds, docs/sync-server.md): each changed
  // row is read once, whatever the number of rooms it is in, and given to
  // each of them from memory. Within `limit`, counted over every room's
  // rows together.
  Status PullEveryRoom(const PullPosition& after, const PullLimit& limit, EveryRoomBatch* batch);

 private:
  const Config& config_;
  ShadowStore& shadow_;
  std::map<std::string, const ResolvedTable*> tables_;  // by client name
  ServedSchema served_schema_;
  std::unique_ptr<const RoomGraph> graph_;
  std::map<SiteId, int> site_ordinals_;                 // committed sites, by id (merges)
  std::map<int64_t, SiteId> site_ids_;                  // committed sites, by ordinal (pulls)
};

}  // namespace crbridge
