// PostgresCapture against the real Postgres fixture: the initial snapshot
// from the slot's exported snapshot, streaming app writes into the clocks
// (only really changed columns, TOASTed values, deletes, key changes,
// truncates), no echo of crbridge's own merges (P4), exact resume after a
// restart, a table added later, the race of app writes with client merges
// (P1 and clocks matching values), and `drop`.
#include "crbridge/connector/postgres_capture.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <chrono>
#include <functional>
#include <random>
#include <thread>

#include "crbridge/sqlite/packed_pk.h"
#include "sync_peers.h"
#include "test_databases.h"
#include "todo_app.h"

namespace crbridge::testing {
namespace {

// Waits for `done` to hold, up to a generous bound (a stuck pipeline fails
// the test; no timing is asserted).
// Until capture has set up the shadow schema, queries of it fail: not yet.
bool Eventually(const std::function<bool()>& done) {
  const auto holds = [&] {
    try {
      return done();
    } catch (const pqxx::sql_error&) {
      return false;
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (holds()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return holds();
}

struct App {
  std::string url;
  std::unique_ptr<MappedApp> mapped;
  pqxx::connection conn;

  explicit App(const std::string& yaml = kTodoAppConfig)
      : url(TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql")), conn(url) {
    Remap(yaml);
  }

  // The same database under another config (a restart after an edit).
  void Remap(const std::string& yaml) {
    mapped = MapTodoApp(url, yaml);
    // Slots are cluster-wide: one per test database.
    mapped->config.source.slot = "crbridge_" + std::string(conn.dbname());
  }

  void Sql(const std::string& sql) {
    pqxx::work tx(conn);
    tx.exec0(sql);
    tx.commit();
  }
  std::string One(const std::string& sql) {
    const pqxx::row row = pqxx::nontransaction(conn).exec1(sql);
    return row[0].is_null() ? "NULL" : row[0].as<std::string>();
  }
  // "cl versions sites" of a todo's clock, "none" without one.
  std::string Clock(const std::string& id) {
    const pqxx::result r = pqxx::nontransaction(conn).exec_params(
        "SELECT __cl || ' ' || __col_versions::text || ' ' || __col_sites::text FROM crbridge.todos__clock WHERE id = $1",
        id);
    return r.empty() ? "none" : r[0][0].as<std::string>();
  }
  bool ClockIs(const std::string& id, const std::string& expected) {
    return Eventually([&] { return Clock(id) == expected; });
  }
};

#define EXPECT_STOPS_CLEANLY(capture)            \
  do {                                           \
    const Status stopped = (capture).Stop();     \
    EXPECT_TRUE(stopped.ok()) << stopped.ToString(); \
  } while (false)

// PostgresCapture::Run on its own thread.
class RunningCapture {
 public:
  RunningCapture(App& app, Metrics& metrics, CaptureOptions options = {})
      : capture_(app.mapped->config, app.mapped->check.tables, options, metrics),
        thread_([this](std::stop_token stop) { result_ = capture_.Run(stop); }) {}

  Status Stop() {
    thread_.request_stop();
    thread_.join();
    return result_;
  }

 private:
  PostgresCapture capture_;
  Status result_;
  std::jthread thread_;
};

TEST(PostgresCaptureTest, ExistingRowsGetClocksThenAppWritesStream) {
  App app;
  app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries');"
          "INSERT INTO todos (id, list_id, title) SELECT 'old' || g, 'l1', 'row ' || g FROM generate_series(1, 2500) g");
  Metrics metrics;
  CaptureOptions options;
  options.snapshot_batch_rows = 1000;  // several batches
  options.status_interval = std::chrono::milliseconds(50);
  RunningCapture capture(app, metrics, options);
  ASSERT_TRUE(Eventually([&] { return app.One("SELECT count(*) FROM crbridge.todos__clock") == "2500"; }));
  EXPECT_EQ(app.Clock("old7"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  EXPECT_NE(metrics.Render().find("crbridge_snapshot_rows_done{table=\"todos\"} 2500"), std::string::npos);

  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk')");
  EXPECT_TRUE(app.ClockIs("t1", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  // done changes; title is written with the value it had: not a change.
  app.Sql("UPDATE todos SET done = true, title = 'milk' WHERE id = 't1'");
  EXPECT_TRUE(app.ClockIs("t1", "1 {1,1,2,1,1} {0,0,0,0,0}"));
  // A column crbridge does not map changes nothing.
  app.Sql("UPDATE todos SET internal_note = 'x' WHERE id = 't1'");
  app.Sql("DELETE FROM todos WHERE id = 'old1'");
  EXPECT_TRUE(app.ClockIs("old1", "2 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_EQ(app.Clock("t1"), "1 {1,1,2,1,1} {0,0,0,0,0}");
  // A key change: the old row dies, the new one is born whole.
  app.Sql("UPDATE todos SET id = 'old2b' WHERE id = 'old2'");
  EXPECT_TRUE(app.ClockIs("old2b", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_TRUE(app.ClockIs("old2", "2 {1,1,1,1,1} {0,0,0,0,0}"));
  // The slot is confirmed past what the clocks hold.
  const std::string recorded = app.One("SELECT lsn FROM crbridge.capture");
  EXPECT_TRUE(Eventually([&] {
    return app.One("SELECT confirmed_flush_lsn - '0/0' >= " + recorded + " FROM pg_replication_slots") == "t";
  }));
  EXPECT_STOPS_CLEANLY(capture);
}

TEST(PostgresCaptureTest, AnUnchangedToastedValueIsNotAChange) {
  App app;
  app.Sql("ALTER TABLE todos ALTER COLUMN title SET STORAGE EXTERNAL");
  Metrics metrics;
  RunningCapture capture(app, metrics);
  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', repeat('long title ', 1000))");
  ASSERT_TRUE(app.ClockIs("t1", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  // pgoutput sends the title as "unchanged": it must not bump.
  app.Sql("UPDATE todos SET done = true WHERE id = 't1'");
  EXPECT_TRUE(app.ClockIs("t1", "1 {1,1,2,1,1} {0,0,0,0,0}"));
  app.Sql("UPDATE todos SET title = repeat('other title ', 1000) WHERE id = 't1'");
  EXPECT_TRUE(app.ClockIs("t1", "1 {1,2,2,1,1} {0,0,0,0,0}"));
  EXPECT_STOPS_CLEANLY(capture);
}

TEST(PostgresCaptureTest, ATruncateKillsEveryRow) {
  App app;
  Metrics metrics;
  RunningCapture capture(app, metrics);
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l1'), ('t2', 'l1')");
  ASSERT_TRUE(app.ClockIs("t2", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  app.Sql("TRUNCATE todos");
  EXPECT_TRUE(app.ClockIs("t1", "2 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_TRUE(app.ClockIs("t2", "2 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_STOPS_CLEANLY(capture);
}

Blob Key(const std::string& id) {
  const Value v = Value::Text(id);
  Blob pk;
  EXPECT_TRUE(EncodePackedPk(std::span(&v, 1), &pk).ok());
  return pk;
}

// P4: crbridge's own merges are not captured again.
TEST(PostgresCaptureTest, MergedClientWritesAreNotEchoed) {
  App app;
  Metrics metrics;
  RunningCapture capture(app, metrics);
  auto merge_writer = OpenClockStore(app.url, *app.mapped);
  auto store = std::make_unique<SyncStore>(app.mapped->config, app.mapped->check.tables, *merge_writer);
  SiteId client;
  client.fill(3);
  MergeReport report;
  ASSERT_TRUE(store
                  ->Merge(client,
                          {Change{"todos", Key("t1"), "list_id", Value::Text("l1"), 1, 1, std::nullopt, 1, 0},
                           Change{"todos", Key("t1"), "title", Value::Text("from a client"), 4, 1, std::nullopt, 1, 1}},
                          PeerVersion{1, 1}, &report)
                  .ok());
  const std::string merged = app.Clock("t1");
  // An app write after it is captured; once it is, the merge's transaction
  // (earlier in the WAL) has been read and skipped.
  app.Sql("INSERT INTO todo_lists (id) VALUES ('marker')");
  ASSERT_TRUE(Eventually([&] { return app.One("SELECT count(*) FROM crbridge.todo_lists__clock") == "1"; }));
  EXPECT_EQ(app.Clock("t1"), merged);
  EXPECT_EQ(app.One("SELECT __db_version FROM crbridge.todos__clock WHERE id = 't1'"), std::to_string(report.db_version));
  EXPECT_STOPS_CLEANLY(capture);
}

TEST(PostgresCaptureTest, ARestartResumesExactlyWhereItStopped) {
  App app;
  Metrics metrics;
  {
    RunningCapture capture(app, metrics);
    app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l1')");
    ASSERT_TRUE(app.ClockIs("t1", "1 {1,1,1,1,1} {0,0,0,0,0}"));
    EXPECT_STOPS_CLEANLY(capture);
  }
  // Written while crbridge is down: captured once, after the restart.
  app.Sql("UPDATE todos SET title = 'while down' WHERE id = 't1'");
  app.Sql("UPDATE todos SET done = true WHERE id = 't1'");
  for (int restart = 0; restart < 2; ++restart) {
    RunningCapture capture(app, metrics);
    app.Sql("INSERT INTO todo_lists (id) VALUES ('marker" + std::to_string(restart) + "')");
    ASSERT_TRUE(Eventually([&] {
      return app.One("SELECT count(*) FROM crbridge.todo_lists__clock") == std::to_string(restart + 1);
    }));
    EXPECT_EQ(app.Clock("t1"), "1 {1,2,2,1,1} {0,0,0,0,0}");
    EXPECT_STOPS_CLEANLY(capture);
  }
}

TEST(PostgresCaptureTest, ATableAddedLaterIsSnapshottedAlone) {
  App app("source:\n  type: postgres\n  url: postgresql://unused\nschema_name: todo_app\ntables:\n"
          "  - name: todo_lists\n    room_column: id\n");
  app.Sql("INSERT INTO todo_lists (id) VALUES ('l1'); INSERT INTO todos (id, list_id) VALUES ('t1', 'l1')");
  Metrics metrics;
  {
    RunningCapture capture(app, metrics);
    ASSERT_TRUE(Eventually([&] { return app.One("SELECT count(*) FROM crbridge.todo_lists__clock") == "1"; }));
    EXPECT_STOPS_CLEANLY(capture);
  }
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t2', 'l1'); UPDATE todo_lists SET name = 'renamed'");
  app.Remap(kTodoAppConfig);
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(Eventually([&] { return app.One("SELECT count(*) FROM crbridge.todos__clock") == "2"; }));
  EXPECT_EQ(app.Clock("t1"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  // The table mapped from the start kept streaming: one change, one bump.
  EXPECT_TRUE(Eventually(
      [&] { return app.One("SELECT __col_versions::text FROM crbridge.todo_lists__clock WHERE id = 'l1'") == "{2,1}"; }));
  app.Sql("UPDATE todos SET title = 'x' WHERE id = 't2'");
  EXPECT_TRUE(app.ClockIs("t2", "1 {1,2,1,1,1} {0,0,0,0,0}"));
  EXPECT_STOPS_CLEANLY(capture);
}

// design.md, "App write racing a client merge": app writers (plain SQL)
// and clients merging through the server hit the same few rows at once.
// Afterwards every client equals the server (P1): a clock that disagreed
// with its row would leave some client with a value the server lacks.
TEST(PostgresCaptureTest, AppWritesRacingClientMergesConverge) {
  App app;
  Metrics metrics;
  RunningCapture capture(app, metrics);
  Server server(app.url, kTodoAppConfig);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<Client>(server));

  // A failed assertion returns early: the writers' destructors stop them.
  std::vector<std::jthread> app_writers;
  for (int w = 0; w < 2; ++w) {
    app_writers.emplace_back([&, w](std::stop_token stop) {
      pqxx::connection conn(app.url);
      std::mt19937 random(100 + w);
      while (!stop.stop_requested()) {
        const std::string id = "'t" + std::to_string(random() % 5) + "'";
        std::string sql;
        switch (random() % 4) {
          case 0:
            sql = "INSERT INTO todos (id, list_id, title) VALUES (" + id + ", 'l" + std::to_string(random() % 2) +
                  "', 'app " + std::to_string(random() % 3) + "') ON CONFLICT DO NOTHING";
            break;
          case 1: sql = "UPDATE todos SET title = 'app " + std::to_string(random() % 3) + "' WHERE id = " + id; break;
          case 2:
            sql = "UPDATE todos SET done = NOT done, position = " + std::to_string(random() % 7) + ".5 WHERE id = " + id;
            break;
          default: sql = "DELETE FROM todos WHERE id = " + id;
        }
        pqxx::work tx(conn);
        tx.exec0(sql);
        tx.commit();
        std::this_thread::sleep_for(std::chrono::milliseconds(random() % 3));
      }
    });
  }

  std::mt19937 random(7);
  const char* const titles[] = {"'a'", "'b'", "''"};
  for (int round = 0; round < 150; ++round) {
    Client& c = *clients[random() % clients.size()];
    const std::string id = "'t" + std::to_string(random() % 5) + "'";
    switch (random() % 4) {
      case 0:
        c.Exec("INSERT OR IGNORE INTO todos (id, list_id, title) VALUES (" + id + ", 'l1', " + titles[random() % 3] + ")");
        break;
      case 1: c.Exec("UPDATE todos SET title = " + std::string(titles[random() % 3]) + " WHERE id = " + id); break;
      case 2: c.Exec("UPDATE todos SET done = 1 - done, position = " + std::to_string(random() % 7) + ".25 WHERE id = " + id); break;
      default: c.Exec("DELETE FROM todos WHERE id = " + id);
    }
    Client& syncing = *clients[random() % clients.size()];
    { const Status synced = syncing.Push(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
    { const Status synced = syncing.Pull(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
  }
  app_writers.clear();

  // Capture has caught up once a write made after everything is recorded.
  app.Sql("INSERT INTO todo_lists (id) VALUES ('done')");
  ASSERT_TRUE(Eventually([&] { return app.One("SELECT count(*) FROM crbridge.todo_lists__clock WHERE id = 'done'") == "1"; }));
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& c : clients) {
      { const Status synced = c->Push(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
      { const Status synced = c->Pull(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
    }
  }
  const auto expected = ServerTodos(server);
  for (auto& c : clients) EXPECT_EQ(c->Rows("todos", kTodoColumns), expected);
  EXPECT_STOPS_CLEANLY(capture);
}

TEST(PostgresCaptureTest, DropRemovesTheSlotPublicationAndClocks) {
  App app;
  Metrics metrics;
  {
    RunningCapture capture(app, metrics);
    app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l1')");
    ASSERT_TRUE(app.ClockIs("t1", "1 {1,1,1,1,1} {0,0,0,0,0}"));
    EXPECT_STOPS_CLEANLY(capture);
  }
  const Status dropped = PostgresCapture::Drop(app.mapped->config);
  ASSERT_TRUE(dropped.ok()) << dropped.ToString();
  EXPECT_EQ(app.One("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + app.mapped->config.source.slot + "'"), "0");
  EXPECT_EQ(app.One("SELECT count(*) FROM pg_publication"), "0");
  EXPECT_EQ(app.One("SELECT count(*) FROM pg_namespace WHERE nspname = 'crbridge'"), "0");
  EXPECT_EQ(app.One("SELECT count(*) FROM todos"), "1") << "the app's data stays";
}

}  // namespace
}  // namespace crbridge::testing
