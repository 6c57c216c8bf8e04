// MysqlCapture: the MySQL/MariaDB source's capture pipeline. On first
// start it reads the mapped tables from one consistent snapshot matched to
// its binary log position (MysqlSnapshotReader) and gives their rows
// clocks; a table added to the config later is snapshotted alone. Then it
// streams the row binlog as a replica (BinlogStream, from the GTID state
// stored with the clocks), maps rows of mapped tables (BinlogChangeMapper)
// and records them (ChangeRecorder) with the GTID state after them, in the
// same clock transaction: a crash never loses or repeats a transaction.
// crbridge's own writes are skipped: each begins with the update of the
// metadata database's `clock` row, which the binlog shows first. A
// TRUNCATE of a mapped table (DDL, logged as its statement) kills every
// row, as on Postgres. Each start first checks the server's binlog
// settings. MariaDB only (BinlogStream speaks MariaDB's GTID protocol).
// Run blocks; stop by token from any thread.
#pragma once

#include <stop_token>
#include <vector>

#include "crbridge/connector/capture/capture.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

class MysqlCapture : public Capture {
 public:
  MysqlCapture(const Config& config, const std::vector<ResolvedTable>& tables, CaptureOptions options, Metrics& metrics)
      : Capture(config, tables, std::move(options), metrics) {}

  // For DropCapture: removes the metadata database with every clock (a
  // replica leaves nothing else on the server). InvalidArgument when the
  // metadata database is one of the app's.
  static Status Drop(const Config& config);

 private:
  Status RunUntilStopped(std::stop_token stop) override;
};

}  // namespace crbridge::mysql
