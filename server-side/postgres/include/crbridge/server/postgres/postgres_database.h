// PostgresDatabase: the Postgres dialect of SourceDatabase: the probe over
// non-blocking libpq, catalog queries over libpqxx. Not thread-safe.
#pragma once

#include <memory>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

#include "crbridge/server/core/source_database.h"

namespace crbridge::postgres {

// Whether the publication `publication` publishes exactly `tables`
// (qualified, quoted names) whole: every kind of change, every column, no
// row filter. Capture leaves such a publication as it is, so that a role
// owning none of the tables may use one their owner made for it.
bool PublicationPublishesExactly(pqxx::transaction_base& tx, const std::string& publication,
                                 const std::vector<std::string>& tables);

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
