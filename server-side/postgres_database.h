// PostgresDatabase: the Postgres dialect of SourceDatabase, over libpq.
// Not thread-safe.
#pragma once

#include <string>

#include "crbridge/server/source_database.h"

namespace crbridge {

class PostgresDatabase final : public SourceDatabase {
 public:
  explicit PostgresDatabase(std::string url) : url_(std::move(url)) {}

  Status Probe(std::chrono::milliseconds timeout, std::stop_token stop, ServerInfo* info) override;

 private:
  std::string url_;
};

}  // namespace crbridge
