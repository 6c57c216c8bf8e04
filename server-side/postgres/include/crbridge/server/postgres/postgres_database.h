// PostgresDatabase: the Postgres dialect of SourceDatabase: the probe over
// non-blocking libpq, catalog queries over libpqxx. Not thread-safe.
#pragma once

#include <memory>
#include <pqxx/connection>
#include <string>

#include "crbridge/server/core/source_database.h"

namespace crbridge::postgres {

class PostgresDatabase final : public SourceDatabase {
 public:
  explicit PostgresDatabase(std::string url);
  ~PostgresDatabase() override;

  Status Probe(std::chrono::milliseconds timeout, std::stop_token stop, ServerInfo* info) override;
  Status ReadTable(const std::string& schema, const std::string& table, ServerTable* out, bool* found) override;
  Status CheckSettings(std::vector<std::string>* problems) override;
  Status CheckPrivileges(const Config& config, const std::vector<ResolvedTable>& tables,
                         std::vector<Status>* problems) override;
  Status RejectedRows(const std::string& metadata_schema, std::vector<RejectedRow>* rows) override;
  Status RecordedTables(const std::string& metadata_schema, std::vector<RecordedTable>* tables) override;

 private:
  // The libpqxx connection for catalog queries, opened on first use.
  Status Connection(pqxx::connection** conn);
  // `s`, after forgetting the connection when `s` says it is lost.
  Status Forget(Status s);

  std::string url_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace crbridge::postgres
