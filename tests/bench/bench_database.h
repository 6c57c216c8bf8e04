// BenchDatabase: the database a capture or merge benchmark runs against,
// Postgres, MariaDB or MySQL (`--database postgres|mariadb|mysql`), on the throwaway
// server of TestDatabases: a new database with the table
// items(id bigint, a text, b bigint, c double, d boolean), the app's
// connection to it, and crbridge's checked config mapping it. Each program
// calls TestDatabases::Get().TearDown() before it returns (dbfixture's
// watcher removes the servers when it exits otherwise). Test-thread only.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "bench_result.h"

#include "crbridge/server/core/config_check.h"
#include "crbridge/server/dialects.h"
#include "databases/test_databases.h"
#include "todo_app/todo_app_database.h"

namespace crbridge {

// The server kind named by `--database` (exits on other names), with the
// settings its server starts with for benchmarks: MariaDB and MySQL do not
// flush their redo log at each commit (Postgres' fixture runs with
// fsync=off), MySQL does not sync its binary log at each commit either
// (MariaDB's default), and both get a buffer pool of 256 MB instead of the
// fixture's 64 MB, so that no database waits for the disk.
inline testing::ServerKind BenchServerKind(const std::string& name) {
  if (name == "postgres") return testing::ServerKind::kPostgres;
  const std::string innodb = "--innodb-flush-log-at-trx-commit=2 --innodb-buffer-pool-size=256M";
  if (name == "mariadb") {
    setenv("DBFIXTURE_SERVER_OPTIONS", innodb.c_str(), 1);
    return testing::ServerKind::kMariaDb;
  }
  if (name == "mysql") {
    setenv("DBFIXTURE_SERVER_OPTIONS", (innodb + " --sync-binlog=0").c_str(), 1);
    return testing::ServerKind::kMySql;
  }
  std::fprintf(stderr, "--database must be postgres, mariadb or mysql, not %s\n", name.c_str());
  std::exit(2);
}

inline const char* ServerName(testing::ServerKind kind) {
  switch (kind) {
    case testing::ServerKind::kPostgres: return "PostgreSQL 15";
    case testing::ServerKind::kMariaDb: return "MariaDB 10.11";
    case testing::ServerKind::kMySql: return "MySQL 9.7";
  }
  return "";
}

struct BenchDatabase {
  explicit BenchDatabase(testing::ServerKind kind) : app(kind) {
    app.Sql("CREATE TABLE items (id bigint PRIMARY KEY, a text, b bigint, c double precision, d boolean)");
    const std::string source = kind == testing::ServerKind::kPostgres
                                   ? "  type: postgres\n  url: postgresql://x\n  slot: bench\n"
                                   : "  type: mysql\n  url: mysql://x\n  server_id: 4242\n";
    if (!ParseConfig("source:\n" + source + "metadata_schema: " + app.metadata() + "\nschema_name: bench\ntables:\n" +
                         "  - name: items\n",
                     "bench.yaml", &config)
             .ok()) {
      std::exit(1);
    }
    config.source.url = app.url;
    const auto database = NewSourceDatabase(config.source);
    const Status checked = CheckConfig(config, *database, &check);
    if (!checked.ok() || !check.problems.empty()) {
      std::fprintf(stderr, "the bench config does not check: %s\n",
                   (checked.ok() ? check.problems.front() : checked).ToString().c_str());
      std::exit(1);
    }
  }

  testing::ServerKind kind() const { return app.kind(); }

  testing::TodoAppDatabase app;
  Config config;
  ConfigCheck check;
};

// `rows` of items from `first` on as one multi-row INSERT's VALUES list.
inline std::string ItemValues(int64_t first, int64_t rows, const std::string& title) {
  std::string values;
  for (int64_t i = first; i < first + rows; ++i) {
    values += (i > first ? ",(" : "(") + std::to_string(i) + ",'" + title + " " + std::to_string(i) + "'," +
              std::to_string(i) + "," + std::to_string(i) + ".25," + (i % 2 ? "true" : "false") + ")";
  }
  return values;
}

// Postgres: COPY of rows 1..rows into `table` (with items' columns), the
// fastest way in.
inline BenchResult CopyItems(const std::string& url, const std::string& table, int64_t rows) {
  BenchResult copy{"limit: COPY (rows)", static_cast<size_t>(rows), 0, {}};
  pqxx::connection conn(url);
  const auto start = std::chrono::steady_clock::now();
  pqxx::work tx(conn);
  pqxx::stream_to out(tx, table, std::vector<std::string>{"id", "a", "b", "c", "d"});
  for (int64_t i = 1; i <= rows; ++i) {
    out << std::make_tuple(i, "title " + std::to_string(i), i, static_cast<double>(i) + 0.25, i % 2 == 1);
  }
  out.complete();
  tx.commit();
  copy.seconds = MillisecondsSince(start) / 1000;
  return copy;
}

}  // namespace crbridge
