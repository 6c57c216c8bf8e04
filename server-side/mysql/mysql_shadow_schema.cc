// The shadow schema of docs/server-side.md in a MySQL/MariaDB metadata
// database. DDL commits implicitly there, so creation is not one
// transaction: every step is idempotent (IF NOT EXISTS, INSERT IGNORE) and
// the whole runs under a named lock, and a crash halfway is finished by the
// next start.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <nlohmann/json.hpp>

#include <functional>

#include "crbridge/server/core/clock_columns.h"
#include "mysql_change_log.h"
#include "mysql_shadow_transaction.h"

namespace crbridge::mysql {
namespace {

// Seconds to wait for another crbridge that is creating the same schema.
constexpr int kSchemaLockSeconds = 60;

constexpr const char* kTableOptions = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";


// The key columns' definitions in the clock table: the app's types with the
// app's character sets and collations, so that the clock table names a row
// exactly as the app table does (a case-insensitive key stays one row) and
// pulls join the two on the key without conversions.
std::string KeyColumnDefinitions(MysqlSession& session, const ResolvedTable& t) {
  sql::PreparedStatement& select = session.Prepare(
      "SELECT COLUMN_NAME, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS "
      "WHERE TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND TABLE_NAME = ?");
  MysqlBinder(select).Text(t.mapping->source_schema).Text(t.mapping->source_table);
  std::map<std::string, std::string> charsets;
  std::unique_ptr<sql::ResultSet> rows(select.executeQuery());
  while (rows->next()) {
    if (rows->isNull(2)) continue;
    charsets[rows->getString(1)] = " CHARACTER SET " + std::string(rows->getString(2)) + " COLLATE " +
                                   std::string(rows->getString(3));
  }
  std::string out;
  for (size_t i = 0; i < t.pk_count; ++i) {
    const ServerColumn& c = t.columns[i].server;
    out += QuoteName(c.name) + " " + c.type + charsets[c.name] + " NOT NULL, ";
  }
  return out;
}

// The clock table of `t` (docs/server-side.md): the per-column integers as
// ClockArrayText, the room as exact text (rooms are compared byte for
// byte, as on Postgres). One index serves pulls, by room and version when
// the table has a room column, by version otherwise; a second would cost
// every clock write one more index write, as the version changes on each.
std::string ClockTableDdl(MysqlSession& session, const MysqlShadowNames& names, const ResolvedTable& t) {
  return "CREATE TABLE IF NOT EXISTS " + names.ClockTable(t) + " (" + KeyColumnDefinitions(session, t) +
         "__cl BIGINT NOT NULL, __col_versions TEXT NOT NULL, __col_sites TEXT NOT NULL, __col_hashes TEXT NOT NULL, "
         "__lsn BIGINT NOT NULL, __db_version BIGINT NOT NULL, __seq INT NOT NULL, __room VARCHAR(255), "
         "PRIMARY KEY (" + KeyColumns(t, "") + "), KEY __version (" +
         (t.room_column ? "__room, __db_version" : "__db_version") + ")" +
         // room_via: the rows that reference a row, found by its key.
         (t.via_column ? ", KEY __via (__room)" : "") + ")" + kTableOptions;
}

// The rooms table of a table that derives its rooms (RowRoom): a row per
// row and room, keyed like the clock table. Pulls of a room join it with
// the clocks by room and key, and read the rows that entered the room by
// room and version; pulls of every room read the rooms of rows by key, and
// the entries by version.
std::string RoomsTableDdl(MysqlSession& session, const MysqlShadowNames& names, const ResolvedTable& t) {
  const std::string key = KeyColumns(t, "");
  return "CREATE TABLE IF NOT EXISTS " + names.RoomsTable(t) + " (" + KeyColumnDefinitions(session, t) +
         "__room VARCHAR(255) NOT NULL, __cl_offset BIGINT NOT NULL, __db_version BIGINT NOT NULL, __seq INT NOT NULL, "
         "PRIMARY KEY (__room, " + key + "), KEY __key (" + key + "), KEY __entered (__room, __db_version, __seq), "
         "KEY __entered_at (__db_version, __seq))" +
         kTableOptions;
}

// Each element of the clock array text `array` (ClockArrayText) that
// `change` keeps, in its new place; a new column's is empty (no clock).
std::string MovedClockArray(const std::string& array, const ClockTableChange& change) {
  std::vector<std::string> items;
  for (const std::optional<size_t>& from : change.from) {
    if (!from) {
      items.push_back("''");
      continue;
    }
    const std::string k = std::to_string(*from + 1);
    // Arrays written before the column existed are shorter: past their
    // end, no clock.
    items.push_back("IF(LENGTH(" + array + ") - LENGTH(REPLACE(" + array + ", ',', '')) >= " + k +
                    " - 1, SUBSTRING_INDEX(SUBSTRING_INDEX(" + array + ", ',', " + k + "), ',', -1), '')");
  }
  if (items.empty()) return "''";
  std::string out = "CONCAT_WS(','";
  for (const std::string& item : items) out += ", " + item;
  return out + ")";
}

// The room rule of a `tables` row read with it at `column`.
std::optional<std::string> RecordedRule(sql::ResultSet& row, uint32_t column) {
  if (row.isNull(column)) return std::nullopt;
  return std::string(row.getString(column));
}

// Runs `statements` in one transaction of `session`, rolled back when one
// throws (the exception goes on).
void InOneTransaction(MysqlSession& session, const std::function<void()>& statements) {
  session.Execute("START TRANSACTION");
  try {
    statements();
    session.Execute("COMMIT");
  } catch (const sql::SQLException&) {
    session.Execute("ROLLBACK");
    throw;
  }
}

// `t`'s `tables` row into `recorded`; `*found` false when crbridge never
// recorded it.
Status ReadRecordedTable(MysqlSession& session, const MysqlShadowNames& names, const ResolvedTable& t,
                         RecordedTable* recorded, bool* found) {
  const std::string& name = t.mapping->name;
  sql::PreparedStatement& select =
      session.Prepare("SELECT pk_columns, value_columns, room_rule FROM " + names.Table("tables") + " WHERE name = ?");
  MysqlBinder(select).Text(name);
  std::unique_ptr<sql::ResultSet> known(select.executeQuery());
  *found = known->next();
  if (!*found) return Status::OK();
  return ParseRecordedTable(name, known->getString(1), known->getString(2), RecordedRule(*known, 3), recorded);
}

// The first refusal any of `tables` meets: the statements of
// MigrateClockTable commit one by one, so every refusal has its say before
// anything is migrated.
Status RefusedClockTables(MysqlSession& session, const MysqlShadowNames& names,
                          const std::vector<ResolvedTable>& tables) {
  for (const ResolvedTable& t : tables) {
    RecordedTable recorded;
    bool found = false;
    CRBRIDGE_RETURN_IF_ERROR(ReadRecordedTable(session, names, t, &recorded, &found));
    if (found) CRBRIDGE_RETURN_IF_ERROR(ChangeClockTable(recorded, t).Refused());
  }
  return Status::OK();
}

// Makes `t`'s clock table and records the columns it was made for, or
// carries its clocks over to a changed mapping (ClockColumns).
Status MigrateClockTable(MysqlSession& session, const MysqlShadowNames& names, const ResolvedTable& t) {
  const std::string& name = t.mapping->name;
  RecordedTable recorded;
  bool found = false;
  CRBRIDGE_RETURN_IF_ERROR(ReadRecordedTable(session, names, t, &recorded, &found));
  if (!found) {
    const ClockColumns now = ClockColumnsOf(t);
    session.Execute(ClockTableDdl(session, names, t));
    sql::PreparedStatement& insert =
        session.Prepare("INSERT INTO " + names.Table("tables") +
                        " (name, source, pk_columns, value_columns, room_rule) VALUES (?, ?, ?, ?, ?)");
    MysqlBinder(insert).Text(name).Text(t.mapping->QualifiedSource()).Text(ColumnNamesJson(now.key))
        .Text(ColumnNamesJson(now.values)).Text(RoomRuleOf(t));
    insert.executeUpdate();
    return Status::OK();
  }
  const ClockTableChange change = ChangeClockTable(recorded, t);
  CRBRIDGE_RETURN_IF_ERROR(change.Refused());
  if (change.rule_to_record) {
    // The rule and the read again commit together; stores opened before
    // learn of it (MappingsChanged).
    InOneTransaction(session, [&] {
      sql::PreparedStatement& record =
          session.Prepare("UPDATE " + names.Table("tables") + " SET room_rule = ?" +
                          (change.moves_rooms ? ", snapshot_lsn = NULL" : "") + " WHERE name = ?");
      MysqlBinder(record).Text(*change.rule_to_record).Text(name);
      record.executeUpdate();
      if (change.moves_rooms) session.Execute("UPDATE " + names.Table("clock") + " SET mappings = mappings + 1");
    });
  }
  if (!change.moves_clocks) return Status::OK();
  // Each clock array is rebuilt in the mapping's column order; a new
  // column starts without clocks, and the table is read again for its
  // values (rows whose other values did not change keep their clocks).
  // The rewrite and the record commit together.
  InOneTransaction(session, [&] {
    session.Execute("UPDATE " + names.ClockTable(t) + " SET __col_versions = " +
                    MovedClockArray("__col_versions", change) + ", __col_sites = " +
                    MovedClockArray("__col_sites", change) + ", __col_hashes = " + MovedClockArray("__col_hashes", change));
    session.Execute("UPDATE " + names.Table("clock") + " SET mappings = mappings + 1");
    sql::PreparedStatement& update = session.Prepare(
        "UPDATE " + names.Table("tables") + " SET value_columns = ?" +
        (change.adds_columns() ? ", snapshot_lsn = NULL" : "") + " WHERE name = ?");
    MysqlBinder(update).Text(ColumnNamesJson(change.columns.values)).Text(name);
    update.executeUpdate();
  });
  return Status::OK();
}

Status Migrate(MysqlSession& session, const MysqlShadowNames& names, const std::vector<ResolvedTable>& tables,
               SiteId* site_id) {
  session.Execute("CREATE DATABASE IF NOT EXISTS " + QuoteName(names.database()) +
                  " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
  session.Execute("CREATE TABLE IF NOT EXISTS " + names.Table("migrations") +
                  " (version INT PRIMARY KEY, applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))" +
                  kTableOptions);
  std::unique_ptr<sql::ResultSet> applied(
      session.Query("SELECT COALESCE(MAX(version), 0) FROM " + names.Table("migrations")));
  applied->next();
  if (applied->getInt(1) > kShadowSchemaVersion) {
    return Status::InvalidArgument("the shadow schema " + names.database() + " is at version " +
                                   std::to_string(applied->getInt(1)) + ", newer than this crbridge (" +
                                   std::to_string(kShadowSchemaVersion) + ")");
  }
  const std::string ddl[] = {
      "CREATE TABLE IF NOT EXISTS " + names.Table("site") + " (id INT PRIMARY KEY, site_id BINARY(16) NOT NULL)",
      // mappings: how many times a store changed the clock columns of a
      // mapped table (MappingsChanged): a store opened before refuses to
      // write.
      "CREATE TABLE IF NOT EXISTS " + names.Table("clock") +
          " (id INT PRIMARY KEY, db_version BIGINT NOT NULL, mappings BIGINT NOT NULL DEFAULT 0)",
      "CREATE TABLE IF NOT EXISTS " + names.Table("sites") +
          " (ordinal INT AUTO_INCREMENT PRIMARY KEY, site_id BINARY(16) NOT NULL UNIQUE)",
      // owner: whom the site is bound to (docs/sync-server.md, "Site ids").
      "CREATE TABLE IF NOT EXISTS " + names.Table("peers") +
          " (site_id BINARY(16) PRIMARY KEY, version BIGINT NOT NULL, seq BIGINT NOT NULL, owner BLOB, "
          "schema_version BIGINT)",
      // The client schemas served (ServedSchema), in the order first
      // served.
      "CREATE TABLE IF NOT EXISTS " + names.Table("served_schemas") +
          " (ordinal BIGINT AUTO_INCREMENT PRIMARY KEY, version BIGINT NOT NULL UNIQUE, schema_sql LONGTEXT NOT NULL, "
          "columns LONGTEXT NOT NULL, first_served TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))",
      // Per mapped table: the columns its clock table was made for (JSON
      // arrays), where its initial snapshot was taken (NULL until done),
      // and the room rule its clocks were recorded under (RoomRuleOf; NULL
      // for a table recorded before, which takes the rule it has now).
      "CREATE TABLE IF NOT EXISTS " + names.Table("tables") +
          " (name VARCHAR(255) PRIMARY KEY, source TEXT NOT NULL, pk_columns TEXT NOT NULL, "
          "value_columns TEXT NOT NULL, snapshot_lsn BIGINT, room_rule TEXT)",
      // Capture's position: the binlog offset (binlog_position.h) of the end
      // of the last source transaction recorded, and the GTID state that
      // resumes the stream there.
      "CREATE TABLE IF NOT EXISTS " + names.Table("capture") +
          " (id INT PRIMARY KEY, `offset` BIGINT NOT NULL, resume TEXT NOT NULL)",
      ChangeLogDdl(names.Table("change_events")),
      // App rows capture could not map (rejected_row.h), by table and key
      // hash: a packed key may be longer than an index can hold.
      "CREATE TABLE IF NOT EXISTS " + names.Table("rejected_rows") +
          " (table_name VARCHAR(255) NOT NULL, key_hash BIGINT NOT NULL, pk LONGBLOB NOT NULL, reason TEXT NOT NULL, "
          "source_position BIGINT NOT NULL, rejected_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), "
          "PRIMARY KEY (table_name, key_hash))",
      // Rows that left a room they were in (RoomExit), by table, key hash
      // and room; pulls read a room's in version order.
      "CREATE TABLE IF NOT EXISTS " + names.Table("room_exits") +
          " (table_name VARCHAR(255) NOT NULL, key_hash BIGINT NOT NULL, room VARCHAR(255) NOT NULL, "
          "pk LONGBLOB NOT NULL, cl BIGINT NOT NULL, db_version BIGINT NOT NULL, seq INT NOT NULL, "
          "PRIMARY KEY (table_name, key_hash, room), INDEX (table_name, room, db_version, seq))",
      // The rows of membership tables as crbridge last recorded them
      // (Membership), by rule and member row key hash; rooms are found by
      // key.
      "CREATE TABLE IF NOT EXISTS " + names.Table("memberships") +
          " (source VARCHAR(255) NOT NULL, member_hash BIGINT NOT NULL, member_pk LONGBLOB NOT NULL, "
          "key_text VARCHAR(255) NOT NULL, room VARCHAR(255) NOT NULL, PRIMARY KEY (source, member_hash), "
          "INDEX (source, key_text))",
  };
  for (const std::string& statement : ddl) session.Execute(statement + kTableOptions);
  // Version 2 bound client sites to owners (sites of version 1 are bound
  // at their next write) and added rejected_rows; version 3 added
  // room_exits, version 4 memberships, version 5 served_schemas (all made
  // above) and the schema each site announced, version 6 each table's
  // room rule.
  const int applied_version = applied->getInt(1);
  if (applied_version == 1) session.Execute("ALTER TABLE " + names.Table("peers") + " ADD COLUMN owner BLOB");
  const std::pair<int, std::string> added_columns[] = {
      {5, "ALTER TABLE " + names.Table("peers") + " ADD COLUMN schema_version BIGINT"},
      {5, "ALTER TABLE " + names.Table("clock") + " ADD COLUMN mappings BIGINT NOT NULL DEFAULT 0"},
      {6, "ALTER TABLE " + names.Table("tables") + " ADD COLUMN room_rule TEXT"}};
  for (const auto& [since, alter] : added_columns) {
    if (applied_version < 1 || applied_version >= since) continue;
    try {
      session.Execute(alter);
    } catch (const sql::SQLException& e) {
      if (e.getErrorCode() != 1060) throw;  // ER_DUP_FIELDNAME: added by a start that stopped halfway
    }
  }
  session.Execute("INSERT IGNORE INTO " + names.Table("clock") + " (id, db_version) VALUES (1, 0)");
  session.Execute("INSERT IGNORE INTO " + names.Table("capture") + " VALUES (1, 0, '')");
  const SiteId fresh = RandomSiteId();
  sql::PreparedStatement& site = session.Prepare("INSERT IGNORE INTO " + names.Table("site") + " VALUES (1, ?)");
  MysqlBinder(site).Text(std::string(fresh.begin(), fresh.end()));
  site.executeUpdate();
  session.Execute("INSERT IGNORE INTO " + names.Table("migrations") + " (version) VALUES (" +
                  std::to_string(kShadowSchemaVersion) + ")");
  CRBRIDGE_RETURN_IF_ERROR(RefusedClockTables(session, names, tables));
  for (const ResolvedTable& t : tables) {
    CRBRIDGE_RETURN_IF_ERROR(MigrateClockTable(session, names, t));
    if (t.derives_rooms()) session.Execute(RoomsTableDdl(session, names, t));
  }
  const ServedSchema served = ServedSchemaOf(tables);
  sql::PreparedStatement& record = session.Prepare("INSERT IGNORE INTO " + names.Table("served_schemas") +
                                                   " (version, schema_sql, columns) VALUES (?, ?, ?)");
  MysqlBinder(record).Int(served.version).Text(served.sql).Text(EncodeSchemaColumns(served.columns));
  record.executeUpdate();
  std::unique_ptr<sql::ResultSet> stored(session.Query("SELECT site_id FROM " + names.Table("site")));
  if (!stored->next()) return Status::Internal("mysql: " + names.Table("site") + " is empty");
  const std::string bytes = stored->getString(1);
  if (bytes.size() != site_id->size()) return Status::Corruption("mysql: the stored site id is not 16 bytes");
  std::copy(bytes.begin(), bytes.end(), site_id->begin());
  return Status::OK();
}

}  // namespace

Status ReadRecordedTables(const std::function<std::unique_ptr<sql::ResultSet>(const std::string& sql)>& query,
                          const std::string& database, std::vector<RecordedTable>* tables) {
  const MysqlShadowNames names(database);
  bool has_rule = false;
  try {
    // A schema older than room_rule has none.
    std::unique_ptr<sql::ResultSet> columns(query("SHOW COLUMNS FROM " + names.Table("tables")));
    while (columns->next()) has_rule = has_rule || columns->getString(1) == "room_rule";
  } catch (const sql::SQLException& e) {
    // ER_BAD_DB_ERROR, ER_NO_SUCH_TABLE: crbridge has not made them yet.
    if (e.getErrorCode() == 1049 || e.getErrorCode() == 1146) return Status::OK();
    throw;
  }
  std::unique_ptr<sql::ResultSet> stored(query("SELECT name, pk_columns, value_columns, " +
                                               std::string(has_rule ? "room_rule" : "NULL") + " FROM " +
                                               names.Table("tables") + " ORDER BY name"));
  while (stored->next()) {
    CRBRIDGE_RETURN_IF_ERROR(ParseRecordedTable(stored->getString(1), stored->getString(2), stored->getString(3),
                                                RecordedRule(*stored, 4), &tables->emplace_back()));
  }
  return Status::OK();
}

Status ReadRejectedRows(const std::function<std::unique_ptr<sql::ResultSet>(const std::string& sql)>& query,
                        const std::string& database, std::vector<RejectedRow>* rows) {
  const MysqlShadowNames names(database);
  try {
    if (!query("SHOW TABLES FROM " + QuoteName(database) + " LIKE 'rejected_rows'")->next()) return Status::OK();
  } catch (const sql::SQLException& e) {
    if (e.getErrorCode() == 1049) return Status::OK();  // ER_BAD_DB_ERROR: crbridge has not made its database yet
    throw;
  }
  std::unique_ptr<sql::ResultSet> stored(query("SELECT table_name, pk, reason, source_position FROM " +
                                               names.Table("rejected_rows") +
                                               " ORDER BY table_name, rejected_at, key_hash"));
  while (stored->next()) {
    const std::string key = stored->getString(2);
    rows->push_back(RejectedRow{stored->getString(1), Blob(key.begin(), key.end()), stored->getString(3),
                                stored->getInt64(4)});
  }
  return Status::OK();
}

std::string MysqlShadowNames::Table(const std::string& name) const { return QuoteName(database_) + "." + QuoteName(name); }

std::string MysqlShadowNames::ClockTable(const ResolvedTable& t) const { return Table(t.mapping->name + "__clock"); }

Status MigrateShadowSchema(MysqlSession& session, const MysqlShadowNames& names,
                                const std::vector<ResolvedTable>& tables, SiteId* site_id) {
  // Lock names are server-wide and at most 64 characters.
  const std::string lock = ("crbridge:" + names.database()).substr(0, 64);
  sql::PreparedStatement& get = session.Prepare("SELECT GET_LOCK(?, ?)");
  MysqlBinder(get).Text(lock).Int(kSchemaLockSeconds);
  std::unique_ptr<sql::ResultSet> got(get.executeQuery());
  if (!got->next() || got->isNull(1) || got->getInt(1) != 1) {
    return Status::Unavailable("mysql: another crbridge held the lock " + lock + " for " +
                               std::to_string(kSchemaLockSeconds) + " s while creating the shadow schema");
  }
  const auto release = [&] {
    sql::PreparedStatement& statement = session.Prepare("DO RELEASE_LOCK(?)");
    MysqlBinder(statement).Text(lock);
    statement.execute();
  };
  Status migrated;
  try {
    migrated = Migrate(session, names, tables, site_id);
  } catch (const sql::SQLException&) {
    release();
    throw;
  }
  release();
  return migrated;
}

}  // namespace crbridge::mysql
