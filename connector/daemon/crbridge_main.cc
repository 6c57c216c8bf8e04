// The crbridge command line: run the daemon, check a config, print the
// client schema, drop what crbridge created in the database, print the
// change events in Kafka, print the version.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <iostream>

#include "crbridge/connector/daemon/daemon.h"
#include "crbridge/connector/kafka/kafka_tail.h"
#include "crbridge/connector/ops/live_check.h"
#include "crbridge/connector/daemon/capture_factory.h"
#include "crbridge/mappings/client_schema.h"
#include "crbridge/mappings/config.h"
#include "crbridge/mappings/type_mapping.h"
#include "crbridge/server/core/mapping_changes.h"
#include "crbridge/server/dialects.h"

namespace {

// Exit codes: 0 success, 1 a runtime failure (such as an unreachable
// database), 2 bad usage or a bad config.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr std::chrono::seconds kCheckTimeout{10};

int LoadOrReport(const std::string& path, crbridge::Config* config) {
  if (crbridge::Status s = crbridge::LoadConfigFile(path, config); !s.ok()) {
    std::cerr << "crbridge: " << s.message() << "\n";
    return kExitUsage;
  }
  return 0;
}

// Checks the config against its database; prints what is wrong and
// returns the exit code, 0 when all is well.
int LiveCheckOrReport(const crbridge::Config& config, crbridge::ServerInfo* server, crbridge::ConfigCheck* check) {
  const crbridge::Status status = crbridge::LiveCheck(config, kCheckTimeout, server, check);
  if (!status.ok()) {
    std::cerr << "crbridge: " << config.file << ": cannot check against the database: " << status.message() << "\n";
    return kExitFailure;
  }
  for (const crbridge::Status& problem : check->problems) std::cerr << "crbridge: " << problem.message() << "\n";
  return check->problems.empty() ? 0 : kExitUsage;
}

// App rows capture could not map do not reach clients: each is listed,
// and the check fails until the app changes or deletes them.
int CheckRejectedRows(const crbridge::Config& config) {
  std::vector<crbridge::RejectedRow> rows;
  const crbridge::Status s = crbridge::NewSourceDatabase(config.source)->RejectedRows(config.metadata_schema, &rows);
  if (!s.ok()) {
    std::cerr << "crbridge: " << config.file << ": cannot read the rejected rows: " << s.message() << "\n";
    return kExitFailure;
  }
  for (const crbridge::RejectedRow& row : rows) {
    std::cerr << "crbridge: rejected row " << crbridge::DescribeRejectedRow(row) << " (source position "
              << row.position << ")\n";
  }
  if (rows.empty()) return 0;
  std::cerr << "crbridge: " << rows.size() << " app row(s) capture could not map do not reach clients; "
            << "they clear when the app changes them to values that map, or deletes them\n";
  return kExitFailure;
}

int Check(const crbridge::Config& config, bool offline) {
  if (offline) {
    std::cout << config.file << ": ok (the file only; not checked against the database)\n";
    return 0;
  }
  crbridge::ServerInfo server;
  crbridge::ConfigCheck check;
  if (const int code = LiveCheckOrReport(config, &server, &check); code != 0) return code;
  // What the next start changes in the shadow store (docs/server-side.md,
  // "Mapping changes"), and what it would refuse, at its config key.
  std::vector<crbridge::RecordedTable> recorded;
  const auto source = crbridge::NewSourceDatabase(config.source);
  if (const crbridge::Status s = source->RecordedTables(config.metadata_schema, &recorded); !s.ok()) {
    std::cerr << "crbridge: " << config.file << ": cannot read the recorded mappings: " << s.message() << "\n";
    return kExitFailure;
  }
  const crbridge::MappingChanges plan = crbridge::PlanMappingChanges(config, recorded, check.tables);
  for (const crbridge::Status& refusal : plan.refusals) std::cerr << "crbridge: " << refusal.message() << "\n";
  if (!plan.refusals.empty()) return kExitUsage;
  std::cout << config.file << ": ok (" << server.product << " " << server.version << "; tables:";
  for (const crbridge::ResolvedTable& table : check.tables) {
    std::cout << " " << table.mapping->name << " (" << table.columns.size() << " columns)";
  }
  std::cout << ")\n";
  for (const std::string& change : plan.changes) std::cout << "next start: " << change << "\n";
  return CheckRejectedRows(config);
}

// The column holding the rooms of `table`'s rows, and the table it is in:
// its room column, or the room column of its membership table (mapped
// too); nullptr for tables without rooms of their own (room_via takes the
// referenced table's).
const crbridge::ResolvedColumn* RoomsColumn(const crbridge::ConfigCheck& check, const crbridge::ResolvedTable& table,
                                            const crbridge::ResolvedTable** owner) {
  *owner = &table;
  if (table.room_column) return &table.columns[*table.room_column];
  if (!table.mapping->room_members) return nullptr;
  const crbridge::RoomMembers& members = *table.mapping->room_members;
  for (const crbridge::ResolvedTable& holder : check.tables) {
    if (holder.mapping->source_schema != members.source_schema ||
        holder.mapping->source_table != members.source_table) {
      continue;
    }
    *owner = &holder;
    for (const crbridge::ResolvedColumn& column : holder.columns) {
      if (column.server.name == members.room) return &column;
    }
  }
  return nullptr;
}

// A client joins one room; its id must be able to match the column holding
// the rooms of every table that has one (room_column, or room_members' room),
// or that client could never see a row there.
int CheckRoom(const crbridge::Config& config, const crbridge::ConfigCheck& check, const std::string& room) {
  int code = 0;
  for (const crbridge::ResolvedTable& table : check.tables) {
    const crbridge::ResolvedTable* owner = nullptr;
    const crbridge::ResolvedColumn* rooms = RoomsColumn(check, table, &owner);
    if (rooms == nullptr) continue;
    // The room id, read as a value of the column, must be one the column holds.
    const crbridge::ResolvedColumn& column = *rooms;
    crbridge::Value value;
    crbridge::ServerParameter parameter;
    const bool matches =
        crbridge::FromServerText(column.type, room, &value).ok() &&
        crbridge::ToServerParameter(config.source.type, column.type, value, table.mapping->name, &parameter).ok();
    if (!matches) {
      std::cerr << "crbridge: room \"" << room << "\" can never match " << owner->mapping->name << "." << column.name
                << " (" << column.type.server_type << ")\n";
      code = kExitUsage;
    }
  }
  return code;
}

int Schema(const crbridge::Config& config, const std::string& room) {
  crbridge::ServerInfo server;
  crbridge::ConfigCheck check;
  if (const int code = LiveCheckOrReport(config, &server, &check); code != 0) return code;
  if (!room.empty()) {
    if (const int code = CheckRoom(config, check, room); code != 0) return code;
  }
  const std::string sql = crbridge::ClientSchemaSql(check.tables);
  std::cout << sql;
  std::cerr << "schema " << config.schema_name << " version " << crbridge::SchemaVersion(sql)
            << " (clients apply the text on stdout byte for byte, e.g. with automigrateTo)\n";
  return 0;
}

int Drop(const crbridge::Config& config, bool confirmed) {
  const bool postgres = config.source.type == crbridge::SourceType::kPostgres;
  const std::string what = postgres ? "the replication slot " + config.source.slot + ", the publication " +
                                          config.source.publication + " and the schema " + config.metadata_schema
                                    : "the database " + config.metadata_schema;
  if (!confirmed) {
    std::cerr << "crbridge: this drops " << what << "; every client must then sync from scratch. "
              << "Run again with --yes to do it.\n";
    return kExitUsage;
  }
  const crbridge::Status s = crbridge::DropCapture(config);
  if (!s.ok()) {
    std::cerr << "crbridge: " << config.file << ": " << s.ToString() << "\n";
    return s.code() == crbridge::Status::Code::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  std::cout << "dropped " << what << "\n";
  return 0;
}

// Set by SIGINT and SIGTERM while tail runs: it stops between two waits.
std::atomic<bool> tail_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

int Tail(const crbridge::Config& config, const crbridge::TailOptions& options) {
  if (!config.kafka) {
    std::cerr << "crbridge: " << config.file << ": no kafka section: tail reads the events crbridge publishes there\n";
    return kExitUsage;
  }
  std::signal(SIGINT, [](int) { tail_stop.store(true); });
  std::signal(SIGTERM, [](int) { tail_stop.store(true); });
  int64_t printed = 0;
  const crbridge::Status status = crbridge::TailKafka(*config.kafka, options, tail_stop, std::cout, std::cerr, &printed);
  if (!status.ok()) {
    std::cerr << "crbridge: " << config.file << ": " << status.message() << "\n";
    return status.code() == crbridge::Status::Code::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  if (options.max_events > 0 && printed < options.max_events && !tail_stop.load()) {
    std::cerr << "crbridge: tail: " << printed << " of " << options.max_events << " events, then none for "
              << options.idle_timeout.count() << " ms\n";
    return kExitFailure;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"crbridge: makes a Postgres or MySQL/MariaDB database a sync peer for cr-sqlite clients"};
  app.require_subcommand(1);

  auto* version = app.add_subcommand("version", "Print the version and exit");

  std::string config_path;
  auto* run = app.add_subcommand("run", "Run the daemon until SIGTERM or SIGINT");
  run->add_option("-c,--config", config_path, "The YAML config file")->required();

  bool offline = false;
  auto* check = app.add_subcommand("check", "Check a config file, and its mappings against the live database");
  check->add_option("-c,--config", config_path, "The YAML config file")->required();
  check->add_flag("--offline", offline, "Check the file only, without connecting to the database");

  std::string room;
  auto* schema = app.add_subcommand("schema", "Print the SQLite schema clients apply, and its schema version");
  schema->add_option("-c,--config", config_path, "The YAML config file")->required();
  schema->add_option("--room", room,
                     "Also check that a client of this room can match the room column of every table");

  bool confirmed = false;
  auto* drop = app.add_subcommand(
      "drop",
      "Remove what crbridge created in the database: its shadow schema or database (every clock), and on Postgres "
      "its replication slot and publication");
  drop->add_option("-c,--config", config_path, "The YAML config file")->required();
  drop->add_flag("--yes", confirmed, "Really drop: clients must then sync from scratch");

  crbridge::TailOptions tail_options;
  int64_t tail_timeout_ms = 0;
  auto* tail = app.add_subcommand("tail", "Print the change events crbridge publishes to Kafka, one line each");
  tail->add_option("-c,--config", config_path, "The YAML config file (its kafka section)")->required();
  tail->add_flag("--from-beginning", tail_options.from_beginning,
                 "Print every event still in Kafka first, not only new ones");
  tail->add_option("--max", tail_options.max_events, "Stop after this many events (exit 1 if the timeout comes first)")
      ->check(CLI::PositiveNumber);
  tail->add_option("--timeout-ms", tail_timeout_ms, "Stop after this many milliseconds without an event")
      ->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  if (version->parsed()) {
    std::cout << "crbridge " << CRBRIDGE_VERSION << "\n";
    return 0;
  }

  crbridge::Config config;
  if (int code = LoadOrReport(config_path, &config); code != 0) return code;
  if (check->parsed()) return Check(config, offline);
  if (schema->parsed()) return Schema(config, room);
  if (drop->parsed()) return Drop(config, confirmed);
  if (tail->parsed()) {
    tail_options.idle_timeout = std::chrono::milliseconds(tail_timeout_ms);
    return Tail(config, tail_options);
  }

  const crbridge::Status status = crbridge::RunDaemon(config);
  if (status.code() == crbridge::Status::Code::kInvalidArgument) return kExitUsage;
  return status.ok() ? 0 : kExitFailure;
}
