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

#include "crbridge/mappings/config.h"
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
};

std::unique_ptr<SourceDatabase> NewSourceDatabase(const SourceConfig& source);

}  // namespace crbridge
