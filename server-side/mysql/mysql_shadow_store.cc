#include "crbridge/server/mysql/mysql_shadow_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "crbridge/server/core/clock_columns.h"
#include "mysql_shadow_transaction.h"

namespace crbridge::mysql {
namespace {

class MysqlShadowStore final : public ShadowStore {
 public:
  MysqlShadowStore(std::string url, std::string metadata_database)
      : url_(std::move(url)), names_(std::move(metadata_database)) {}

  Status Migrate(const std::vector<ResolvedTable>& tables) {
    return OnSession(writer_, MysqlSession::Isolation::kReadCommitted,
                     [&](MysqlSession& session) -> Status {
                       CRBRIDGE_RETURN_IF_ERROR(MigrateShadowSchema(session, names_, tables, &site_id_));
                       std::unique_ptr<sql::ResultSet> row(session.Query("SELECT mappings FROM " + names_.Table("clock")));
                       if (!row->next()) return Status::Internal("mysql: " + names_.Table("clock") + " is empty");
                       mappings_ = row->getInt64(1);
                       return Status::OK();
                     });
  }

  const SiteId& site_id() const override { return site_id_; }

  Status DbVersion(int64_t* version) override {
    return ReadInt("SELECT db_version FROM " + names_.Table("clock"), "", version);
  }

  Status GetPeer(const SiteId& site, PeerRecord* peer) override {
    return OnWriter([&](MysqlSession& session) -> Status {
      sql::PreparedStatement& select =
          session.Prepare("SELECT version, seq, owner, schema_version FROM " + names_.Table("peers") +
                          " WHERE site_id = ?");
      MysqlBinder(select).Text(std::string(site.begin(), site.end()));
      std::unique_ptr<sql::ResultSet> row(select.executeQuery());
      *peer = PeerRecord{};
      if (!row->next()) return Status::OK();
      peer->applied = PeerVersion{row->getInt64(1), row->getInt64(2)};
      if (!row->isNull(3)) peer->owner = std::string(row->getString(3));
      if (!row->isNull(4)) peer->schema_version = row->getInt64(4);
      return Status::OK();
    });
  }

  Status SetPeerSchema(const SiteId& site, int64_t version) override {
    return OnWriter([&](MysqlSession& session) -> Status {
      sql::PreparedStatement& upsert =
          session.Prepare("INSERT INTO " + names_.Table("peers") + " (site_id, version, seq, schema_version) "
                          "VALUES (?, 0, 0, ?) ON DUPLICATE KEY UPDATE schema_version = VALUES(schema_version)");
      MysqlBinder(upsert).Text(std::string(site.begin(), site.end())).Int(version);
      upsert.executeUpdate();
      return Status::OK();
    });
  }

  Status ServedSchemas(std::vector<ServedSchema>* schemas) override {
    return OnWriter([&](MysqlSession& session) -> Status {
      std::unique_ptr<sql::ResultSet> rows(session.Query("SELECT version, schema_sql, columns FROM " +
                                                         names_.Table("served_schemas") + " ORDER BY ordinal"));
      schemas->clear();
      while (rows->next()) {
        ServedSchema& schema = schemas->emplace_back();
        schema.version = rows->getInt64(1);
        schema.sql = rows->getString(2);
        CRBRIDGE_RETURN_IF_ERROR(DecodeSchemaColumns(rows->getString(3), &schema.columns));
      }
      return Status::OK();
    });
  }

  Status CapturePosition(SourcePosition* position) override {
    return OnWriter([&](MysqlSession& session) -> Status {
      std::unique_ptr<sql::ResultSet> row(session.Query("SELECT `offset`, resume FROM " + names_.Table("capture")));
      if (!row->next()) return Status::Internal("mysql: " + names_.Table("capture") + " is empty");
      *position = SourcePosition{row->getInt64(1), row->getString(2)};
      return Status::OK();
    });
  }

  Status SnapshotPosition(const ResolvedTable& t, std::optional<int64_t>* offset) override {
    return OnWriter([&](MysqlSession& session) -> Status {
      sql::PreparedStatement& select =
          session.Prepare("SELECT snapshot_lsn FROM " + names_.Table("tables") + " WHERE name = ?");
      MysqlBinder(select).Text(t.mapping->name);
      std::unique_ptr<sql::ResultSet> row(select.executeQuery());
      *offset = row->next() && !row->isNull(1) ? std::optional<int64_t>(row->getInt64(1)) : std::nullopt;
      return Status::OK();
    });
  }

  Status ForgetSnapshot(const ResolvedTable& t) override {
    return OnWriter([&](MysqlSession& session) -> Status {
      sql::PreparedStatement& update =
          session.Prepare("UPDATE " + names_.Table("tables") + " SET snapshot_lsn = NULL WHERE name = ?");
      MysqlBinder(update).Text(t.mapping->name);
      update.executeUpdate();
      return Status::OK();
    });
  }

  Status RejectedRows(std::vector<RejectedRow>* rows) override {
    return OnWriter([&](MysqlSession& session) {
      return ReadRejectedRows([&](const std::string& sql) { return session.Query(sql); }, names_.database(), rows);
    });
  }

  using ShadowStore::Write;
  Status Write(const std::vector<const ResolvedTable*>& app_tables, const WriteFunction& write) override {
    return OnWriter([&](MysqlSession& session) {
      return InTransaction(session, "START TRANSACTION", [&]() -> Status {
        // A locking read takes its table's metadata lock, held until
        // commit, whether it finds rows or not.
        for (const ResolvedTable* t : app_tables) session.Query("SELECT 1 FROM " + AppTable(*t) + " WHERE 1 = 0 FOR UPDATE");
        // The row lock on the counter is held until commit: the next writer
        // waits here, so versions are handed out in commit order.
        session.Prepare("UPDATE " + names_.Table("clock") + " SET db_version = db_version + 1 WHERE id = 1")
            .executeUpdate();
        std::unique_ptr<sql::ResultSet> row(
            session.Prepare("SELECT db_version, mappings FROM " + names_.Table("clock") + " WHERE id = 1").executeQuery());
        if (!row->next()) return Status::Internal("mysql: " + names_.Table("clock") + " is empty");
        const int64_t version = row->getInt64(1);
        if (row->getInt64(2) != mappings_) {
          return MappingsChanged("another crbridge store changed the clock columns of a mapped table since this one opened");
        }
        MysqlShadowTransaction tx(session, names_);
        return write(tx, version);
      });
    });
  }

  Status Read(const std::function<Status(ShadowSnapshot& snapshot)>& read) override {
    return OnSession(reader_, MysqlSession::Isolation::kRepeatableRead, [&](MysqlSession& session) {
      return InTransaction(session, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", [&]() -> Status {
        std::unique_ptr<sql::ResultSet> row(session.Query("SELECT mappings FROM " + names_.Table("clock")));
        if (!row->next()) return Status::Internal("mysql: " + names_.Table("clock") + " is empty");
        if (row->getInt64(1) != mappings_) {
          return MappingsChanged("another crbridge store changed the clock columns of a mapped table since this one opened");
        }
        MysqlShadowSnapshot snapshot(session, names_);
        return read(snapshot);
      });
    });
  }

 private:
  // Runs `body` on `session`, connecting first when there is none; a lost
  // connection drops the session, so the next call connects again.
  Status OnSession(std::unique_ptr<MysqlSession>& session, MysqlSession::Isolation isolation,
                   const std::function<Status(MysqlSession&)>& body) {
    if (!session) CRBRIDGE_RETURN_IF_ERROR(MysqlSession::Connect(url_, isolation, &session));
    const Status status = CatchErrors([&] { return body(*session); });
    if (status.code() == Status::Code::kUnavailable) session.reset();
    return status;
  }

  Status OnWriter(const std::function<Status(MysqlSession&)>& body) {
    return OnSession(writer_, MysqlSession::Isolation::kReadCommitted, body);
  }

  // Runs `body` in a transaction that `begin` starts: commits when it
  // returns OK, rolls back otherwise.
  static Status InTransaction(MysqlSession& session, const std::string& begin, const std::function<Status()>& body) {
    session.TrimStatements();
    session.Execute(begin);
    Status status = CatchErrors(body);
    if (status.ok()) status = CatchErrors([&] {
      session.Execute("COMMIT");
      return Status::OK();
    });
    if (!status.ok()) {
      // A rollback that fails leaves the status as it is: a lost
      // connection rolls back on the server.
      CatchErrors([&] {
        session.Execute("ROLLBACK");
        return Status::OK();
      });
    }
    return status;
  }

  // A one-row, one-column query's integer, with one text parameter unless
  // `param` is empty.
  Status ReadInt(const std::string& query, const std::string& param, int64_t* value) {
    return OnWriter([&](MysqlSession& session) -> Status {
      sql::PreparedStatement& select = session.Prepare(query);
      if (!param.empty()) MysqlBinder(select).Text(param);
      std::unique_ptr<sql::ResultSet> row(select.executeQuery());
      if (!row->next()) return Status::Internal("mysql: no row for " + query);
      *value = row->getInt64(1);
      return Status::OK();
    });
  }

  std::string url_;
  MysqlShadowNames names_;
  std::unique_ptr<MysqlSession> writer_;
  std::unique_ptr<MysqlSession> reader_;
  SiteId site_id_{};
  int64_t mappings_ = 0;  // the clock row's count of mapping changes when this store opened
};

}  // namespace

// Marking is not used: crbridge's transactions mark themselves (see the
// header).
Status OpenShadowStore(const Config& config, const std::vector<ResolvedTable>& tables, ShadowStore::Marking,
                            std::unique_ptr<ShadowStore>* store) {
  auto result = std::make_unique<MysqlShadowStore>(config.source.url, config.metadata_schema);
  CRBRIDGE_RETURN_IF_ERROR(result->Migrate(tables));
  *store = std::move(result);
  return Status::OK();
}

}  // namespace crbridge::mysql
