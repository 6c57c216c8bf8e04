// MysqlSnapshotReader: a consistent read of a MySQL/MariaDB database for
// capture's initial snapshot, matched to its binary log position, so the
// stream can start where the snapshot ends, with no gap and no overlap.
// On MariaDB the read starts with START TRANSACTION WITH CONSISTENT
// SNAPSHOT and takes the position InnoDB reports for exactly that snapshot
// (binlog_snapshot_file and _position; @@gtid_binlog_pos would not match
// it): no lock is taken. MySQL reports no such position, so the snapshot
// starts under a global read lock (FLUSH TABLES WITH READ LOCK, which needs
// the RELOAD privilege) held only while the position and the executed GTID
// set are read, as Debezium does: no commit can fall between the two.
// Tables are read in key order, a page at a time, values in the text form
// the type mapping reads. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/mysql/binlog_position.h"
#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

class MysqlSession;

class MysqlSnapshotReader {
 public:
  // Connects to `url` and starts the snapshot. Unavailable when the server
  // cannot be reached.
  static Status Open(const std::string& url, std::unique_ptr<MysqlSnapshotReader>* reader);
  ~MysqlSnapshotReader();

  // Where the binary log stood at the snapshot, and the GTID state of that
  // point: MariaDB's ("0-1-97"; "" when the binary log holds no GTID yet)
  // or MySQL's executed GTID set ("uuid:1-97").
  const BinlogPosition& position() const { return position_; }
  const std::string& gtid_state() const { return gtid_state_; }

  Status CountRows(const ResolvedTable& t, int64_t* rows);
  // Calls `row` for each row of `t` in key order, pages of `page_rows`
  // at a time, then `page_done` after each page (with whether it was the
  // last); `row`'s `field(i)` is column t.columns[i] as text, nullopt for
  // NULL.
  using Field = std::function<std::optional<std::string_view>(size_t column)>;
  Status ReadTable(const ResolvedTable& t, size_t page_rows, const std::function<Status(const Field& field)>& row,
                   const std::function<Status(bool last)>& page_done);

 private:
  explicit MysqlSnapshotReader(std::unique_ptr<MysqlSession> session);
  Status StartAtSnapshotPosition();
  Status StartUnderReadLock();

  std::unique_ptr<MysqlSession> session_;
  BinlogPosition position_;
  std::string gtid_state_;
};

}  // namespace crbridge::mysql
