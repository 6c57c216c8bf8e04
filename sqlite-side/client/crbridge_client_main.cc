// crbridge-client: a local SQLite file kept in sync with crbridge (or any
// vlcn WebSocket server) through the native CRR layer, without Node.js or
// the Rust extension: init applies the schema, migrate moves to a new
// version of it, exec reads and writes, sync exchanges changes.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "crbridge/sqlite/client_database.h"
#include "crbridge/sqlite/schema_version.h"
#include "crbridge/sqlite/sync_client.h"

namespace {

// Exit codes: 0 success, 1 a failure (the file, the server, a refusal),
// 2 bad usage.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

std::atomic<bool> stop_requested{false};
void RequestStop(int) { stop_requested = true; }

int Fail(const crbridge::Status& status) {
  std::cerr << "crbridge-client: " << status.message() << "\n";
  return kExitFailure;
}

// init, or migrate when `migrate`.
int ApplySchema(const std::string& path, const std::string& schema_path, std::string schema_name, bool migrate) {
  std::ifstream in(schema_path, std::ios::binary);
  if (!in) return Fail(crbridge::Status::IOError(schema_path + ": cannot read the schema file"));
  const std::string schema((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (schema_name.empty()) schema_name = std::filesystem::path(schema_path).stem().string();
  std::unique_ptr<crbridge::ClientDatabase> db;
  if (const crbridge::Status s = crbridge::ClientDatabase::Open(path, &db); !s.ok()) return Fail(s);
  bool applied = false;
  const crbridge::Status s = migrate ? db->Migrate(schema_name, schema, &applied) : db->Init(schema_name, schema, &applied);
  if (!s.ok()) {
    return Fail(crbridge::Status::InvalidArgument(path + ": " + s.message()));
  }
  std::cerr << path << ": " << (applied ? "applied" : "already has") << " schema " << schema_name << " version "
            << crbridge::SchemaVersion(schema) << "\n";
  return 0;
}

int Exec(const std::string& path, const std::string& sql) {
  std::unique_ptr<crbridge::ClientDatabase> db;
  if (const crbridge::Status s = crbridge::ClientDatabase::Open(path, &db); !s.ok()) return Fail(s);
  // Rows as the sqlite3 shell prints them by default: values separated by
  // "|", NULL as nothing.
  const crbridge::Status s = db->Exec(sql, [](const std::vector<std::optional<std::string>>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += (i > 0 ? "|" : "") + row[i].value_or("");
    std::cout << line << "\n";
  });
  return s.ok() ? 0 : Fail(s);
}

int Sync(const std::string& path, crbridge::SyncOptions options) {
  std::unique_ptr<crbridge::ClientDatabase> db;
  if (const crbridge::Status s = crbridge::ClientDatabase::Open(path, &db); !s.ok()) return Fail(s);
  options.notice = [](const std::string& line) { std::cerr << "crbridge-client: " << line << "\n"; };
  struct sigaction action {};
  action.sa_handler = RequestStop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  crbridge::SyncClient client(db.get(), std::move(options));
  const crbridge::Status s = client.Run(stop_requested);
  return s.ok() ? 0 : Fail(s);
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"crbridge-client: keeps a local SQLite file in sync with crbridge over the vlcn WebSocket protocol"};
  app.require_subcommand(1);
  std::string db_path;

  std::string schema_path;
  std::string schema_name;
  auto* init = app.add_subcommand(
      "init",
      "Apply a schema (as `crbridge schema` prints it) to the file and record its name and version, as a vlcn app's "
      "automigrateTo does. Running it again with the same schema does nothing; another schema is an error "
      "(migrate moves to it).");
  auto* migrate = app.add_subcommand(
      "migrate",
      "Move the file to another version of its schema (as `crbridge schema` prints it) as a vlcn app's "
      "automigrateTo does: new tables are made, columns added and dropped with crsql_begin_alter and "
      "crsql_commit_alter, indexes follow; a new primary key is refused. The next sync announces the new version "
      "and receives what it adds, for the rows the file already has too. On a file without a schema, as init.");
  for (CLI::App* command : {init, migrate}) {
    command->add_option("--db", db_path, "The SQLite file (created if missing)")->required();
    command->add_option("--schema", schema_path, "The schema file")->required();
    command->add_option("--schema-name", schema_name,
                        "The schema name to announce; it must be the server's schema_name (default: the schema "
                        "file's name without its extension)");
  }

  crbridge::SyncOptions options;
  bool once = false;
  bool follow = false;
  int64_t idle_ms = options.idle.count();
  auto* sync = app.add_subcommand(
      "sync",
      "Exchange changes with the server. --follow (the default) keeps syncing until SIGINT or SIGTERM, sending "
      "writes made by any process to the file as they commit, and reconnects with backoff. --once exits 0 once the "
      "server has confirmed every local change (the protocol has no acknowledgement: the client reconnects until "
      "the position the server answers with, what it has durably applied from this file, reaches the last local "
      "change) and then sent nothing for --idle-ms; it exits 1 when the server is unreachable, refuses the "
      "connection or a change, or sends what does not decode.");
  sync->add_option("--db", db_path, "The SQLite file (after init)")->required();
  sync->add_option("--url", options.url, "The server's sync url, ws://HOST:PORT/PATH")->required();
  sync->add_option("--room", options.room, "The room to sync")->required();
  sync->add_option("--token", options.token,
                   "The token for servers with auth (default: the environment variable CRBRIDGE_CLIENT_TOKEN)");
  auto* once_flag = sync->add_flag("--once", once, "Sync until confirmed and idle, then exit");
  sync->add_flag("--follow", follow, "Keep syncing until SIGINT or SIGTERM (the default)")->excludes(once_flag);
  sync->add_option("--idle-ms", idle_ms, "--once: how long the server must stay quiet at the end")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{600000}));
  sync->add_option("--max-changes-per-message", options.max_changes_per_message, "Changes per message sent")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{50000}));

  std::string sql;
  auto* exec = app.add_subcommand(
      "exec", "Run SQL on the file, writes recorded for sync; prints result rows one per line, values separated by |");
  exec->add_option("--db", db_path, "The SQLite file")->required();
  exec->add_option("sql", sql, "The SQL statements")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  if (init->parsed() || migrate->parsed()) return ApplySchema(db_path, schema_path, schema_name, migrate->parsed());
  if (exec->parsed()) return Exec(db_path, sql);
  if (!options.token) {
    if (const char* token = std::getenv("CRBRIDGE_CLIENT_TOKEN"); token != nullptr && *token != '\0') options.token = token;
  }
  options.mode = once ? crbridge::SyncOptions::Mode::kOnce : crbridge::SyncOptions::Mode::kFollow;
  options.idle = std::chrono::milliseconds(idle_ms);
  return Sync(db_path, std::move(options));
}
