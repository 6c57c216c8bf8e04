#include "crbridge/server/mysql/mysql_snapshot_reader.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <vector>

#include "mysql_session.h"

namespace crbridge::mysql {
namespace {

// How long the snapshot's global read lock may wait for running statements.
constexpr int kReadLockWaitSeconds = 5;

}  // namespace

MysqlSnapshotReader::MysqlSnapshotReader(std::unique_ptr<MysqlSession> session) : session_(std::move(session)) {}

MysqlSnapshotReader::~MysqlSnapshotReader() = default;

Status MysqlSnapshotReader::Open(const std::string& url, std::unique_ptr<MysqlSnapshotReader>* reader) {
  std::unique_ptr<MysqlSession> session;
  CRBRIDGE_RETURN_IF_ERROR(MysqlSession::Connect(url, MysqlSession::Isolation::kRepeatableRead, &session));
  std::unique_ptr<MysqlSnapshotReader> result(new MysqlSnapshotReader(std::move(session)));
  MysqlSession& s = *result->session_;
  if (s.server_version().flavor == MysqlFlavor::kMysql) {
    CRBRIDGE_RETURN_IF_ERROR(result->StartUnderReadLock());
  } else {
    CRBRIDGE_RETURN_IF_ERROR(result->StartAtSnapshotPosition());
  }
  *reader = std::move(result);
  return Status::OK();
}

Status MysqlSnapshotReader::StartAtSnapshotPosition() {
  return CatchErrors([&]() -> Status {
    MysqlSession& s = *session_;
    s.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
    const auto status = s.Query("SHOW STATUS LIKE 'binlog_snapshot_%'");
    while (status->next()) {
      const std::string name = status->getString(1);
      if (name == "Binlog_snapshot_file") position_.file = status->getString(2);
      if (name == "Binlog_snapshot_position") position_.position = std::stoull(std::string(status->getString(2)));
    }
    if (position_.file.empty()) {
      return Status::InvalidArgument("mysql: the server reports no binary log position (is log_bin on?)");
    }
    sql::PreparedStatement& gtid = s.Prepare("SELECT BINLOG_GTID_POS(?, ?)");
    MysqlBinder(gtid).Text(position_.file).Int(static_cast<int64_t>(position_.position));
    const std::unique_ptr<sql::ResultSet> state(gtid.executeQuery());
    if (state->next() && !state->isNull(1)) gtid_state_ = state->getString(1);
    return Status::OK();
  });
}

Status MysqlSnapshotReader::StartUnderReadLock() {
  MysqlSession& s = *session_;
  // The lock waits for statements already running, and every app write
  // waits for it meanwhile: a long query must not stall the app for long.
  // Capture starts again later (Unavailable).
  const Status locked = CatchErrors([&] {
    s.Execute("SET SESSION lock_wait_timeout = " + std::to_string(kReadLockWaitSeconds));
    s.Execute("FLUSH TABLES WITH READ LOCK");
    return Status::OK();
  });
  if (locked.code() == Status::Code::kUnavailable) return locked;
  if (locked.code() == Status::Code::kAborted) {
    return Status::Unavailable("mysql: the snapshot's global read lock waited " +
                               std::to_string(kReadLockWaitSeconds) + " s for running statements: " + locked.message());
  }
  if (!locked.ok()) {
    return Status::PermissionDenied("mysql: the snapshot needs a brief global read lock (FLUSH TABLES WITH READ "
                                    "LOCK, the RELOAD privilege): " + locked.message());
  }
  Status started = CatchErrors([&] {
    s.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
    return Status::OK();
  });
  if (started.ok()) started = s.BinlogStatus(&position_.file, &position_.position, &gtid_state_);
  // Released whatever happened: app writes wait while it is held.
  const Status unlocked = CatchErrors([&] {
    s.Execute("UNLOCK TABLES");
    s.Execute("SET SESSION lock_wait_timeout = DEFAULT");
    return Status::OK();
  });
  CRBRIDGE_RETURN_IF_ERROR(started);
  return unlocked;
}

Status MysqlSnapshotReader::CountRows(const ResolvedTable& t, int64_t* rows) {
  return CatchErrors([&]() -> Status {
    try {
      // The first read of the table: it holds the table's metadata lock
      // from here on, so a rename waits for the snapshot.
      const auto result = session_->Query("SELECT count(*) FROM " + AppTable(t));
      *rows = result->next() ? result->getInt64(1) : 0;
    } catch (const sql::SQLException& e) {
      // ER_NO_SUCH_TABLE: the app renamed or dropped the table since
      // capture checked it: capture starts again, and its check then
      // finds it away.
      if (e.getErrorCode() != 1146) throw;
      return Status::Aborted("a mapped table went away before it was read whole: mysql: " + std::string(e.what()));
    }
    return Status::OK();
  });
}

Status MysqlSnapshotReader::ReadTable(const ResolvedTable& t, size_t page_rows,
                                      const std::function<Status(const Field& field)>& row,
                                      const std::function<Status(bool last)>& page_done) {
  std::vector<std::string> columns;
  for (const ResolvedColumn& c : t.columns) columns.push_back(ColumnText(c, ""));
  const std::string select = "SELECT " + Join(columns, ", ") + " FROM " + AppTable(t);
  const std::string order = " ORDER BY " + KeyColumns(t, "") + " LIMIT " + std::to_string(page_rows);
  const std::string after = " WHERE (" + KeyColumns(t, "") + ") > (" + Placeholders(1, t.pk_count).substr(1);
  // The key of the page's last row, as text, where the next page starts.
  std::optional<std::vector<ServerParameter>> last_key;
  return CatchErrors([&]() -> Status {
    for (;;) {
      sql::PreparedStatement& page = session_->Prepare(select + (last_key ? after : "") + order);
      if (last_key) {
        MysqlBinder binder(page);
        for (const ServerParameter& p : *last_key) binder.Param(p);
      }
      const std::unique_ptr<sql::ResultSet> rows(page.executeQuery());
      size_t count = 0;
      std::vector<std::string> texts(t.columns.size());
      std::vector<bool> nulls(t.columns.size());
      while (rows->next()) {
        ++count;
        for (size_t i = 0; i < t.columns.size(); ++i) {
          const auto index = static_cast<uint32_t>(i + 1);
          nulls[i] = rows->isNull(index);
          texts[i] = nulls[i] ? std::string() : std::string(rows->getString(index));
        }
        CRBRIDGE_RETURN_IF_ERROR(row([&](size_t i) -> std::optional<std::string_view> {
          return nulls[i] ? std::nullopt : std::optional<std::string_view>(texts[i]);
        }));
        last_key.emplace();
        for (size_t i = 0; i < t.pk_count; ++i) last_key->push_back(ServerParameter{false, texts[i]});
      }
      const bool last = count < page_rows;
      CRBRIDGE_RETURN_IF_ERROR(page_done(last));
      if (last) return Status::OK();
    }
  });
}

}  // namespace crbridge::mysql
