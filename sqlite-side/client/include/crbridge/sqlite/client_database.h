// ClientDatabase: a local SQLite file as the native sync client keeps it:
// the CRR layer attached, the schema name and version recorded at init (as
// a vlcn app's automigrateTo records them), its own changes to send, and
// changes received from peers with their last-seen positions.
// One connection; like it, not to be used from two threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crbridge/sqlite/crr.h"
#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/vlcn_messages.h"

namespace crbridge {

struct ClientSchema {
  std::string name;
  int64_t version = 0;
};

class ClientDatabase {
 public:
  // Opens (creating if needed) the file at `path`. Other processes may use
  // the file at the same time: a locked file is waited for a few seconds.
  static Status Open(const std::string& path, std::unique_ptr<ClientDatabase>* db);

  // Applies `schema_text` (as `crbridge schema` prints it) and records
  // `name` and its version, in one transaction. Applying the schema the
  // file already has does nothing (*applied false); another schema is
  // InvalidArgument (Migrate moves to it).
  Status Init(const std::string& name, const std::string& schema_text, bool* applied);
  // Init, or from the file's schema to another version of it as a vlcn
  // app's automigrateTo moves (schema_migration.h): existing rows keep
  // their clocks and get those of new columns' values; the server sends
  // what the new version adds once the client announces it.
  Status Migrate(const std::string& name, const std::string& schema_text, bool* applied);
  // The recorded schema; NotFound when Init never ran.
  Status GetSchema(ClientSchema* schema);

  // Runs `sql` (any number of statements) with writes recorded as CRR
  // changes, calling `row` with each result row's values as text (NULL as
  // nullopt).
  using RowCallback = std::function<void(const std::vector<std::optional<std::string>>&)>;
  Status Exec(const std::string& sql, const RowCallback& row);

  SiteId site_id() const { return crr_->site_id(); }
  Status RenewSiteId() { return crr_->RenewSiteId(); }
  Status DbVersion(int64_t* version) { return crr_->DbVersion(version); }
  // Changes once committed by any connection to the file count here:
  // PRAGMA data_version, which changes when another connection commits.
  Status DataVersion(int64_t* version);

  // What the announce carries: every tracked peer's last-seen position.
  Status LastSeens(std::vector<LastSeen>* seens);
  Status LastSeen(const SiteId& peer, StreamPosition* position);
  // At most `limit` changes written here after `after`, ready to send:
  // without a site id (they are the sender's), as ws-client sends them.
  Status OwnChangesAfter(const StreamPosition& after, size_t limit, Changeset* changes);
  // Merges `changes` from `sender` in one transaction, recorded as written
  // by the sender and with its last-seen position advanced to the last
  // change's version, seq 0 (what ws-client records; servers rely on it).
  Status ApplyFrom(const SiteId& sender, Changeset changes);

 private:
  explicit ClientDatabase(std::unique_ptr<CrrDatabase> crr) : crr_(std::move(crr)) {}
  Status ApplySchema(const std::string& name, const std::string& schema_text, bool migrate, bool* applied);
  std::unique_ptr<CrrDatabase> crr_;
};

}  // namespace crbridge
