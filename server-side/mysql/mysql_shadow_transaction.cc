// The metadata a MySQL/MariaDB write keeps besides clocks: site ordinals,
// peers' versions, the capture position, snapshots done, the change log.
#include "mysql_shadow_transaction.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "mysql_change_log.h"

namespace crbridge::mysql {
namespace {

std::string Bytes(const SiteId& site) { return std::string(site.begin(), site.end()); }

}  // namespace

// Writers are serialized by the db_version counter, so no other one can
// insert the same site between the SELECT and the INSERT.
Status MysqlShadowTransaction::SiteOrdinal(const SiteId& site, int* ordinal) {
  return CatchErrors([&]() -> Status {
    sql::PreparedStatement& select = session_.Prepare("SELECT ordinal FROM " + names_.Table("sites") + " WHERE site_id = ?");
    MysqlBinder(select).Text(Bytes(site));
    std::unique_ptr<sql::ResultSet> known(select.executeQuery());
    if (known->next()) {
      *ordinal = known->getInt(1);
      return Status::OK();
    }
    sql::PreparedStatement& insert = session_.Prepare("INSERT INTO " + names_.Table("sites") + " (site_id) VALUES (?)");
    MysqlBinder(insert).Text(Bytes(site));
    insert.executeUpdate();
    std::unique_ptr<sql::ResultSet> made(session_.Query("SELECT LAST_INSERT_ID()"));
    made->next();
    *ordinal = made->getInt(1);
    return Status::OK();
  });
}

// The version only grows; the seq goes with the version it came with.
// MySQL assigns left to right, each seeing the ones before: seq first,
// against the old version. The owner is read first, locking the row; no
// other crbridge writer runs before this transaction commits anyway.
Status MysqlShadowTransaction::SetPeerVersion(const SiteId& site, const PeerVersion& version,
                                              const std::optional<std::string>& owner) {
  return CatchErrors([&]() -> Status {
    if (owner) {
      sql::PreparedStatement& select =
          session_.Prepare("SELECT owner FROM " + names_.Table("peers") + " WHERE site_id = ? FOR UPDATE");
      MysqlBinder(select).Text(Bytes(site));
      std::unique_ptr<sql::ResultSet> bound(select.executeQuery());
      if (bound->next() && !bound->isNull(1) && std::string(bound->getString(1)) != *owner) {
        return SiteBoundElsewhere(site);
      }
    }
    sql::PreparedStatement& upsert = session_.Prepare(
        "INSERT INTO " + names_.Table("peers") +
        " (site_id, version, seq, owner) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
        "seq = IF(version > VALUES(version), seq, VALUES(seq)), version = GREATEST(version, VALUES(version)), "
        "owner = COALESCE(owner, VALUES(owner))");
    MysqlBinder binder(upsert);
    binder.Text(Bytes(site)).Int(version.version).Int(version.seq);
    if (owner) {
      binder.Text(*owner);
    } else {
      binder.Null();
    }
    upsert.executeUpdate();
    return Status::OK();
  });
}

// Snapshots record rows at older positions: the position never goes back.
Status MysqlShadowTransaction::SetCapturePosition(const SourcePosition& position) {
  return CatchErrors([&]() -> Status {
    sql::PreparedStatement& update = session_.Prepare("UPDATE " + names_.Table("capture") +
                                                      " SET `offset` = ?, resume = ? WHERE id = 1 AND `offset` <= ?");
    MysqlBinder(update).Int(position.offset).Text(position.resume).Int(position.offset);
    update.executeUpdate();
    return Status::OK();
  });
}

Status MysqlShadowTransaction::MarkSnapshotDone(const ResolvedTable& t, int64_t offset) {
  return CatchErrors([&]() -> Status {
    sql::PreparedStatement& update =
        session_.Prepare("UPDATE " + names_.Table("tables") + " SET snapshot_lsn = ? WHERE name = ?");
    MysqlBinder(update).Int(offset).Text(t.mapping->name);
    update.executeUpdate();
    return Status::OK();
  });
}

Status MysqlShadowTransaction::RecordRejectedRows(const std::vector<RejectedRow>& rows) {
  return CatchErrors([&]() -> Status {
    // Rejections are rare: a statement each.
    sql::PreparedStatement& upsert = session_.Prepare(
        "INSERT INTO " + names_.Table("rejected_rows") +
        " (table_name, key_hash, pk, reason, source_position) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
        "pk = VALUES(pk), reason = VALUES(reason), source_position = VALUES(source_position), "
        "rejected_at = CURRENT_TIMESTAMP(6)");
    for (const RejectedRow& row : rows) {
      MysqlBinder(upsert)
          .Text(row.table)
          .Int(RejectedKeyHash(row.key))
          .Text(std::string(row.key.begin(), row.key.end()))
          .Text(row.reason)
          .Int(row.position);
      upsert.executeUpdate();
    }
    return Status::OK();
  });
}

Status MysqlShadowTransaction::ClearRejectedRows(const std::string& table, const std::vector<Blob>& keys) {
  return CatchErrors([&]() -> Status {
    sql::PreparedStatement& remove =
        session_.Prepare("DELETE FROM " + names_.Table("rejected_rows") + " WHERE table_name = ? AND key_hash = ?");
    for (const Blob& key : keys) {
      MysqlBinder(remove).Text(table).Int(RejectedKeyHash(key));
      remove.executeUpdate();
    }
    return Status::OK();
  });
}

Status MysqlShadowTransaction::LogChanges(const ResolvedTable& t, int64_t db_version, const ChangeOrigin& origin,
                                          const std::vector<LoggedChange>& changes) {
  return CatchErrors(
      [&] { return AppendChangeLog(session_, names_.Table("change_events"), t, db_version, origin, changes); });
}

}  // namespace crbridge::mysql
