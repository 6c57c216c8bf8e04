#include "crbridge/mappings/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "yaml_reader.h"

namespace crbridge {
namespace {

// SQL identifiers in the config: letters, digits, _ and $, not starting
// with a digit. Statements are built from these names, so nothing else is
// allowed in them.
bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63 || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '$') return false;
  }
  return true;
}

Status ReadIdentifier(YamlReader& reader, std::string_view key, bool required, std::string* out) {
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadString(key, required, out));
  if ((required || !out->empty()) && !IsIdentifier(*out)) {
    return reader.ErrorAt(key, "\"" + *out + "\" is not a plain SQL identifier (letters, digits, _ and $)");
  }
  return Status::OK();
}

Status ReadSource(YamlReader& root, SourceConfig* source) {
  YamlReader reader;
  bool present = false;
  CRBRIDGE_RETURN_IF_ERROR(root.ReadSection("source", {"type", "url", "slot", "publication", "slot_lag_warning_mb", "on_slot_lost", "failover_slot", "server_id"}, &reader, &present));
  if (!present) return root.ErrorAt("source", "required key is missing");

  size_t type = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadChoice("type", true, {"postgres", "mysql"}, &type));
  source->type = type == 0 ? SourceType::kPostgres : SourceType::kMysql;
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadString("url", true, &source->url));
  const std::string_view scheme = source->type == SourceType::kPostgres ? "postgres" : "mysql://";
  if (!source->url.starts_with(scheme)) {
    return reader.ErrorAt("url", "a " + std::string(SourceTypeName(source->type)) + " source needs a " +
                                     std::string(scheme) + "... url");
  }
  if (source->type == SourceType::kPostgres) {
    CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(reader, "slot", false, &source->slot));
    // Postgres's rule for slot names.
    if (!std::all_of(source->slot.begin(), source->slot.end(),
                     [](char c) { return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'; })) {
      return reader.ErrorAt("slot", "\"" + source->slot + "\" is not a replication slot name (lower-case letters, digits and _)");
    }
    CRBRIDGE_RETURN_IF_ERROR(
        reader.ReadInteger("slot_lag_warning_mb", false, 1, int64_t{1} << 40, &source->slot_lag_warning_mb));
    CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(reader, "publication", false, &source->publication));
    size_t on_slot_lost = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.ReadChoice("on_slot_lost", false, {"resnapshot", "stop"}, &on_slot_lost));
    source->on_slot_lost = on_slot_lost == 0 ? SourceConfig::OnSlotLost::kResnapshot : SourceConfig::OnSlotLost::kStop;
    CRBRIDGE_RETURN_IF_ERROR(reader.ReadBool("failover_slot", &source->failover_slot));
  } else {
    int64_t server_id = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.ReadInteger("server_id", true, 1, 4294967295, &server_id));
    source->server_id = static_cast<uint32_t>(server_id);
  }
  return Status::OK();
}

Status ReadServer(YamlReader& root, ServerConfig* server) {
  YamlReader reader;
  bool present = false;
  CRBRIDGE_RETURN_IF_ERROR(root.ReadSection("server", {"listen", "path", "max_message_bytes", "max_changes_per_message",
                                                     "max_connections_per_address", "max_outgoing_message_bytes"},
                                             &reader, &present));
  if (!present) return Status::OK();

  std::string listen;
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadString("listen", false, &listen));
  if (!listen.empty()) {
    const size_t colon = listen.rfind(':');
    const std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
    char* end = nullptr;
    const long number = port.empty() ? -1 : std::strtol(port.c_str(), &end, 10);
    if (colon == 0 || colon == std::string::npos || *end != '\0' || number < 0 || number > 65535) {
      return reader.ErrorAt("listen", "expected host:port with a port from 0 to 65535, got \"" + listen + "\"");
    }
    server->listen_host = listen.substr(0, colon);
    if (server->listen_host.size() > 2 && server->listen_host.front() == '[') {
      server->listen_host = server->listen_host.substr(1, server->listen_host.size() - 2);
    }
    server->listen_port = static_cast<uint16_t>(number);
  }
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadString("path", false, &server->path));
  if (!server->path.starts_with("/")) return reader.ErrorAt("path", "must start with /, got \"" + server->path + "\"");
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadInteger("max_message_bytes", false, 1024, int64_t{1} << 30, &server->max_message_bytes));
  CRBRIDGE_RETURN_IF_ERROR(
      reader.ReadInteger("max_changes_per_message", false, 1, 10000000, &server->max_changes_per_message));
  CRBRIDGE_RETURN_IF_ERROR(
      reader.ReadInteger("max_connections_per_address", false, 1, 1000000, &server->max_connections_per_address));
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadInteger("max_outgoing_message_bytes", false, 1024, int64_t{1} << 30,
                                              &server->max_outgoing_message_bytes));
  return Status::OK();
}

Status ReadAuth(YamlReader& root, AuthConfig* auth) {
  YamlReader reader;
  bool present = false;
  CRBRIDGE_RETURN_IF_ERROR(root.ReadSection("auth", {"mode", "jwt"}, &reader, &present));
  if (!present) return Status::OK();
  size_t mode = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadChoice("mode", false, {"none", "jwt"}, &mode));
  auth->mode = mode == 0 ? AuthMode::kNone : AuthMode::kJwt;
  YamlReader jwt;
  bool has_jwt = false;
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadSection("jwt", {"algorithm", "secret_env", "rooms_claim"}, &jwt, &has_jwt));
  if (has_jwt) {
    static constexpr std::string_view kAlgorithms[] = {"HS256", "HS384", "HS512"};
    size_t algorithm = 0;
    CRBRIDGE_RETURN_IF_ERROR(jwt.ReadChoice("algorithm", false, {kAlgorithms[0], kAlgorithms[1], kAlgorithms[2]}, &algorithm));
    auth->jwt.algorithm = kAlgorithms[algorithm];
    CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(jwt, "secret_env", false, &auth->jwt.secret_env));
    CRBRIDGE_RETURN_IF_ERROR(jwt.ReadString("rooms_claim", false, &auth->jwt.rooms_claim));
    if (auth->jwt.rooms_claim.empty()) return jwt.ErrorAt("rooms_claim", "must not be empty");
  } else if (auth->mode == AuthMode::kJwt) {
    return reader.ErrorAt("jwt", "mode jwt needs a jwt section (algorithm, secret_env, rooms_claim)");
  }
  return Status::OK();
}

Status ReadColumnList(YamlReader& table, std::string_view key, bool allow_overrides, std::vector<ColumnMapping>* out) {
  return table.ReadSequence(key, [&](const YAML::Node& node, const std::string& path) -> Status {
    ColumnMapping column;
    if (node.IsScalar()) {
      YamlReader item = table.Child(node, path);
      if (!IsIdentifier(node.Scalar())) {
        return item.ErrorAtNode(node, path, "\"" + node.Scalar() + "\" is not a plain SQL identifier");
      }
      column = ColumnMapping{node.Scalar(), node.Scalar()};
    } else if (allow_overrides && node.IsMap()) {
      YamlReader item = table.Child(node, path);
      CRBRIDGE_RETURN_IF_ERROR(item.ExpectKeys({"name", "source"}));
      CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(item, "name", true, &column.name));
      column.source = column.name;
      CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(item, "source", false, &column.source));
    } else {
      return table.Child(node, path).ErrorAtNode(
          node, path, allow_overrides ? "expected a column name or {name, source}" : "expected a column name");
    }
    for (const ColumnMapping& seen : *out) {
      if (seen.name == column.name) return table.Child(node, path).ErrorAtNode(node, path, "column " + column.name + " is listed twice");
    }
    out->push_back(std::move(column));
    return Status::OK();
  });
}

// "[schema.]table" of the value of `key` into its parts (the schema
// defaults to Postgres's public, or MySQL's database of the url).
Status ReadSourceTable(YamlReader& reader, std::string_view key, const std::string& source, SourceType type,
                       std::string* schema, std::string* table) {
  const size_t dot = source.find('.');
  *schema = dot == std::string::npos ? (type == SourceType::kPostgres ? "public" : "") : source.substr(0, dot);
  *table = dot == std::string::npos ? source : source.substr(dot + 1);
  if ((dot != std::string::npos && !IsIdentifier(*schema)) || !IsIdentifier(*table)) {
    return reader.ErrorAt(key, "expected [schema.]table with plain SQL identifiers, got \"" + source + "\"");
  }
  return Status::OK();
}

Status ReadRoomMembers(YamlReader& table, SourceType type, std::optional<RoomMembers>* out) {
  YamlReader reader;
  bool present = false;
  CRBRIDGE_RETURN_IF_ERROR(table.ReadSection("room_members", {"table", "key", "room"}, &reader, &present));
  if (!present) return Status::OK();
  RoomMembers members;
  members.path = reader.path();
  std::string source;
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadString("table", true, &source));
  CRBRIDGE_RETURN_IF_ERROR(ReadSourceTable(reader, "table", source, type, &members.source_schema, &members.source_table));
  CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(reader, "key", true, &members.key));
  CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(reader, "room", true, &members.room));
  *out = std::move(members);
  return Status::OK();
}

Status ReadRoomVia(YamlReader& table, std::optional<RoomVia>* out) {
  YamlReader reader;
  bool present = false;
  CRBRIDGE_RETURN_IF_ERROR(table.ReadSection("room_via", {"column", "table"}, &reader, &present));
  if (!present) return Status::OK();
  RoomVia via;
  via.path = reader.path();
  CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(reader, "column", true, &via.column));
  CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(reader, "table", true, &via.table));
  *out = std::move(via);
  return Status::OK();
}

Status ReadTable(YamlReader& reader, SourceType type, TableMapping* table) {
  table->path = reader.path();
  CRBRIDGE_RETURN_IF_ERROR(reader.ExpectKeys(
      {"name", "source", "room_column", "room_members", "room_via", "writable", "columns", "exclude"}));
  CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(reader, "name", true, &table->name));
  if (table->name.starts_with("crsql_")) return reader.ErrorAt("name", "names starting with crsql_ belong to cr-sqlite");
  std::string source;
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadString("source", false, &source));
  if (source.empty()) source = table->name;
  CRBRIDGE_RETURN_IF_ERROR(ReadSourceTable(reader, "source", source, type, &table->source_schema, &table->source_table));
  std::string room_column;
  CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(reader, "room_column", false, &room_column));
  if (!room_column.empty()) table->room_column = room_column;
  CRBRIDGE_RETURN_IF_ERROR(ReadRoomMembers(reader, type, &table->room_members));
  CRBRIDGE_RETURN_IF_ERROR(ReadRoomVia(reader, &table->room_via));
  const int kinds = table->room_column.has_value() + table->room_members.has_value() + table->room_via.has_value();
  if (kinds > 1) {
    return reader.ErrorAt(table->room_via ? "room_via" : "room_members",
                          "a table has at most one of room_column, room_members and room_via");
  }
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadBool("writable", &table->writable));
  CRBRIDGE_RETURN_IF_ERROR(ReadColumnList(reader, "columns", true, &table->columns));
  std::vector<ColumnMapping> excluded;
  CRBRIDGE_RETURN_IF_ERROR(ReadColumnList(reader, "exclude", false, &excluded));
  for (const ColumnMapping& column : excluded) {
    for (const ColumnMapping& listed : table->columns) {
      if (listed.source == column.source) {
        return reader.ErrorAt("exclude", "column " + column.source + " is both listed in columns and excluded");
      }
    }
    table->exclude.push_back(column.source);
  }
  return Status::OK();
}

Status ReadTables(YamlReader& root, SourceType type, std::vector<TableMapping>* tables) {
  const Status read = root.ReadSequence("tables", [&](const YAML::Node& node, const std::string& path) -> Status {
    YamlReader reader = root.Child(node, path);
    if (!node.IsMap()) return reader.ErrorAtNode(node, path, "expected a table: a mapping with at least a name");
    TableMapping table;
    CRBRIDGE_RETURN_IF_ERROR(ReadTable(reader, type, &table));
    for (const TableMapping& seen : *tables) {
      if (seen.name == table.name) return reader.ErrorAt("name", "table " + table.name + " is mapped twice");
    }
    tables->push_back(std::move(table));
    return Status::OK();
  });
  if (!read.ok()) return read;
  if (tables->empty()) return root.ErrorAt("tables", "at least one table must be mapped");
  return Status::OK();
}

Status ReadKafka(YamlReader& root, std::optional<KafkaConfig>* kafka) {
  YamlReader reader;
  bool present = false;
  CRBRIDGE_RETURN_IF_ERROR(
      root.ReadSection("kafka", {"brokers", "topic", "topic_per_table", "max_backlog_events"}, &reader, &present));
  if (!present) return Status::OK();
  KafkaConfig result;
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadString("brokers", true, &result.brokers));
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadString("topic", false, &result.topic));
  if (result.topic.empty()) return reader.ErrorAt("topic", "must not be empty");
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadBool("topic_per_table", &result.topic_per_table));
  CRBRIDGE_RETURN_IF_ERROR(
      reader.ReadInteger("max_backlog_events", false, 1000, int64_t{1} << 40, &result.max_backlog_events));
  *kafka = std::move(result);
  return Status::OK();
}

Status ReadLog(YamlReader& root, LogConfig* log) {
  YamlReader reader;
  bool present = false;
  CRBRIDGE_RETURN_IF_ERROR(root.ReadSection("log", {"level"}, &reader, &present));
  if (!present) return Status::OK();
  static constexpr LogLevel kLevels[] = {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError};
  size_t level = 1;
  CRBRIDGE_RETURN_IF_ERROR(reader.ReadChoice("level", false, {"debug", "info", "warn", "error"}, &level));
  log->level = kLevels[level];
  return Status::OK();
}

// Each room_via names another mapped table, and no chain of them loops.
Status CheckRoomVia(const Config& config) {
  std::map<std::string, const TableMapping*> by_name;
  for (const TableMapping& table : config.tables) by_name[table.name] = &table;
  for (const TableMapping& table : config.tables) {
    if (!table.room_via) continue;
    const std::string at = table.room_via->path + ".table";
    const auto target = by_name.find(table.room_via->table);
    if (target == by_name.end()) {
      return config.ErrorAt(at, "room_via names " + table.room_via->table + ", which is not a mapped table");
    }
    // The chain ends at a table with rooms of another kind, or comes back
    // here; a loop that does not pass here is reported for its own tables.
    std::string chain = table.name;
    const TableMapping* next = target->second;
    for (size_t steps = 0; steps <= config.tables.size(); ++steps) {
      chain += " -> " + next->name;
      if (next == &table) return config.ErrorAt(at, "room_via chains loop: " + chain);
      if (!next->room_via) break;
      const auto further = by_name.find(next->room_via->table);
      if (further == by_name.end()) break;
      next = further->second;
    }
  }
  return Status::OK();
}

}  // namespace

std::string_view SourceTypeName(SourceType type) {
  return type == SourceType::kPostgres ? "postgres" : "mysql";
}

std::string TableMapping::QualifiedSource() const {
  return source_schema.empty() ? source_table : source_schema + "." + source_table;
}

Status Config::ErrorAt(const std::string& path, std::string_view message) const {
  std::string key = path;
  while (!positions.contains(key) && !key.empty()) {
    const size_t cut = key.find_last_of(".[");
    key = cut == std::string::npos ? "" : key.substr(0, cut);
  }
  std::string out = file;
  if (const auto it = positions.find(key); it != positions.end()) {
    out.append(":").append(std::to_string(it->second.line)).append(":").append(std::to_string(it->second.column));
  }
  out.append(": ").append(path).append(": ").append(message);
  return Status::InvalidArgument(out);
}

Status ParseConfig(std::string_view yaml_text, const std::string& file_name, Config* config) {
  YAML::Node document;
  try {
    document = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    return Status::InvalidArgument(FormatConfigError(file_name, e.mark, "", "YAML syntax error: " + e.msg));
  }
  if (document.IsNull()) {
    return Status::InvalidArgument(file_name + ": the file is empty; it needs at least a source section");
  }

  Config result;
  result.file = file_name;
  YamlReader root(result.file, document, "", &result.positions);
  CRBRIDGE_RETURN_IF_ERROR(root.ExpectMap());
  CRBRIDGE_RETURN_IF_ERROR(root.ExpectKeys(
      {"source", "metadata_schema", "server", "schema_name", "auth", "tables", "kafka", "log"}));
  CRBRIDGE_RETURN_IF_ERROR(ReadSource(root, &result.source));
  CRBRIDGE_RETURN_IF_ERROR(ReadIdentifier(root, "metadata_schema", false, &result.metadata_schema));
  CRBRIDGE_RETURN_IF_ERROR(ReadServer(root, &result.server));
  CRBRIDGE_RETURN_IF_ERROR(root.ReadString("schema_name", true, &result.schema_name));
  if (result.schema_name.empty()) return root.ErrorAt("schema_name", "must not be empty");
  CRBRIDGE_RETURN_IF_ERROR(ReadAuth(root, &result.auth));
  CRBRIDGE_RETURN_IF_ERROR(ReadTables(root, result.source.type, &result.tables));
  CRBRIDGE_RETURN_IF_ERROR(ReadKafka(root, &result.kafka));
  CRBRIDGE_RETURN_IF_ERROR(ReadLog(root, &result.log));
  CRBRIDGE_RETURN_IF_ERROR(CheckRoomVia(result));
  *config = std::move(result);
  return Status::OK();
}

Status LoadConfigFile(const std::string& path, Config* config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": cannot read: " + std::strerror(errno));
  return ParseConfig(text.str(), path, config);
}

}  // namespace crbridge
