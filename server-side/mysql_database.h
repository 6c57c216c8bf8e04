// MysqlDatabase: the MySQL/MariaDB dialect of SourceDatabase, over MariaDB
// Connector/C. Not thread-safe.
#pragma once

#include <string>

#include "crbridge/server/source_database.h"

namespace crbridge {

class MysqlDatabase final : public SourceDatabase {
 public:
  explicit MysqlDatabase(std::string url) : url_(std::move(url)) {}

  Status Probe(std::chrono::milliseconds timeout, std::stop_token stop, ServerInfo* info) override;

 private:
  std::string url_;
};

}  // namespace crbridge
