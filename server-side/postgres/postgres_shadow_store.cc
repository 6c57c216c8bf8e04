#include "crbridge/server/postgres/postgres_shadow_store.h"


#include "crbridge/server/core/clock_columns.h"
#include "crbridge/server/postgres/postgres_errors.h"
#include "crbridge/sqlite/sql_quote.h"
#include "postgres_batch.h"
#include "postgres_change_log.h"
#include "postgres_shadow_transaction.h"

namespace crbridge::postgres {
namespace {


// The key columns of `table` with their server types, for a CREATE TABLE
// ("a text NOT NULL, "), and their names ("a, b").
void KeyColumnDefinitions(const ResolvedTable& table, std::string* columns, std::string* key) {
  for (size_t i = 0; i < table.pk_count; ++i) {
    const ResolvedColumn& c = table.columns[i];
    *columns += QuoteIdentifier(c.server.name) + " " + c.server.type + " NOT NULL, ";
    *key += (i > 0 ? ", " : "") + QuoteIdentifier(c.server.name);
  }
}

// The clock table's DDL: the primary key columns with their server types,
// then the row-wide clock (docs/server-side.md). One index serves pulls: by
// room and version when the table has a room column (its pulls name a
// room), by version otherwise. A second would cost every clock update one
// more index write, as the version changes on each (never a HOT update).
std::string ClockTableDdl(const std::string& clock_table, const std::string& index_prefix, const ResolvedTable& table) {
  std::string columns, key;
  KeyColumnDefinitions(table, &columns, &key);
  return "CREATE TABLE IF NOT EXISTS " + clock_table + " (" + columns +
         "__cl bigint NOT NULL, __col_versions bigint[] NOT NULL, __col_sites int[] NOT NULL, "
         "__col_hashes bigint[] NOT NULL, __lsn bigint NOT NULL, "
         "__db_version bigint NOT NULL, __seq int NOT NULL, __room text, PRIMARY KEY (" + key + "));\n"
         // Version 1 clock tables gain what capture needs (unknown hashes
         // read as changed).
         "ALTER TABLE " + clock_table + " ADD COLUMN IF NOT EXISTS __col_hashes bigint[] NOT NULL DEFAULT '{}', "
         "ADD COLUMN IF NOT EXISTS __lsn bigint NOT NULL DEFAULT 0;\n"
         "CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(index_prefix + "_version") + " ON " + clock_table +
         (table.room_column ? " (__room, __db_version);\n" : " (__db_version);\n") +
         // room_via: the rows that reference a row, found by its key.
         (table.via_column ? "CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(index_prefix + "_via") + " ON " +
                                 clock_table + " (__room);\n"
                           : std::string());
}

// The rooms table of a table that derives its rooms (RowRoom): a row per
// row and room, keyed like the clock table. Pulls of a room join it with
// the clocks by room and key, and read the rows that entered the room by
// room and version; pulls of every room read the rooms of rows by key,
// and the entries by version.
std::string RoomsTableDdl(const std::string& rooms_table, const std::string& index_prefix, const ResolvedTable& table) {
  std::string columns, key;
  KeyColumnDefinitions(table, &columns, &key);
  return "CREATE TABLE IF NOT EXISTS " + rooms_table + " (" + columns +
         "__room text NOT NULL, __cl_offset bigint NOT NULL, __db_version bigint NOT NULL, __seq int NOT NULL, "
         "PRIMARY KEY (__room, " + key + "));\n"
         "CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(index_prefix + "_key") + " ON " + rooms_table + " (" +
         key + ");\n"
         "CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(index_prefix + "_entered") + " ON " + rooms_table +
         " (__room, __db_version, __seq);\n"
         "CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(index_prefix + "_entered_at") + " ON " + rooms_table +
         " (__db_version, __seq);\n";
}

std::string ArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) out += (i > 0 ? "," : "") + std::string("\"") + items[i] + "\"";
  return out + "}";
}

}  // namespace

PostgresShadowStore::PostgresShadowStore(std::string url, std::unique_ptr<pqxx::connection> conn, std::string schema,
                                       Marking marking)
    : url_(std::move(url)),
      conn_(std::move(conn)),
      schema_(std::move(schema)),
      marking_(marking),
      // Origins are cluster-wide: the name says which database and schema.
      origin_(OriginName(conn_->dbname(), schema_)) {}

std::string PostgresShadowStore::OriginName(const std::string& database, const std::string& metadata_schema) {
  return "crbridge:" + database + "." + metadata_schema;
}

std::string PostgresShadowStore::ClockTable(const std::string& client_table) const {
  return MetadataTable(client_table + "__clock");
}

std::string PostgresShadowStore::RoomsTable(const std::string& client_table) const {
  return MetadataTable(client_table + "__rooms");
}

std::string PostgresShadowStore::MetadataTable(const std::string& name) const {
  return QuoteIdentifier(schema_) + "." + QuoteIdentifier(name);
}

Status PostgresShadowStore::Open(const std::string& url, const std::string& metadata_schema,
                                const std::vector<ResolvedTable>& tables, Marking marking,
                                std::unique_ptr<PostgresShadowStore>* store) {
  std::unique_ptr<pqxx::connection> conn;
  CRBRIDGE_RETURN_IF_ERROR(CatchErrors("connecting", [&] {
    conn = std::make_unique<pqxx::connection>(url);
    pqxx::nontransaction(*conn).exec0(kSessionSettings);
    return Status::OK();
  }));
  std::unique_ptr<PostgresShadowStore> result(new PostgresShadowStore(url, std::move(conn), metadata_schema, marking));
  CRBRIDGE_RETURN_IF_ERROR(result->Migrate(tables));
  if (marking == Marking::kCrbridge) CRBRIDGE_RETURN_IF_ERROR(result->TakeOrigin());
  *store = std::move(result);
  return Status::OK();
}

Status PostgresShadowStore::Migrate(const std::vector<ResolvedTable>& tables) {
  const std::string s = QuoteIdentifier(schema_);
  return CatchErrors("setting up the shadow schema " + schema_, conn_, [&] {
    pqxx::work tx(*conn_);
    // Two crbridge processes starting at once must not both create.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "crbridge shadow schema " + schema_);
    tx.exec0("CREATE SCHEMA IF NOT EXISTS " + s);
    tx.exec0("CREATE TABLE IF NOT EXISTS " + s + ".migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    const int applied = tx.exec1("SELECT COALESCE(max(version), 0) FROM " + s + ".migrations")[0].as<int>();
    if (applied > kSchemaVersion) {
      return Status::InvalidArgument("the shadow schema " + schema_ + " is at version " + std::to_string(applied) +
                                     ", newer than this crbridge (" + std::to_string(kSchemaVersion) + ")");
    }
    if (applied < 1) {
      tx.exec0("CREATE TABLE " + s + ".site (id int PRIMARY KEY CHECK (id = 1), site_id bytea NOT NULL CHECK (length(site_id) = 16))");
      tx.exec0("CREATE TABLE " + s + ".clock (id int PRIMARY KEY CHECK (id = 1), db_version bigint NOT NULL)");
      tx.exec0("INSERT INTO " + s + ".clock VALUES (1, 0)");
      tx.exec0("CREATE TABLE " + s + ".sites (ordinal serial PRIMARY KEY, site_id bytea NOT NULL UNIQUE)");
      tx.exec0("CREATE TABLE " + s + ".peers (site_id bytea PRIMARY KEY, version bigint NOT NULL, seq bigint NOT NULL)");
      tx.exec0("CREATE TABLE " + s + ".tables (name text PRIMARY KEY, source text NOT NULL, pk_columns text[] NOT NULL, "
               "value_columns text[] NOT NULL)");
      tx.exec_params0("INSERT INTO " + s + ".site VALUES (1, $1::bytea)", Bytea(RandomSiteId()));
      tx.exec0("INSERT INTO " + s + ".migrations (version) VALUES (1)");
    }
    if (applied < 2) {
      // Capture's position: the end of the last source transaction whose
      // changes are in the clocks, written with them.
      tx.exec0("CREATE TABLE " + s + ".capture (id int PRIMARY KEY CHECK (id = 1), lsn bigint NOT NULL)");
      tx.exec0("INSERT INTO " + s + ".capture VALUES (1, 0)");
      // Where each table's initial snapshot was taken; NULL until it is done.
      tx.exec0("ALTER TABLE " + s + ".tables ADD COLUMN snapshot_lsn bigint");
      tx.exec0("INSERT INTO " + s + ".migrations (version) VALUES (2)");
    }
    if (applied < 3) {
      tx.exec0(ChangeLogDdl(s + ".change_events"));
      tx.exec0("INSERT INTO " + s + ".migrations (version) VALUES (3)");
    }
    if (applied < 4) {
      // Whom each client site is bound to (docs/sync-server.md, "Site ids");
      // sites of earlier versions are bound at their next write.
      tx.exec0("ALTER TABLE " + s + ".peers ADD COLUMN owner bytea");
      tx.exec0("INSERT INTO " + s + ".migrations (version) VALUES (4)");
    }
    if (applied < 5) {
      // App rows capture could not map (rejected_row.h), by table and key
      // hash: a packed key may be longer than an index entry can hold.
      tx.exec0("CREATE TABLE " + s + ".rejected_rows (table_name text NOT NULL, key_hash bigint NOT NULL, "
               "pk bytea NOT NULL, reason text NOT NULL, source_position bigint NOT NULL, "
               "rejected_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (table_name, key_hash))");
      tx.exec0("INSERT INTO " + s + ".migrations (version) VALUES (5)");
    }
    if (applied < 6) {
      // Rows that left a room they were in (RoomExit), by table, key and
      // room; pulls read a room's in version order.
      tx.exec0("CREATE TABLE " + s + ".room_exits (table_name text NOT NULL, pk bytea NOT NULL, room text NOT NULL, "
               "cl bigint NOT NULL, db_version bigint NOT NULL, seq int NOT NULL, PRIMARY KEY (table_name, pk, room))");
      tx.exec0("CREATE INDEX ON " + s + ".room_exits (table_name, room, db_version, seq)");
      tx.exec0("INSERT INTO " + s + ".migrations (version) VALUES (6)");
    }
    if (applied < 7) {
      // The rows of membership tables as crbridge last recorded them
      // (Membership), by rule and member row; rooms are found by key.
      tx.exec0("CREATE TABLE " + s + ".memberships (source text NOT NULL, member_pk bytea NOT NULL, key text NOT NULL, "
               "room text NOT NULL, PRIMARY KEY (source, member_pk))");
      tx.exec0("CREATE INDEX ON " + s + ".memberships (source, key)");
      tx.exec0("INSERT INTO " + s + ".migrations (version) VALUES (7)");
    }
    if (applied < 8) {
      // The client schemas served (ServedSchema), in the order first
      // served, and the one each client site announced last.
      tx.exec0("CREATE TABLE " + s + ".served_schemas (ordinal bigserial PRIMARY KEY, version bigint NOT NULL UNIQUE, "
               "schema_sql text NOT NULL, columns text NOT NULL, first_served timestamptz NOT NULL DEFAULT now())");
      tx.exec0("ALTER TABLE " + s + ".peers ADD COLUMN schema_version bigint");
      // How many times a store changed the clock columns of a mapped table
      // (MappingsChanged): a store opened before refuses to write.
      tx.exec0("ALTER TABLE " + s + ".clock ADD COLUMN mappings bigint NOT NULL DEFAULT 0");
      tx.exec0("INSERT INTO " + s + ".migrations (version) VALUES (8)");
    }
    if (applied < 9) {
      // The room rule each table's clocks were recorded under (RoomRuleOf);
      // NULL for a table recorded before, which takes the rule it has now.
      tx.exec0("ALTER TABLE " + s + ".tables ADD COLUMN room_rule text");
      tx.exec0("INSERT INTO " + s + ".migrations (version) VALUES (9)");
    }
    for (const ResolvedTable& table : tables) CRBRIDGE_RETURN_IF_ERROR(MigrateClockTable(tx, table));
    mappings_ = tx.exec1("SELECT mappings FROM " + s + ".clock")[0].as<int64_t>();
    const ServedSchema served = ServedSchemaOf(tables);
    tx.exec_params0("INSERT INTO " + s + ".served_schemas (version, schema_sql, columns) VALUES ($1, $2, $3) "
                    "ON CONFLICT (version) DO NOTHING",
                    served.version, served.sql, EncodeSchemaColumns(served.columns));
    const pqxx::binarystring site(tx.exec1("SELECT site_id FROM " + s + ".site")[0]);
    std::copy(site.begin(), site.end(), site_id_.begin());
    if (tx.exec_params("SELECT 1 FROM pg_replication_origin WHERE roname = $1", origin_).empty()) {
      tx.exec_params("SELECT pg_replication_origin_create($1)", origin_);
    }
    tx.commit();
    return Status::OK();
  });
}

Status PostgresShadowStore::MigrateClockTable(pqxx::work& tx, const ResolvedTable& table) {
  const std::string name = table.mapping->name;
  const pqxx::result known =
      tx.exec_params("SELECT array_to_json(pk_columns)::text, array_to_json(value_columns)::text, room_rule "
                     "FROM " + MetadataTable("tables") + " WHERE name = $1",
                     name);
  if (known.empty()) {
    const ClockColumns now = ClockColumnsOf(table);
    tx.exec0(ClockTableDdl(ClockTable(name), name + "__clock", table));
    if (table.derives_rooms()) tx.exec0(RoomsTableDdl(RoomsTable(name), name + "__rooms", table));
    tx.exec_params0("INSERT INTO " + MetadataTable("tables") +
                        " (name, source, pk_columns, value_columns, room_rule) VALUES ($1, $2, $3::text[], $4::text[], $5)",
                    name, table.mapping->QualifiedSource(), ArrayLiteral(now.key), ArrayLiteral(now.values),
                    RoomRuleOf(table));
    return Status::OK();
  }
  std::optional<std::string> rule;
  if (!known[0][2].is_null()) rule = known[0][2].as<std::string>();
  RecordedTable recorded;
  CRBRIDGE_RETURN_IF_ERROR(ParseRecordedTable(name, known[0][0].as<std::string>(), known[0][1].as<std::string>(),
                                              std::move(rule), &recorded));
  const ClockTableChange change = ChangeClockTable(recorded, table);
  CRBRIDGE_RETURN_IF_ERROR(change.Refused());
  if (change.rule_to_record) {
    tx.exec_params0("UPDATE " + MetadataTable("tables") + " SET room_rule = $2" +
                        (change.moves_rooms ? ", snapshot_lsn = NULL" : "") + " WHERE name = $1",
                    name, *change.rule_to_record);
  }
  // Stores opened before learn of new rooms (MappingsChanged).
  if (change.moves_rooms) tx.exec0("UPDATE " + MetadataTable("clock") + " SET mappings = mappings + 1");
  tx.exec0(ClockTableDdl(ClockTable(name), name + "__clock", table));
  if (table.derives_rooms()) tx.exec0(RoomsTableDdl(RoomsTable(name), name + "__rooms", table));
  if (!change.moves_clocks) return Status::OK();
  // Each clock array is rebuilt in the mapping's column order; a new
  // column starts without clocks, and the table is read again for its
  // values (rows whose other values did not change keep their clocks).
  const auto moved = [&](const std::string& array, const char* type) {
    std::vector<std::string> items;
    for (const std::optional<size_t>& from : change.from) {
      items.push_back(from ? array + "[" + std::to_string(*from + 1) + "]" : std::string("NULL"));
    }
    return (items.empty() ? std::string("'{}'") : "ARRAY[" + Join(items, ", ") + "]") + "::" + type;
  };
  tx.exec0("UPDATE " + ClockTable(name) + " SET __col_versions = " + moved("__col_versions", "bigint[]") +
           ", __col_sites = " + moved("__col_sites", "int[]") + ", __col_hashes = " + moved("__col_hashes", "bigint[]"));
  tx.exec0("UPDATE " + MetadataTable("clock") + " SET mappings = mappings + 1");
  tx.exec_params0("UPDATE " + MetadataTable("tables") + " SET value_columns = $2::text[]" +
                      (change.adds_columns() ? ", snapshot_lsn = NULL" : "") + " WHERE name = $1",
                  name, ArrayLiteral(change.columns.values));
  return Status::OK();
}

Status PostgresShadowStore::TakeOrigin() {
  const Status s = CatchErrors("taking the replication origin " + origin_, conn_, [&] {
    // Every later transaction of this connection carries the origin.
    pqxx::nontransaction(*conn_).exec_params("SELECT pg_replication_origin_session_setup($1)", origin_);
    return Status::OK();
  });
  // The usual refusal is the origin being another session's (55006
  // object_in_use): a second crbridge on the same schema, which retrying
  // cannot cure and the person starting it must hear about as a setup
  // error. The other is the server's limit on origins in use
  // (max_replication_slots, max_active_replication_origins on 18+), whose
  // message has the server's hint.
  if (s.code() != Status::Code::kInternal) return s;
  if (s.message().find("already active") == std::string::npos) return Status::InvalidArgument(s.message());
  return Status::InvalidArgument(s.message() + " (is another crbridge writing to this database?)");
}

Status PostgresShadowStore::Reconnect() {
  const Status s = CatchErrors("connecting", [&] {
    conn_ = std::make_unique<pqxx::connection>(url_);
    pqxx::nontransaction(*conn_).exec0(kSessionSettings);
    return Status::OK();
  });
  if (!s.ok()) {
    conn_.reset();
    return s;
  }
  return marking_ == Marking::kCrbridge ? TakeOrigin() : Status::OK();
}

Status PostgresShadowStore::ReadCounter(const std::string& query, int64_t* value) {
  if (!conn_ || !conn_->is_open()) CRBRIDGE_RETURN_IF_ERROR(Reconnect());
  return CatchErrors("reading a counter", conn_, [&] {
    pqxx::nontransaction tx(*conn_);
    *value = tx.exec1(query)[0].as<int64_t>();
    return Status::OK();
  });
}

Status PostgresShadowStore::DbVersion(int64_t* version) {
  return ReadCounter("SELECT db_version FROM " + MetadataTable("clock"), version);
}

Status PostgresShadowStore::CapturePosition(SourcePosition* position) {
  *position = SourcePosition{};
  return ReadCounter("SELECT lsn FROM " + MetadataTable("capture"), &position->offset);
}

Status PostgresShadowStore::SnapshotPosition(const ResolvedTable& t, std::optional<int64_t>* offset) {
  if (!conn_ || !conn_->is_open()) CRBRIDGE_RETURN_IF_ERROR(Reconnect());
  return CatchErrors("reading the snapshot state of " + t.mapping->name, conn_, [&] {
    pqxx::nontransaction tx(*conn_);
    const pqxx::field lsn =
        tx.exec_params1("SELECT snapshot_lsn FROM " + MetadataTable("tables") + " WHERE name = $1", t.mapping->name)[0];
    *offset = lsn.is_null() ? std::nullopt : std::optional<int64_t>(lsn.as<int64_t>());
    return Status::OK();
  });
}

Status PostgresShadowStore::ForgetSnapshot(const ResolvedTable& t) {
  if (!conn_ || !conn_->is_open()) CRBRIDGE_RETURN_IF_ERROR(Reconnect());
  return CatchErrors("forgetting the snapshot of " + t.mapping->name, conn_, [&] {
    pqxx::nontransaction tx(*conn_);
    tx.exec_params0("UPDATE " + MetadataTable("tables") + " SET snapshot_lsn = NULL WHERE name = $1", t.mapping->name);
    return Status::OK();
  });
}

Status PostgresShadowStore::ReadRejectedRows(pqxx::transaction_base& tx, const std::string& metadata_schema,
                                             std::vector<RejectedRow>* rows) {
  const std::string table = QuoteIdentifier(metadata_schema) + ".rejected_rows";
  // None before crbridge made its schema (or this version of it).
  if (tx.exec_params1("SELECT to_regclass($1) IS NULL", table)[0].as<bool>()) return Status::OK();
  for (const auto& row : tx.exec("SELECT table_name, pk, reason, source_position FROM " + table +
                                 " ORDER BY table_name, rejected_at, key_hash")) {
    const pqxx::binarystring key(row[1]);
    rows->push_back(RejectedRow{row[0].as<std::string>(), Blob(key.begin(), key.end()), row[2].as<std::string>(),
                                row[3].as<int64_t>()});
  }
  return Status::OK();
}

Status PostgresShadowStore::RejectedRows(std::vector<RejectedRow>* rows) {
  if (!conn_ || !conn_->is_open()) CRBRIDGE_RETURN_IF_ERROR(Reconnect());
  return CatchErrors("reading the rejected rows", conn_, [&] {
    pqxx::nontransaction tx(*conn_);
    return ReadRejectedRows(tx, schema_, rows);
  });
}

Status PostgresShadowStore::Write(const std::vector<const ResolvedTable*>& app_tables, const WriteFunction& write) {
  if (!conn_ || !conn_->is_open()) CRBRIDGE_RETURN_IF_ERROR(Reconnect());
  const Status s = CatchErrors("writing", conn_, [&] {
    pqxx::work tx(*conn_);
    std::vector<std::string> locked;
    for (const ResolvedTable* t : app_tables) locked.push_back(Qualified(*t->mapping));
    // One round trip for what every write starts with (most writes are a
    // handful of statements). The lock is the mode a merge's writes take
    // anyway: it waits here for whatever would stop them later (a
    // REINDEX's SHARE lock, too). Every statement of a write (merge or
    // capture) looks rows up by key: seeing a 1,000-row unnest, the planner
    // would rather hash-join against a full scan of the table, which makes
    // a write's cost grow with the table's size. The row lock on the
    // counter is held until commit: the next writer waits there, so
    // versions are handed out in commit order.
    const pqxx::row counter =
        tx.exec1((locked.empty() ? std::string() : "LOCK TABLE " + Join(locked, ", ") + " IN ROW EXCLUSIVE MODE; ") +
                 "SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
                 "UPDATE " + MetadataTable("clock") +
                 " SET db_version = db_version + 1 RETURNING db_version, mappings");
    const int64_t version = counter[0].as<int64_t>();
    if (counter[1].as<int64_t>() != mappings_) {
      return MappingsChanged("another crbridge store changed the clock columns of a mapped table since this one opened");
    }
    PostgresShadowTransaction statements(tx, *this);
    CRBRIDGE_RETURN_IF_ERROR(write(statements, version));
    tx.commit();
    return Status::OK();
  });
  if (s.code() == Status::Code::kUnavailable) conn_.reset();
  return s;
}

Status PostgresShadowStore::GetPeer(const SiteId& site, PeerRecord* peer) {
  if (!conn_ || !conn_->is_open()) CRBRIDGE_RETURN_IF_ERROR(Reconnect());
  return CatchErrors("reading a peer", conn_, [&] {
    pqxx::nontransaction tx(*conn_);
    const pqxx::result row = tx.exec_params(
        "SELECT version, seq, owner, schema_version FROM " + MetadataTable("peers") + " WHERE site_id = $1::bytea",
        Bytea(site));
    *peer = PeerRecord{};
    if (row.empty()) return Status::OK();
    peer->applied = PeerVersion{row[0][0].as<int64_t>(), row[0][1].as<int64_t>()};
    if (!row[0][2].is_null()) peer->owner = pqxx::binarystring(row[0][2]).str();
    if (!row[0][3].is_null()) peer->schema_version = row[0][3].as<int64_t>();
    return Status::OK();
  });
}

Status PostgresShadowStore::SetPeerSchema(const SiteId& site, int64_t version) {
  if (!conn_ || !conn_->is_open()) CRBRIDGE_RETURN_IF_ERROR(Reconnect());
  return CatchErrors("recording a peer's schema", conn_, [&] {
    pqxx::nontransaction tx(*conn_);
    tx.exec_params0("INSERT INTO " + MetadataTable("peers") + " (site_id, version, seq, schema_version) "
                    "VALUES ($1::bytea, 0, 0, $2) ON CONFLICT (site_id) DO UPDATE SET schema_version = $2",
                    Bytea(site), version);
    return Status::OK();
  });
}

Status PostgresShadowStore::ServedSchemas(std::vector<ServedSchema>* schemas) {
  if (!conn_ || !conn_->is_open()) CRBRIDGE_RETURN_IF_ERROR(Reconnect());
  return CatchErrors("reading the served schemas", conn_, [&] {
    pqxx::nontransaction tx(*conn_);
    schemas->clear();
    for (const auto& row : tx.exec("SELECT version, schema_sql, columns FROM " + MetadataTable("served_schemas") +
                                   " ORDER BY ordinal")) {
      ServedSchema& schema = schemas->emplace_back();
      schema.version = row[0].as<int64_t>();
      schema.sql = row[1].as<std::string>();
      CRBRIDGE_RETURN_IF_ERROR(DecodeSchemaColumns(row[2].as<std::string>(), &schema.columns));
    }
    return Status::OK();
  });
}

Status PostgresShadowStore::Read(const std::function<Status(ShadowSnapshot& snapshot)>& read) {
  const Status s = CatchErrors("reading", reader_, [&] {
    if (!reader_ || !reader_->is_open()) {
      reader_ = std::make_unique<pqxx::connection>(url_);
      pqxx::nontransaction(*reader_).exec0(kSessionSettings);
    }
    // Repeatable read: every statement of a pull sees the same versions.
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(*reader_);
    if (tx.exec1("SELECT mappings FROM " + MetadataTable("clock"))[0].as<int64_t>() != mappings_) {
      return MappingsChanged("another crbridge store changed the clock columns of a mapped table since this one opened");
    }
    PostgresShadowSnapshot snapshot(tx, *this);
    return read(snapshot);
  });
  if (s.code() == Status::Code::kUnavailable) reader_.reset();
  return s;
}

}  // namespace crbridge::postgres
