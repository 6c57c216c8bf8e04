// The change log of a MySQL/MariaDB metadata database (mysql_change_log.h),
// read through Connector/C++ in autocommit at READ COMMITTED: each
// statement sees what is committed, and deleting acknowledged events takes
// no gap locks that would hold up writers appending newer ones.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "crbridge/server/mysql/mysql_change_log_reader.h"
#include "crbridge/server/mysql/binlog_position.h"
#include "mysql_session.h"
#include "mysql_shadow_transaction.h"

namespace crbridge::mysql {
namespace {

constexpr const char* kEventColumns =
    "SELECT db_version, seq, table_name, pk, op, cl, key_json, columns_json, from_client, COALESCE(source_lsn, 0), "
    "COALESCE(client_ordinal, 0), source_time_us, recorded_time_us FROM ";

class MysqlChangeLogReader final : public ChangeLogReader {
 public:
  MysqlChangeLogReader(std::unique_ptr<MysqlSession> session, std::string metadata_database)
      : session_(std::move(session)), names_(std::move(metadata_database)) {}

  Status Open() {
    return CatchErrors([&]() -> Status {
      std::unique_ptr<sql::ResultSet> site(session_->Query("SELECT site_id FROM " + names_.Table("site")));
      const std::string id = site->next() ? std::string(site->getString(1)) : "";
      if (id.size() != site_id_.size()) return Status::Internal("mysql: " + names_.Table("site") + " holds no site id");
      std::copy(id.begin(), id.end(), site_id_.begin());
      // Offsets say the binlog file by its number; its name adds the base.
      std::unique_ptr<sql::ResultSet> base(session_->Query("SELECT @@log_bin_basename"));
      if (base->next() && !base->isNull(1)) {
        const std::string path = base->getString(1);
        binlog_base_name_ = path.substr(path.rfind('/') + 1);
      }
      return Status::OK();
    });
  }

  const SiteId& site_id() const override { return site_id_; }

  Status ReadAfter(const ChangeLogPosition& after, size_t limit, std::vector<ChangeLogEvent>* events) override {
    events->clear();
    return CatchErrors([&]() -> Status {
      // The row comparison spelled out, which every server reads as a range
      // of the primary key.
      sql::PreparedStatement& select =
          session_->Prepare(kEventColumns + names_.Table("change_events") +
                            " WHERE db_version > ? OR (db_version = ? AND seq > ?) ORDER BY db_version, seq LIMIT " +
                            std::to_string(limit));
      MysqlBinder(select).Int(after.db_version).Int(after.db_version).Int(after.seq);
      std::unique_ptr<sql::ResultSet> rows(select.executeQuery());
      while (rows->next()) {
        ChangeLogEvent& event = events->emplace_back();
        event.position = {rows->getInt64(1), rows->getInt64(2)};
        event.table = rows->getString(3);
        const std::string pk = rows->getString(4);
        event.pk.assign(pk.begin(), pk.end());
        event.op = rows->getString(5);
        event.cl = rows->getInt64(6);
        event.key_json = rows->getString(7);
        event.columns_json = rows->getString(8);
        event.from_client = rows->getInt(9) != 0;
        event.source_position = rows->getInt64(10);
        event.client_ordinal = rows->getInt64(11);
        event.source_time_us = rows->getInt64(12);
        event.recorded_time_us = rows->getInt64(13);
      }
      return Status::OK();
    });
  }

  Status DeleteThrough(const ChangeLogPosition& through) override {
    return CatchErrors([&]() -> Status {
      sql::PreparedStatement& del = session_->Prepare("DELETE FROM " + names_.Table("change_events") +
                                                      " WHERE db_version < ? OR (db_version = ? AND seq <= ?)");
      MysqlBinder(del).Int(through.db_version).Int(through.db_version).Int(through.seq);
      del.executeUpdate();
      return Status::OK();
    });
  }

  Status CountBacklog(ChangeLogBacklog* backlog) override {
    return CatchErrors([&]() -> Status {
      std::unique_ptr<sql::ResultSet> left(
          session_->Query("SELECT COUNT(*), COALESCE(MIN(source_lsn), 0) FROM " + names_.Table("change_events")));
      left->next();
      *backlog = {left->getInt64(1), left->getInt64(2)};
      return Status::OK();
    });
  }

  Status Sites(std::map<int64_t, SiteId>* sites) override { return MysqlShadowSnapshot(*session_, names_).Sites(sites); }

  // A binlog file and the position in it: "mysql-bin.000003:1234".
  std::string FormatSourcePosition(int64_t position) const override {
    BinlogPosition decoded;
    if (!DecodeBinlogOffset(binlog_base_name_, position, &decoded).ok()) return std::to_string(position);
    return decoded.file + ":" + std::to_string(decoded.position);
  }

 private:
  std::unique_ptr<MysqlSession> session_;
  const MysqlShadowNames names_;
  SiteId site_id_{};
  std::string binlog_base_name_;
};

}  // namespace

Status OpenChangeLogReader(const Config& config, std::unique_ptr<ChangeLogReader>* reader) {
  std::unique_ptr<MysqlSession> session;
  CRBRIDGE_RETURN_IF_ERROR(MysqlSession::Connect(config.source.url, MysqlSession::Isolation::kReadCommitted, &session));
  auto opened = std::make_unique<MysqlChangeLogReader>(std::move(session), config.metadata_schema);
  CRBRIDGE_RETURN_IF_ERROR(opened->Open());
  *reader = std::move(opened);
  return Status::OK();
}

}  // namespace crbridge::mysql
