// MysqlDatabase: the MySQL/MariaDB dialect of SourceDatabase: the probe over
// MariaDB Connector/C's non-blocking API, catalog queries over MySQL
// Connector/C++. Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "crbridge/server/core/source_database.h"

namespace sql {
class Connection;
}

namespace crbridge::mysql {

class MysqlDatabase final : public SourceDatabase {
 public:
  explicit MysqlDatabase(std::string url);
  ~MysqlDatabase() override;

  Status Probe(std::chrono::milliseconds timeout, std::stop_token stop, ServerInfo* info) override;
  Status ReadTable(const std::string& schema, const std::string& table, ServerTable* out, bool* found) override;
  Status CheckSettings(std::vector<std::string>* problems) override;
  Status CheckPrivileges(const Config& config, const std::vector<ResolvedTable>& tables,
                         std::vector<Status>* problems) override;
  Status RejectedRows(const std::string& metadata_schema, std::vector<RejectedRow>* rows) override;
  Status RecordedTables(const std::string& metadata_schema, std::vector<RecordedTable>* tables) override;

 private:
  // The Connector/C++ connection for catalog queries, opened on first use.
  Status Connection(sql::Connection** conn);

  std::string url_;
  std::unique_ptr<sql::Connection> conn_;
};

}  // namespace crbridge::mysql
