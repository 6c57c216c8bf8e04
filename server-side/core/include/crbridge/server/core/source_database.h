// SourceDatabase: the server database that crbridge makes a sync peer.
//
// One implementation per dialect (Postgres, MySQL/MariaDB); code outside
// server-side sees only this interface. An instance is not thread-safe:
// use one per thread.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/mappings/server_table.h"
#include "crbridge/server/core/mapping_changes.h"
#include "crbridge/server/core/rejected_row.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

struct ServerInfo {
  std::string product;  // "PostgreSQL", "MariaDB", "MySQL"
  std::string version;  // as the server reports it
};

class SourceDatabase {
 public:
  virtual ~SourceDatabase() = default;

  // Connects, asks the server for its version and disconnects. Returns
  // Unavailable when the server cannot be reached or refuses the login
  // within `timeout`, Cancelled soon (within ~100 ms) after `stop` is
  // requested, InvalidArgument when the url is malformed.
  virtual Status Probe(std::chrono::milliseconds timeout, std::stop_token stop, ServerInfo* info) = 0;

  // Reads how the catalog describes `schema`.`table` ("" = the url's
  // database, MySQL only). *found is false when the table does not exist.
  // Unavailable when the server cannot be reached.
  virtual Status ReadTable(const std::string& schema, const std::string& table, ServerTable* out, bool* found) = 0;

  // Checks the server settings that capture needs (Postgres wal_level;
  // MySQL log_bin and the row binlog settings); one message per problem.
  virtual Status CheckSettings(std::vector<std::string>* problems) = 0;

  // Checks that the url's role may do all that `run` does in the database
  // for `config`, whose mapped tables resolved as `tables`: one problem per
  // missing privilege, at the config key it concerns, naming the statement
  // that grants it; and that the server has what the config asks of it (a
  // failover slot). (Postgres; MySQL's grants are not checked yet.)
  virtual Status CheckPrivileges(const Config& config, const std::vector<ResolvedTable>& tables,
                                 std::vector<Status>* problems) = 0;

  // The app rows capture rejected that still stand (rejected_row.h), as
  // crbridge's metadata schema (database, on MySQL) `metadata_schema` keeps
  // them; none when crbridge has not made it yet. Reads only.
  virtual Status RejectedRows(const std::string& metadata_schema, std::vector<RejectedRow>* rows) = 0;

  // The mapped tables as the metadata schema `metadata_schema` records them
  // (MappingChanges); none when crbridge has not made it yet. Reads only.
  virtual Status RecordedTables(const std::string& metadata_schema, std::vector<RecordedTable>* tables) = 0;
};

}  // namespace crbridge
