// CrSqlitePeer: a real cr-sqlite database (@vlcn.io/crsqlite-wasm under
// Node.js, crsqlite_peer.mjs) that a test drives like a native one.
// Not thread-safe. Throws std::runtime_error when the peer fails or
// answers with an error.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "crbridge/sqlite/change.h"
#include "subprocess.h"

namespace crbridge::testing {

// {"i":"1"}, {"f":1.5}, {"s":"x"}, {"b":"00ff"} or null, as the peer speaks.
nlohmann::json ValueToJson(const Value& value);
Value ValueFromJson(const nlohmann::json& json);
// A change as the peer speaks it: [table, pk hex, cid, value, col_version,
// db_version, site hex or null, cl, seq], numbers as decimal strings.
nlohmann::json ChangeToJson(const Change& change);

class CrSqlitePeer {
 public:
  CrSqlitePeer();
  ~CrSqlitePeer();

  void Exec(const std::string& sql);
  // Rows of a query that selects pairs "typeof(x), x".
  std::vector<std::vector<Value>> Query(const std::string& sql);
  Changeset Changes(int64_t since, const std::optional<SiteId>& exclude);
  void Apply(const Changeset& changes);
  SiteId site_id();
  // Applies `schema` as vlcn apps do (automigrateTo); returns the schema
  // name and version the client then announces.
  std::pair<std::string, int64_t> Automigrate(const std::string& schema_name, const std::string& schema);
  // Syncs with a vlcn WebSocket server through the published client
  // (@vlcn.io/ws-client), after Automigrate; until Disconnect.
  void Connect(const std::string& url, const std::string& room, const std::optional<std::string>& token = std::nullopt);
  void Disconnect();

 private:
  nlohmann::json Call(nlohmann::json request);

  std::unique_ptr<Subprocess> node_;
};

}  // namespace crbridge::testing
