// SyncStore: the server as a cr-sqlite peer, on any source database:
// merges client changesets into the app's tables and the clocks
// (docs/server-side.md) and pulls the changes after a server db_version.
// Merges go through the shadow store's Write (one transaction, one
// db_version per changeset, marked as crbridge's); pulls read one snapshot
// through its Read. Not thread-safe: use from one thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/sqlite/change.h"

namespace crbridge {

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
};

struct PullBatch {
  Changeset changes;           // in db_version, seq order
  int64_t through = 0;         // every change with a version <= this was considered
  bool more = false;           // another pull after `through` may return more
};

class SyncStore {
 public:
  // `config`, `tables` (from CheckConfig) and `shadow` must outlive the
  // store; `shadow` is the merge writer (Marking::kCrbridge).
  SyncStore(const Config& config, const std::vector<ResolvedTable>& tables, ShadowStore& shadow);

  ShadowStore& shadow() { return shadow_; }

  // Merges a client's changeset in one transaction and advances the
  // sender's tracked version to `end` in it. InvalidArgument naming the
  // problem (unknown table or column, a read-only table, a value that does
  // not convert, a malformed key, a clock out of range: clock_bounds.h)
  // with nothing applied. With `room` (a client of that room), a changeset
  // that writes to a row of another room, or would put a row in another
  // room, is refused the same way. With `owner` (SiteOwner), the sender's
  // site is bound to it in the same transaction, and PermissionDenied, with
  // nothing applied, when the site is the server's own or bound to another
  // owner (ShadowTransaction::SetPeerVersion). A merge that races an app
  // transaction on a row is retried; Aborted when it lost every time.
  Status Merge(const SiteId& sender, const Changeset& changes, const PeerVersion& end, MergeReport* report,
               const std::optional<std::string>& room = std::nullopt,
               const std::optional<std::string>& owner = std::nullopt);

  // The changes after server version `after`, for `room` (the rows whose
  // room column holds it, and every row of tables without one; all rows
  // when unset), leaving out columns last written by `exclude`; at most about
  // `limit` rows, ending on a version boundary. Unavailable when the
  // connection is lost; the next call connects again.
  Status Pull(int64_t after, const std::optional<std::string>& room, const std::optional<SiteId>& exclude, size_t limit,
              PullBatch* batch);

 private:
  const Config& config_;
  ShadowStore& shadow_;
  std::map<std::string, const ResolvedTable*> tables_;  // by client name
  std::map<SiteId, int> site_ordinals_;                 // committed sites, by id (merges)
  std::map<int64_t, SiteId> site_ids_;                  // committed sites, by ordinal (pulls)
};

}  // namespace crbridge
