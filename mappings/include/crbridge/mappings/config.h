// Config: what a user configures in crbridge's YAML file, validated.
//
// LoadConfigFile reads and checks a file; every error names the file, the
// line and column, and the key path ("crbridge.yaml:4:9: server.listen:
// expected host:port"). Config::ErrorAt does the same for problems found
// later, such as a mapped column missing from the live database.
// A Config is an immutable value once loaded and may be read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crbridge/sqlite/status.h"

namespace crbridge {

enum class SourceType { kPostgres, kMysql };

std::string_view SourceTypeName(SourceType type);

// Where a key's value stands in the file, 1-based.
struct ConfigPosition {
  int line = 0;
  int column = 0;
};

struct SourceConfig {
  SourceType type = SourceType::kPostgres;
  // postgresql://... or mysql://...; ${VAR} is replaced by the environment
  // variable VAR when the file is loaded.
  std::string url;
  std::string slot = "crbridge";         // postgres: the replication slot
  std::string publication = "crbridge";  // postgres: the publication
  // postgres: warn when the slot holds back more WAL than this (a stopped
  // or slow crbridge makes Postgres keep WAL for it).
  int64_t slot_lag_warning_mb = 1024;
  // postgres: what capture does when its slot is gone or invalidated
  // (max_slot_wal_keep_size, Postgres 18's idle_replication_slot_timeout):
  // make a new slot and read every mapped table again (only rows that
  // differ from their clocks reach clients), or stop for a person.
  enum class OnSlotLost { kResnapshot, kStop };
  OnSlotLost on_slot_lost = OnSlotLost::kResnapshot;
  // postgres 17+: make the slot a failover slot, which a standby with
  // sync_replication_slots keeps in step, so that capture goes on from a
  // promoted standby.
  bool failover_slot = false;
  uint32_t server_id = 0;                // mysql: the replica server id (required)
};

struct ServerConfig {
  // The sync WebSocket, /healthz and /metrics share this address.
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::string path = "/sync";  // the WebSocket's path
  // Limits of the sync WebSocket against bad or hostile clients: larger
  // messages and more changes per message close the connection with a
  // reason; connections beyond the limit from one address are refused
  // (HTTP 429).
  int64_t max_message_bytes = 8 << 20;
  int64_t max_changes_per_message = 50000;
  int64_t max_connections_per_address = 100;
  // Changes messages to clients are this large at the most, but for one
  // of a single larger row; it also bounds what is held for each client.
  int64_t max_outgoing_message_bytes = 1 << 20;
};

enum class AuthMode { kNone, kJwt };

struct JwtConfig {
  std::string algorithm = "HS256";  // HS256, HS384 or HS512
  std::string secret_env = "CRBRIDGE_JWT_SECRET";  // the variable holding the key
  std::string rooms_claim = "rooms";  // the claim listing the rooms granted
};

struct AuthConfig {
  AuthMode mode = AuthMode::kNone;
  JwtConfig jwt;
};

// One column as clients see it, and the server column it comes from.
struct ColumnMapping {
  std::string name;
  std::string source;
};

// Rows in the room of each of their members (room_members): a server table
// (need not be mapped) of (key, room) pairs.
struct RoomMembers {
  std::string source_schema;  // as TableMapping's
  std::string source_table;
  std::string key;   // its column holding the member table's primary key
  std::string room;  // its column holding a room
  std::string path;  // "tables[0].room_members", for messages
};

// Rows in every room of the row they reference (room_via).
struct RoomVia {
  std::string column;  // this table's server column, referencing the primary key of...
  std::string table;   // ...this mapped table (the name clients see)
  std::string path;    // "tables[1].room_via", for messages
};

struct TableMapping {
  std::string name;           // the table clients see
  std::string source_schema;  // postgres schema, or mysql database ("" = the url's)
  std::string source_table;
  // A table's rooms: at most one of the three; none: in every room.
  std::optional<std::string> room_column;  // a server column
  std::optional<RoomMembers> room_members;
  std::optional<RoomVia> room_via;
  bool writable = true;
  std::vector<ColumnMapping> columns;  // empty: all columns
  std::vector<std::string> exclude;    // server columns left out
  std::string path;                    // "tables[1]", for messages

  // "public.todos" (or just "todos" when the schema is the url's default).
  std::string QualifiedSource() const;
};

struct KafkaConfig {
  std::string brokers;
  // The topic of every event; with topic_per_table, the prefix of each
  // table's topic: "<topic>.<table>".
  std::string topic = "crbridge.changes";
  bool topic_per_table = false;
  // Events committed but not yet acknowledged by Kafka, at the most: past
  // it, capture stops recording (and confirming the source position) until
  // Kafka catches up. Client merges go on.
  int64_t max_backlog_events = 100000;
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
};

struct Config {
  std::string file;  // the path it was loaded from, for messages
  SourceConfig source;
  std::string metadata_schema = "crbridge";
  ServerConfig server;
  std::string schema_name;  // what clients announce; others are refused
  AuthConfig auth;
  std::vector<TableMapping> tables;
  std::optional<KafkaConfig> kafka;
  LogConfig log;
  // The position of every key path read ("tables[1].room_column").
  std::map<std::string, ConfigPosition> positions;

  // InvalidArgument "file:line:column: path: message", positioned at the
  // key `path` (or at its nearest parent that was in the file).
  Status ErrorAt(const std::string& path, std::string_view message) const;
};

// Reads and validates the YAML file at `path`. On success stores the result
// in *config; on failure returns InvalidArgument (or IOError when the file
// cannot be read) whose message starts with "path:line:column: key.path:".
Status LoadConfigFile(const std::string& path, Config* config);

// Same, for YAML text already in memory; `file_name` is used in messages.
Status ParseConfig(std::string_view yaml_text, const std::string& file_name, Config* config);

}  // namespace crbridge
