// Capture (NewCapture: PostgresCapture, MysqlCapture) against the real
// Postgres and MariaDB fixtures; the tests of both databases run on each:
// the initial snapshot matched to the change stream, streaming app writes
// into the clocks (only really changed columns, deletes, key changes,
// truncates), no echo of crbridge's own merges (P4), exact resume after a
// restart (P7; MariaDB and MySQL by GTID), a table added later, the race of
// app writes with client merges (P1 and clocks matching values), rows with a
// value that does not map (rejected, the rest flowing on). Postgres only:
// NaN and the infinities, TOASTed values and `drop`. MariaDB and MySQL only:
// mysql_capture_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <random>
#include <thread>

#include "capture_harness.h"
#include "crbridge/connector/daemon/capture_factory.h"
#include "crbridge/connector/daemon/capture_service.h"
#include "crbridge/connector/ops/rejected_rows.h"
#include "crbridge/connector/postgres/postgres_capture.h"
#include "crbridge/server/dialects.h"
#include "crbridge/sqlite/packed_pk.h"
#include "databases/test_databases.h"
#include "peers/sync_peers.h"
#include "todo_app/todo_app.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
using namespace crbridge::postgres;  // the dialect under test
namespace {

class CaptureTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(CaptureTest, ExistingRowsGetClocksThenAppWritesStream) {
  App app(GetParam());
  AddOldTodos(app, 2500);
  Metrics metrics;
  CaptureOptions options;
  options.snapshot_batch_rows = 1000;  // several batches
  options.status_interval = std::chrono::milliseconds(50);
  RunningCapture capture(app, metrics, options);
  ASSERT_TRUE(Eventually([&] { return app.Count("todos") == "2500"; }));
  EXPECT_EQ(app.Clock("old7"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  // Progress is published once the batch that completes it committed.
  EXPECT_TRUE(Eventually(
      [&] { return metrics.Render().find("crbridge_snapshot_rows_done{table=\"todos\"} 2500") != std::string::npos; }));

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
  if (app.postgres()) {
    // The slot is confirmed past what the clocks hold.
    const std::string recorded = app.One("SELECT lsn FROM " + app.db.metadata() + ".capture");
    EXPECT_TRUE(Eventually([&] {
      return app.One("SELECT confirmed_flush_lsn - '0/0' >= " + recorded +
                     " FROM pg_replication_slots WHERE "
                     "slot_name = '" +
                     app.mapped->config.source.slot + "'") == "t";
    }));
  }
  EXPECT_STOPS_CLEANLY(capture);
}

// A transaction is held in memory whole until it is recorded: the largest
// so far is a metric, and one at the configured size is logged.
TEST_P(CaptureTest, TheLargestTransactionIsMeasuredAndALargeOneLogged) {
  App app(GetParam());
  app.Sql("INSERT INTO todo_lists (id) VALUES ('l1')");
  Metrics metrics;
  CaptureOptions options;
  options.large_transaction_rows = 4;
  ::testing::internal::CaptureStderr();
  RunningCapture capture(app, metrics, options);
  ASSERT_TRUE(capture.CaughtUp(app, "m1"));
  const auto largest = [&] {
    const std::string text = metrics.Render();
    const size_t at = text.find("\ncrbridge_capture_largest_transaction_rows ");
    return at == std::string::npos ? std::string("none") : text.substr(at + 1, text.find('\n', at + 1) - at - 1);
  };
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l1'), ('t2', 'l1'), ('t3', 'l1')");
  EXPECT_TRUE(Eventually([&] { return largest() == "crbridge_capture_largest_transaction_rows 3"; })) << largest();
  app.Sql(
      "INSERT INTO todos (id, list_id) VALUES ('t4', 'l1'), ('t5', 'l1'), ('t6', 'l1'), ('t7', 'l1'), ('t8', 'l1')");
  EXPECT_TRUE(Eventually([&] { return largest() == "crbridge_capture_largest_transaction_rows 5"; })) << largest();
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t9', 'l1')");
  ASSERT_TRUE(app.ClockIs("t9", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_EQ(largest(), "crbridge_capture_largest_transaction_rows 5");
  EXPECT_STOPS_CLEANLY(capture);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("msg=\"a large app transaction was held in memory whole\" rows=5"), std::string::npos) << log;
  EXPECT_EQ(log.find("held in memory whole\" rows=3"), std::string::npos) << log;
}

// MySQL and MariaDB log TRUNCATE as DDL (the statement, no row deletes);
// crbridge treats it as Postgres's truncate: every row of the table dies.
TEST_P(CaptureTest, ATruncateKillsEveryRow) {
  App app(GetParam());
  Metrics metrics;
  RunningCapture capture(app, metrics);
  app.Sql("INSERT INTO todo_lists (id) VALUES ('l1')");
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l1'), ('t2', 'l1')");
  ASSERT_TRUE(app.ClockIs("t2", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  app.Sql("TRUNCATE todos");
  EXPECT_TRUE(app.ClockIs("t1", "2 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_TRUE(app.ClockIs("t2", "2 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_EQ(app.Clock("todo_lists", "l1"), "1 {1,1} {0,0}") << "another table's rows live on";
  const std::string database = app.postgres() ? "public" : app.db.url.substr(app.db.url.rfind('/') + 1);
  app.Sql(app.postgres() ? "TRUNCATE TABLE \"public\".\"todo_lists\""
                         : "truncate table `" + database + "` . `todo_lists`");
  EXPECT_TRUE(Eventually([&] { return app.Clock("todo_lists", "l1") == "2 {1,1} {0,0}"; }));
  EXPECT_STOPS_CLEANLY(capture);
}

Blob Key(const std::string& id) {
  const Value v = Value::Text(id);
  Blob pk;
  EXPECT_TRUE(EncodePackedPk(std::span(&v, 1), &pk).ok());
  return pk;
}

// P4: crbridge's own merges are not captured again.
TEST_P(CaptureTest, MergedClientWritesAreNotEchoed) {
  App app(GetParam());
  Metrics metrics;
  RunningCapture capture(app, metrics);
  auto merge_writer = OpenAppStore(*app.mapped);
  auto store = std::make_unique<SyncStore>(app.mapped->config, app.mapped->check.tables, *merge_writer);
  SiteId client;
  client.fill(3);
  MergeReport report;
  const Status merged_status =
      store->Merge(client,
                   {Change{"todos", Key("t1"), "list_id", Value::Text("l1"), 1, 1, std::nullopt, 1, 0},
                    Change{"todos", Key("t1"), "title", Value::Text("from a client"), 4, 1, std::nullopt, 1, 1}},
                   PeerVersion{1, 1}, &report);
  ASSERT_TRUE(merged_status.ok()) << merged_status.ToString();
  const std::string merged = app.Clock("t1");
  // Once an app write after it is captured, the merge's transaction
  // (earlier in the log) has been read and skipped.
  ASSERT_TRUE(capture.CaughtUp(app, "marker"));
  EXPECT_EQ(app.Clock("t1"), merged);
  EXPECT_EQ(app.One("SELECT __db_version FROM " + app.ClockTable("todos") + " WHERE id = 't1'"),
            std::to_string(report.db_version));
  EXPECT_STOPS_CLEANLY(capture);
}

// P7: nothing written while crbridge is down is lost or counted twice; on
// MariaDB and MySQL capture resumes from the GTID state stored with the clocks.
TEST_P(CaptureTest, ARestartResumesExactlyWhereItStopped) {
  App app(GetParam());
  Metrics metrics;
  ASSERT_NO_FATAL_FAILURE(CaptureAFirstTodoAndStop(app, metrics));
  // Written while crbridge is down: captured once, after the restart.
  app.Sql("UPDATE todos SET title = 'while down' WHERE id = 't1'");
  app.Sql("UPDATE todos SET done = true WHERE id = 't1'");
  for (int restart = 0; restart < 2; ++restart) {
    RunningCapture capture(app, metrics);
    ASSERT_TRUE(capture.CaughtUp(app, "marker" + std::to_string(restart)));
    EXPECT_EQ(app.Count("todo_lists"), std::to_string(restart + 1));
    EXPECT_EQ(app.Clock("t1"), "1 {1,2,2,1,1} {0,0,0,0,0}");
    EXPECT_STOPS_CLEANLY(capture);
  }
}

TEST_P(CaptureTest, ATableAddedLaterIsSnapshottedAlone) {
  App app(GetParam(), "  - name: todo_lists\n    room_column: id\n");
  app.Sql("INSERT INTO todo_lists (id) VALUES ('l1')");
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l1')");
  Metrics metrics;
  {
    RunningCapture capture(app, metrics);
    ASSERT_TRUE(Eventually([&] { return app.Count("todo_lists") == "1"; }));
    EXPECT_STOPS_CLEANLY(capture);
  }
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t2', 'l1')");
  app.Sql("UPDATE todo_lists SET name = 'renamed'");
  app.Remap(kTodoAppTables);
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(Eventually([&] { return app.Count("todos") == "2"; }));
  EXPECT_EQ(app.Clock("t1"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  // The table mapped from the start kept streaming: one change, one bump.
  EXPECT_TRUE(Eventually([&] { return app.Clock("todo_lists", "l1") == "1 {2,1} {0,0}"; }));
  app.Sql("UPDATE todos SET title = 'x' WHERE id = 't2'");
  EXPECT_TRUE(app.ClockIs("t2", "1 {1,2,1,1,1} {0,0,0,0,0}"));
  EXPECT_STOPS_CLEANLY(capture);
}

// How the app renames a table in its dialect.
std::string RenameTable(const App& app, const std::string& from, const std::string& to) {
  return app.postgres() ? "ALTER TABLE " + from + " RENAME TO " + to : "RENAME TABLE " + from + " TO " + to;
}

// An empty table `name` defined as `like` is (the app's migration tooling
// makes such tables).
std::string CreateTableLike(const App& app, const std::string& name, const std::string& like) {
  return app.postgres() ? "CREATE TABLE " + name + " (LIKE " + like + " INCLUDING ALL)"
                        : "CREATE TABLE " + name + " LIKE " + like;
}

// t1 and t2 recorded, t3 recorded and then deleted.
void CaptureThreeTodosOneDeleted(App& app, RunningCapture& capture) {
  ASSERT_TRUE(capture.CaughtUp(app, "l1"));
  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'one'), ('t2', 'l1', 'two'), ('t3', 'l1', 'x')");
  app.Sql("DELETE FROM todos WHERE id = 't3'");
  ASSERT_TRUE(app.ClockIs("t3", "2 {1,1,1,1,1} {0,0,0,0,0}"));
}

// Issue 16, item 1: the app's writes to a mapped table while it is renamed
// reach the clocks once it has its name again, and writes go on streaming.
TEST_P(CaptureTest, WritesMadeWhileAMappedTableWasRenamedAreCaptured) {
  App app(GetParam());
  Metrics metrics;
  RunningCapture capture(app, metrics);
  ASSERT_NO_FATAL_FAILURE(CaptureThreeTodosOneDeleted(app, capture));
  app.Sql(RenameTable(app, "todos", "todos_away"));
  app.Sql("INSERT INTO todos_away (id, list_id) VALUES ('t4', 'l1')");
  app.Sql("UPDATE todos_away SET title = 'while away' WHERE id = 't1'");
  app.Sql("DELETE FROM todos_away WHERE id = 't2'");
  app.Sql(RenameTable(app, "todos_away", "todos"));
  EXPECT_TRUE(app.ClockIs("t4", "1 {1,1,1,1,1} {0,0,0,0,0}")) << app.Clock("t4");
  EXPECT_TRUE(app.ClockIs("t1", "1 {1,2,1,1,1} {0,0,0,0,0}")) << app.Clock("t1");
  EXPECT_TRUE(app.ClockIs("t2", "2 {1,1,1,1,1} {0,0,0,0,0}")) << app.Clock("t2");
  app.Sql("UPDATE todos SET done = true WHERE id = 't4'");
  EXPECT_TRUE(app.ClockIs("t4", "1 {1,1,2,1,1} {0,0,0,0,0}")) << app.Clock("t4");
  EXPECT_EQ(app.Clock("t3"), "2 {1,1,1,1,1} {0,0,0,0,0}");
  EXPECT_STOPS_CLEANLY(capture);
}

// A table read again at a position the stream has not reached: the
// stream's older changes of it are in that read already and must not set
// it back. On MariaDB the stream, resumed after the first rename, still
// brings an update whose undoing went to another table's name; Postgres
// follows the table by relation id and records both.
TEST_P(CaptureTest, ChangesOlderThanATableReadAgainDoNotSetItBack) {
  App app(GetParam());
  Metrics metrics;
  {
    RunningCapture capture(app, metrics);
    ASSERT_TRUE(capture.CaughtUp(app, "l1"));
    app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'kept')");
    ASSERT_TRUE(app.ClockIs("t1", "1 {1,1,1,1,1} {0,0,0,0,0}"));
    EXPECT_STOPS_CLEANLY(capture);
  }
  app.Sql(RenameTable(app, "todos", "todos_away"));
  app.Sql(RenameTable(app, "todos_away", "todos"));
  app.Sql("UPDATE todos SET title = 'for a while' WHERE id = 't1'");
  app.Sql(RenameTable(app, "todos", "todos_away"));
  app.Sql("UPDATE todos_away SET title = 'kept' WHERE id = 't1'");
  app.Sql(RenameTable(app, "todos_away", "todos"));
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(capture.CaughtUp(app, "l2"));
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('marker', 'l1')");
  ASSERT_TRUE(app.ClockIs("marker", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_EQ(app.Clock("t1"), app.postgres() ? "1 {1,3,1,1,1} {0,0,0,0,0}" : "1 {1,1,1,1,1} {0,0,0,0,0}");
  Server server(std::make_unique<TodoAppDatabase>(GetParam(), app.db.url), kTodoAppTables);
  Client client(server);
  {
    const Status synced = client.Pull(server);
    ASSERT_TRUE(synced.ok()) << synced.ToString();
  }
  EXPECT_EQ(client.Rows("todos", "id, title"), (std::vector<std::string>{"marker|", "t1|kept"}));
  EXPECT_STOPS_CLEANLY(capture);
}

// The clocks of todos after CaptureThreeTodosOneDeleted and a swap to a
// table holding t2 (changed), t3 (back) and t4 (new): t1 is gone.
void ExpectTheSwappedTableInTheClocks(App& app) {
  EXPECT_TRUE(app.ClockIs("t4", "1 {1,1,1,1,1} {0,0,0,0,0}")) << app.Clock("t4");
  EXPECT_TRUE(app.ClockIs("t1", "2 {1,1,1,1,1} {0,0,0,0,0}")) << app.Clock("t1");
  EXPECT_TRUE(app.ClockIs("t2", "1 {1,2,1,1,1} {0,0,0,0,0}")) << app.Clock("t2");
  EXPECT_TRUE(app.ClockIs("t3", "3 {2,2,2,2,2} {0,0,0,0,0}")) << app.Clock("t3");
  app.Sql("UPDATE todos SET done = true WHERE id = 't4'");
  EXPECT_TRUE(app.ClockIs("t4", "1 {1,1,2,1,1} {0,0,0,0,0}")) << app.Clock("t4");
}

// Fills todos_next as the table that replaces todos.
void FillTheReplacement(App& app) {
  app.Sql(CreateTableLike(app, "todos_next", "todos"));
  app.Sql(
      "INSERT INTO todos_next (id, list_id, title) VALUES ('t2', 'l1', 'two, again'), ('t3', 'l1', 'x'), "
      "('t4', 'l1', '')");
}

// A migration that builds a new table and swaps it in: the new table's
// rows are what clients get, rows only the old one had die.
TEST_P(CaptureTest, AMappedTableReplacedByAnotherIsReadAfresh) {
  App app(GetParam());
  Metrics metrics;
  RunningCapture capture(app, metrics);
  ASSERT_NO_FATAL_FAILURE(CaptureThreeTodosOneDeleted(app, capture));
  FillTheReplacement(app);
  app.Sql(RenameTable(app, "todos", "todos_old"));
  app.Sql(RenameTable(app, "todos_next", "todos"));
  app.Sql("DROP TABLE todos_old");
  ExpectTheSwappedTableInTheClocks(app);
  EXPECT_STOPS_CLEANLY(capture);
}

// The same while crbridge is stopped, with the table dropped and created
// again under its name.
TEST_P(CaptureTest, AMappedTableDroppedAndCreatedWhileStoppedIsReadAfresh) {
  App app(GetParam());
  Metrics metrics;
  {
    RunningCapture capture(app, metrics);
    ASSERT_NO_FATAL_FAILURE(CaptureThreeTodosOneDeleted(app, capture));
    EXPECT_STOPS_CLEANLY(capture);
  }
  FillTheReplacement(app);
  app.Sql("DROP TABLE todos");
  app.Sql(CreateTableLike(app, "todos", "todos_next"));
  app.Sql("INSERT INTO todos SELECT * FROM todos_next");
  RunningCapture capture(app, metrics);
  ExpectTheSwappedTableInTheClocks(app);
  EXPECT_STOPS_CLEANLY(capture);
}

// How many connections to the app's database wait for a lock (a table's,
// Postgres; a table's metadata lock, MariaDB). Other tests' databases
// share the server.
int LockWaiters(App& app) {
  return std::stoi(app.One(app.postgres() ? "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                            "AND datname = current_database()"
                                          : "SELECT count(*) FROM information_schema.PROCESSLIST "
                                            "WHERE STATE = 'Waiting for table metadata lock' AND DB = DATABASE()"));
}

// A table read whole (a snapshot) is held open by one long transaction; an
// app DDL on the table waits for it, and every later statement on the
// table waits behind the DDL. Neither a client merge waiting there nor the
// snapshot's own last batch (which reads the table) may leave crbridge and
// the app waiting for each other for ever (the database cannot see that
// cycle: part of it runs through crbridge's threads). The merge waits
// without the version counter the snapshot's batches need; the last batch
// gives up its wait, and capture reads the table again once the DDL is
// through.
TEST_P(CaptureTest, AnAppDdlDuringASnapshotStallsNeitherCaptureNorMerges) {
  App app(GetParam());
  AddOldTodos(app, 500);
  Server server(std::make_unique<TodoAppDatabase>(GetParam(), app.db.url), kTodoAppTables);
  Client client(server);
  client.Exec("INSERT INTO todos (id, list_id, title) VALUES ('c1', 'l1', 'from a client')");

  // The snapshot stops after the first batch of todos (todo_lists, one
  // batch, comes first), its transaction open, until the DDL and the merge
  // wait.
  std::promise<void> go_on;
  std::shared_future<void> gate = go_on.get_future().share();
  std::atomic<int> batches = 0;
  Metrics metrics;
  CaptureOptions options;
  options.snapshot_batch_rows = 100;
  options.on_recorded = [&](int64_t, int64_t) {
    if (batches++ == 1) gate.wait_for(std::chrono::seconds(60));  // bounded: an assertion may fail first
  };
  Health health;
  CaptureService capture(app.mapped->config, options, health, metrics);
  capture.Start();
  ASSERT_TRUE(Eventually([&] { return batches > 1; }));

  std::atomic<bool> altered = false;
  std::string ddl_error;
  std::jthread ddl([&] {
    TodoAppDatabase session(GetParam(), app.db.url);
    try {
      // Bounded, so that a failing test ends.
      session.Sql(app.postgres() ? "SET lock_timeout = '90s'" : "SET SESSION lock_wait_timeout = 90");
      session.Sql("ALTER TABLE todos ALTER COLUMN title SET DEFAULT 'untitled'");
      altered = true;
    } catch (const std::exception& e) {
      ddl_error = e.what();
    }
  });
  ASSERT_TRUE(Eventually([&] { return LockWaiters(app) == 1; }));
  Status merged = Status::Internal("still merging");
  std::atomic<bool> pushed = false;
  std::jthread merge([&] {
    merged = client.Push(server);
    pushed = true;
  });
  ASSERT_TRUE(Eventually([&] { return LockWaiters(app) == 2; }));
  go_on.set_value();

  EXPECT_TRUE(Eventually([&] { return app.Count("todos") == "501"; })) << app.Count("todos");
  EXPECT_TRUE(Eventually([&] { return altered && pushed; }));
  merge.join();
  ddl.join();
  EXPECT_EQ(ddl_error, "");
  EXPECT_TRUE(merged.ok()) << merged.ToString();
  EXPECT_EQ(app.One("SELECT title FROM todos WHERE id = 'c1'"), "from a client");
  EXPECT_TRUE(Eventually([&] { return health.Ready(); })) << health.ToJson();
  capture.Stop();
}

// The rows of the app's todos as Client::Rows prints a client's.
std::vector<std::string> AppTodos(App& app) {
  std::vector<std::string> out;
  for (const auto& row : app.db.Rows("SELECT id, list_id, title, CASE WHEN done THEN 1 ELSE 0 END, position, due "
                                     "FROM todos ORDER BY 1")) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += (i > 0 ? "|" : "") + row[i].value_or("NULL");
    out.push_back(line);
  }
  return out;
}

// docs/design.md, "App write racing a client merge": app writers (plain SQL)
// and clients merging through the server hit the same few rows at once.
// Afterwards every client equals the server (P1): a clock that disagreed
// with its row would leave some client with a value the server lacks.
TEST_P(CaptureTest, AppWritesRacingClientMergesConverge) {
  App app(GetParam());
  Metrics metrics;
  RunningCapture capture(app, metrics);
  Server server(std::make_unique<TodoAppDatabase>(GetParam(), app.db.url), kTodoAppTables);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<Client>(server));

  const std::string insert_or_keep = app.postgres() ? "INSERT" : "INSERT IGNORE";
  const std::string or_keep = app.postgres() ? " ON CONFLICT DO NOTHING" : "";
  // A failed assertion returns early: the writers' destructors stop them.
  std::vector<std::jthread> app_writers;
  for (int w = 0; w < 2; ++w) {
    app_writers.emplace_back([&, w](std::stop_token stop) {
      TodoAppDatabase writer(GetParam(), app.db.url);
      std::mt19937 random(100 + w);
      while (!stop.stop_requested()) {
        const std::string id = "'t" + std::to_string(random() % 5) + "'";
        std::string sql;
        switch (random() % 4) {
          case 0:
            sql = insert_or_keep + " INTO todos (id, list_id, title) VALUES (" + id + ", 'l" +
                  std::to_string(random() % 2) + "', 'app " + std::to_string(random() % 3) + "')" + or_keep;
            break;
          case 1:
            sql = "UPDATE todos SET title = 'app " + std::to_string(random() % 3) + "' WHERE id = " + id;
            break;
          case 2:
            sql =
                "UPDATE todos SET done = NOT done, position = " + std::to_string(random() % 7) + ".5 WHERE id = " + id;
            break;
          default:
            sql = "DELETE FROM todos WHERE id = " + id;
        }
        try {
          writer.Sql(sql);
        } catch (const std::exception& e) {
          // InnoDB may pick the app's statement as a deadlock victim (the
          // merges lock the same rows); an app then retries or gives up.
          if (std::string(e.what()).find("eadlock") == std::string::npos) throw;
        }
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
        c.Exec("INSERT OR IGNORE INTO todos (id, list_id, title) VALUES (" + id + ", 'l1', " + titles[random() % 3] +
               ")");
        break;
      case 1:
        c.Exec("UPDATE todos SET title = " + std::string(titles[random() % 3]) + " WHERE id = " + id);
        break;
      case 2:
        c.Exec("UPDATE todos SET done = 1 - done, position = " + std::to_string(random() % 7) + ".25 WHERE id = " + id);
        break;
      default:
        c.Exec("DELETE FROM todos WHERE id = " + id);
    }
    Client& syncing = *clients[random() % clients.size()];
    {
      const Status synced = syncing.Push(server);
      ASSERT_TRUE(synced.ok()) << synced.ToString();
    }
    {
      const Status synced = syncing.Pull(server);
      ASSERT_TRUE(synced.ok()) << synced.ToString();
    }
  }
  app_writers.clear();

  ASSERT_TRUE(capture.CaughtUp(app, "done"));
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& c : clients) {
      {
        const Status synced = c->Push(server);
        ASSERT_TRUE(synced.ok()) << synced.ToString();
      }
      {
        const Status synced = c->Pull(server);
        ASSERT_TRUE(synced.ok()) << synced.ToString();
      }
    }
  }
  const auto expected = AppTodos(app);
  for (auto& c : clients) EXPECT_EQ(c->Rows("todos", kTodoColumns), expected);
  EXPECT_STOPS_CLEANLY(capture);
}

// Issue 16: one value capture cannot map must never stop other rows or
// tables. Its row is rejected: reported (health, metric), kept in the
// shadow store with the batch (a restart finds it), left out of clients'
// pulls; the rest of its transaction, other tables and the snapshot's
// other rows flow on; a later change of the row that maps, or its delete,
// clears it, and clients then get the row.
TEST_P(CaptureTest, AValueThatDoesNotMapRejectsItsRowAndTheRestFlows) {
  const ServerKind kind = GetParam();
  App app(kind, NewTodoAppWithRawColumn(kind), kTodoAppTables);
  const std::string good = MappableRaw(kind), bad = UnmappableRaw(kind);
  app.Sql("INSERT INTO todo_lists (id) VALUES ('l1')");
  // Read by the initial snapshot.
  app.Sql("INSERT INTO todos (id, list_id, raw) VALUES ('s1', 'l1', " + bad + "), ('s2', 'l1', " + good + ")");
  const std::string alive = "1 {1,1,1,1,1,1} {0,0,0,0,0,0}";
  const auto standing = [](const RejectedRows& rows) {
    std::string out;
    for (const RejectedRow& row : rows.Standing()) out += DescribeRejectedRow(row).substr(0, 13) + ";";
    return out;
  };
  Server server(std::make_unique<TodoAppDatabase>(kind, app.db.url), kTodoAppTables);
  Client early(server);
  {
    Metrics metrics;
    Health health;
    RejectedRows rejected(health, metrics);
    CaptureOptions options;
    options.rejected_rows = &rejected;
    RunningCapture capture(app, metrics, options);
    ASSERT_TRUE(capture.CaughtUp(app, "m1"));
    EXPECT_EQ(app.Clock("s1"), "none");
    EXPECT_EQ(app.Clock("s2"), alive);
    // In one transaction with rows of two tables that map.
    app.Transaction(
        {"INSERT INTO todos (id, list_id, raw) VALUES ('t1', 'l1', " + bad + "), ('t2', 'l1', " + good + ")",
         "INSERT INTO todo_lists (id) VALUES ('l2')"});
    ASSERT_TRUE(app.ClockIs("t2", alive));
    EXPECT_EQ(app.Clock("todo_lists", "l2"), "1 {1,1} {0,0}");
    EXPECT_EQ(app.Clock("t1"), "none");
    EXPECT_TRUE(Eventually([&] { return standing(rejected) == "todos ('s1'):;todos ('t1'):;"; })) << standing(rejected);
    ASSERT_TRUE(early.Pull(server).ok());
    EXPECT_EQ(early.Rows("todos", "id, title, raw"), (std::vector<std::string>{"s2||1", "t2||1"}));

    // A row clients have takes a value that does not map: they keep it as
    // they had it, pulls go on, and a new client does not get it.
    app.Sql("UPDATE todos SET title = 'x', raw = " + bad + " WHERE id = 's2'");
    EXPECT_TRUE(Eventually([&] { return standing(rejected) == "todos ('s1'):;todos ('s2'):;todos ('t1'):;"; }))
        << standing(rejected);
    EXPECT_EQ(app.Clock("s2"), alive);
    ASSERT_TRUE(early.Pull(server).ok());
    EXPECT_EQ(early.Rows("todos", "id, title, raw"), (std::vector<std::string>{"s2||1", "t2||1"}));
    Client late(server);
    ASSERT_TRUE(late.Pull(server).ok());
    EXPECT_EQ(late.Rows("todos", "id"), (std::vector<std::string>{"t2"}));

    EXPECT_FALSE(health.Ready());
    EXPECT_NE(health.ToJson().find("todos ('s2'): todos.raw: "), std::string::npos) << health.ToJson();
    const std::string rendered = metrics.Render();
    EXPECT_NE(rendered.find("\ncrbridge_capture_rejected_rows 3\n"), std::string::npos) << rendered;
    EXPECT_NE(rendered.find("\ncrbridge_capture_rows_rejected_total 3\n"), std::string::npos) << rendered;
    EXPECT_STOPS_CLEANLY(capture);
  }

  // The rejections outlive a restart: they are in the shadow store.
  Metrics metrics;
  Health health;
  RejectedRows rejected(health, metrics);
  CaptureOptions options;
  options.rejected_rows = &rejected;
  RunningCapture capture(app, metrics, options);
  ASSERT_TRUE(capture.CaughtUp(app, "m2"));
  EXPECT_EQ(standing(rejected), "todos ('s1'):;todos ('s2'):;todos ('t1'):;");
  EXPECT_FALSE(health.Ready());
  // Fixed by changes that map, or deleted: cleared, and ready again.
  app.Sql("UPDATE todos SET raw = " + good + " WHERE id IN ('s2', 't1')");
  app.Sql("DELETE FROM todos WHERE id = 's1'");
  EXPECT_TRUE(Eventually([&] { return rejected.Standing().empty(); })) << standing(rejected);
  EXPECT_TRUE(health.Ready()) << health.ToJson();
  EXPECT_TRUE(app.ClockIs("t1", alive));
  EXPECT_EQ(app.Clock("s2"), "1 {1,2,1,1,1,1} {0,0,0,0,0,0}");
  EXPECT_EQ(app.One("SELECT count(*) FROM " + app.db.metadata() + ".rejected_rows"), "0");
  Client late(server);
  for (Client* client : {&early, &late}) {
    ASSERT_TRUE(client->Pull(server).ok());
    EXPECT_EQ(client->Rows("todos", "id, title, raw"), (std::vector<std::string>{"s2|x|1", "t1||1", "t2||1"}));
  }
  EXPECT_STOPS_CLEANLY(capture);
}

INSTANTIATE_TEST_SUITE_P(BothDatabases, CaptureTest, AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

// Issue 16: NaN and the infinities in a double column travel from the
// snapshot and the stream with one canonical form each: NaN as the text
// 'NaN' (SQLite keeps no REAL NaN), the infinities as REAL infinities.
TEST(PostgresCaptureTest, NanAndInfinitiesReachClientsInTheirCanonicalForm) {
  App app(ServerKind::kPostgres);
  app.Sql("INSERT INTO todo_lists (id) VALUES ('l1')");
  app.Sql("INSERT INTO todos (id, list_id, position) VALUES ('s1', 'l1', 'NaN'), ('s2', 'l1', 'Infinity')");
  Metrics metrics;
  RunningCapture capture(app, metrics);
  app.Sql("INSERT INTO todos (id, list_id, position) VALUES ('t1', 'l1', 'NaN'), ('t2', 'l1', '-Infinity')");
  ASSERT_TRUE(app.ClockIs("t2", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  // NaN written again is no change; a number after NaN is.
  app.Sql("UPDATE todos SET position = 'NaN' WHERE id = 't1'");
  app.Sql("UPDATE todos SET position = 1.5 WHERE id = 's1'");
  EXPECT_TRUE(app.ClockIs("s1", "1 {1,1,1,2,1} {0,0,0,0,0}"));
  EXPECT_EQ(app.Clock("t1"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  app.Sql("UPDATE todos SET position = 'NaN' WHERE id = 's1'");
  EXPECT_TRUE(app.ClockIs("s1", "1 {1,1,1,3,1} {0,0,0,0,0}"));
  Server server(std::make_unique<TodoAppDatabase>(ServerKind::kPostgres, app.db.url), kTodoAppTables);
  Client client(server);
  ASSERT_TRUE(client.Pull(server).ok());
  EXPECT_EQ(client.Rows("todos", "id, typeof(position), position"),
            (std::vector<std::string>{"s1|text|NaN", "s2|real|Inf", "t1|text|NaN", "t2|real|-Inf"}));
  EXPECT_STOPS_CLEANLY(capture);
}

TEST(PostgresCaptureTest, AnUnchangedToastedValueIsNotAChange) {
  App app(ServerKind::kPostgres);
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

// A restart streams from after what the clocks hold, though the slot was
// not confirmed that far (each transaction is recorded as soon as it is
// read, and no status is due within the test): nothing is read twice.
TEST(PostgresCaptureTest, ARestartStreamsNothingTheClocksHold) {
  App app(ServerKind::kPostgres);
  const auto unconfirming = [] {
    CaptureOptions options;
    options.batch_rows = 1;
    options.status_interval = std::chrono::hours(1);
    return options;
  };
  Metrics first;
  {
    RunningCapture capture(app, first, unconfirming());
    ASSERT_TRUE(capture.CaughtUp(app, "streaming"));
    for (const char* id : {"t1", "t2", "t3"}) {
      app.Sql(std::string("INSERT INTO todos (id, list_id) VALUES ('") + id + "', 'l1')");
    }
    ASSERT_TRUE(app.ClockIs("t3", "1 {1,1,1,1,1} {0,0,0,0,0}"));
    EXPECT_STOPS_CLEANLY(capture);
  }
  Metrics second;
  RunningCapture capture(app, second, unconfirming());
  ASSERT_TRUE(capture.CaughtUp(app, "marker"));
  EXPECT_EQ(second.captured_transactions().Value(), 1) << "only the marker";
  EXPECT_STOPS_CLEANLY(capture);
}

// Once the stream is quiet and what it read is recorded, the slot may
// forget it: the server keeps no WAL for crbridge that the clocks hold.
// (No status is due within the test, and without wal_sender_timeout the
// server never asks for one.)
TEST(PostgresCaptureTest, AQuietStreamConfirmsWhatItRecorded) {
  App app(ServerKind::kPostgres);
  app.mapped->config.source.url += "?options=-c%20wal_sender_timeout%3D0";
  Metrics metrics;
  CaptureOptions options;
  options.status_interval = std::chrono::hours(1);
  RunningCapture capture(app, metrics, options);
  ASSERT_TRUE(capture.CaughtUp(app, "marker"));
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l1')");
  ASSERT_TRUE(app.ClockIs("t1", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  const std::string recorded = app.One("SELECT lsn FROM " + app.db.metadata() + ".capture");
  EXPECT_TRUE(Eventually([&] {
    return app.One("SELECT confirmed_flush_lsn - '0/0' >= " + recorded +
                   " FROM pg_replication_slots WHERE slot_name = '" + app.mapped->config.source.slot + "'") == "t";
  }));
  EXPECT_STOPS_CLEANLY(capture);
}

// With the mapped tables idle and another table busy (of the same
// database, and of another), the slot is still confirmed as the server
// moves on: the WAL it holds back stays bounded, and the lag metric says
// so. (pgoutput sends nothing of those writes; the server's keepalives
// carry its position.)
TEST(PostgresCaptureTest, BusyUnmappedTablesDoNotMakeTheSlotHoldWal) {
  App app(ServerKind::kPostgres);
  TodoAppDatabase other(ServerKind::kPostgres);
  Metrics metrics;
  CaptureOptions options;
  options.status_interval = std::chrono::milliseconds(50);
  RunningCapture capture(app, metrics, options);
  ASSERT_TRUE(capture.CaughtUp(app, "marker"));
  app.Sql("CREATE TABLE busy (x text)");
  other.Sql("CREATE TABLE busy (x text)");
  for (int i = 0; i < 10; ++i) {
    app.Sql("INSERT INTO busy SELECT repeat('x', 100) FROM generate_series(1, 5000)");
    other.Sql("INSERT INTO busy SELECT repeat('x', 100) FROM generate_series(1, 5000)");
  }
  const std::string held = "SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM pg_replication_slots "
                           "WHERE slot_name = '" + app.mapped->config.source.slot + "'";
  const std::string written = app.One("SELECT pg_current_wal_lsn() - '0/0'");
  EXPECT_TRUE(Eventually([&] { return std::stoll(app.One(held)) < (1 << 20); })) << app.One(held) << " bytes held";
  EXPECT_TRUE(Eventually([&] { return metrics.capture_lag_bytes().Value() < (1 << 20); }))
      << metrics.capture_lag_bytes().Value();
  EXPECT_GE(std::stoll(app.One("SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = '" +
                               app.mapped->config.source.slot + "'")),
            std::stoll(written) - (1 << 20));
  EXPECT_STOPS_CLEANLY(capture);
}

// source.failover_slot makes the slot a failover slot on Postgres 17 and
// later, and the slot follows the config when it changes; older servers
// cannot, and capture says so.
TEST(PostgresCaptureTest, AFailoverSlotIsMadeOnPostgres17AndLater) {
  App app(ServerKind::kPostgres);
  app.mapped->config.source.failover_slot = true;
  Metrics metrics;
  if (std::stoi(PostgresMajor()) < 17) {
    RunningCapture capture(app, metrics);
    const Status s = ResultOf(capture);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find("failover slots need Postgres 17 or newer"), std::string::npos) << s.message();
    return;
  }
  const std::string failover =
      "SELECT failover FROM pg_replication_slots WHERE slot_name = '" + app.mapped->config.source.slot + "'";
  ASSERT_NO_FATAL_FAILURE(CaptureAFirstTodoAndStop(app, metrics));
  EXPECT_EQ(app.One(failover), "t");
  app.mapped->config.source.failover_slot = false;
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(capture.CaughtUp(app, "marker"));
  EXPECT_EQ(app.One(failover), "f");
  EXPECT_STOPS_CLEANLY(capture);
}

// The version a row's clock was last written at.
std::string DbVersion(App& app, const std::string& id) {
  return app.One("SELECT __db_version FROM " + app.ClockTable("todos") + " WHERE id = '" + id + "'");
}

// A slot the server invalidated while capture was stopped
// (max_slot_wal_keep_size) is made again, every table is read again at its
// snapshot, and capture streams on: what the app wrote meanwhile reaches
// the clocks (a changed, an added and a deleted row), and a row that did
// not change keeps its clock, so clients get nothing of it again.
TEST(PostgresCaptureTest, ALostSlotIsMadeAgainAndEveryTableReadAgain) {
  DatabaseServer server(ServerKind::kPostgres, kSlotLosingServerOptions);
  App app(ServerKind::kPostgres, CreateDatabase(server, 1, "todo_app.postgres.sql"), kTodoAppTables);
  app.Sql("INSERT INTO todo_lists (id) VALUES ('l1')");
  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('same', 'l1', 'a'), ('changed', 'l1', 'b'), "
          "('deleted', 'l1', 'c')");
  {
    Metrics metrics;
    RunningCapture capture(app, metrics);
    ASSERT_TRUE(capture.CaughtUp(app, "first"));
    ASSERT_TRUE(app.ClockIs("deleted", "1 {1,1,1,1,1} {0,0,0,0,0}"));
    EXPECT_STOPS_CLEANLY(capture);
  }
  const std::string same_version = DbVersion(app, "same");
  app.Sql("UPDATE todos SET title = 'b2' WHERE id = 'changed'");
  app.Sql("DELETE FROM todos WHERE id = 'deleted'");
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('added', 'l1')");
  ASSERT_NO_FATAL_FAILURE(LoseReplicationSlot(app.db, app.mapped->config.source.slot));

  ::testing::internal::CaptureStderr();
  Metrics metrics;
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(capture.CaughtUp(app, "second"));
  EXPECT_EQ(app.Clock("changed"), "1 {1,2,1,1,1} {0,0,0,0,0}");
  EXPECT_EQ(app.Clock("deleted"), "2 {1,1,1,1,1} {0,0,0,0,0}");
  EXPECT_EQ(app.Clock("added"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  EXPECT_EQ(app.Clock("same"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  EXPECT_EQ(DbVersion(app, "same"), same_version) << "a row that did not change is not sent again";
  app.Sql("UPDATE todos SET done = true WHERE id = 'added'");
  EXPECT_TRUE(app.ClockIs("added", "1 {1,1,2,1,1} {0,0,0,0,0}"));
  EXPECT_EQ(app.One("SELECT wal_status <> 'lost' FROM pg_replication_slots WHERE slot_name = '" +
                    app.mapped->config.source.slot + "'"),
            "t");
  EXPECT_EQ(metrics.capture_slots_lost().Value(), 1);
  EXPECT_STOPS_CLEANLY(capture);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("msg=\"the replication slot was lost"), std::string::npos) << log;
  EXPECT_NE(log.find("slot_was=\"invalidated by the server"), std::string::npos) << log;
}

// Postgres 18 invalidates a slot left idle past idle_replication_slot_timeout
// (at a checkpoint): capture makes it again all the same.
TEST(PostgresCaptureTest, ASlotIdleTooLongOnPostgres18IsMadeAgain) {
  if (std::stoi(PostgresMajor()) < 18) GTEST_SKIP() << "idle_replication_slot_timeout is Postgres 18's";
  DatabaseServer server(ServerKind::kPostgres, "-c idle_replication_slot_timeout=1");
  App app(ServerKind::kPostgres, CreateDatabase(server, 1, "todo_app.postgres.sql"), kTodoAppTables);
  Metrics metrics;
  ASSERT_NO_FATAL_FAILURE(CaptureAFirstTodoAndStop(app, metrics));
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t2', 'l1')");
  const std::string reason = "SELECT invalidation_reason FROM pg_replication_slots WHERE slot_name = '" +
                             app.mapped->config.source.slot + "'";
  ASSERT_TRUE(Eventually([&] {
    app.Sql("CHECKPOINT");
    return app.One(reason) == "idle_timeout";
  }));
  ::testing::internal::CaptureStderr();
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(capture.CaughtUp(app, "marker"));
  EXPECT_EQ(app.Clock("t2"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  EXPECT_EQ(metrics.capture_slots_lost().Value(), 1);
  EXPECT_STOPS_CLEANLY(capture);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("slot_was=\"invalidated by the server (idle_timeout)\""), std::string::npos) << log;
}

// With source.on_slot_lost: stop, a lost slot stops capture for a person,
// saying what happened and what to do.
TEST(PostgresCaptureTest, ALostSlotStopsCaptureWhenSoConfigured) {
  DatabaseServer server(ServerKind::kPostgres, kSlotLosingServerOptions);
  App app(ServerKind::kPostgres, CreateDatabase(server, 1, "todo_app.postgres.sql"), kTodoAppTables);
  app.mapped->config.source.on_slot_lost = SourceConfig::OnSlotLost::kStop;
  Metrics metrics;
  ASSERT_NO_FATAL_FAILURE(CaptureAFirstTodoAndStop(app, metrics));
  ASSERT_NO_FATAL_FAILURE(LoseReplicationSlot(app.db, app.mapped->config.source.slot));
  RunningCapture capture(app, metrics);
  const Status s = ResultOf(capture);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("is invalidated by the server"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("crbridge drop"), std::string::npos) << s.message();
  EXPECT_EQ(metrics.capture_slots_lost().Value(), 1);
}

TEST(PostgresCaptureTest, DropRemovesTheSlotPublicationAndClocks) {
  App app(ServerKind::kPostgres);
  Metrics metrics;
  ASSERT_NO_FATAL_FAILURE(CaptureAFirstTodoAndStop(app, metrics));
  const Status dropped = PostgresCapture::Drop(app.mapped->config);
  ASSERT_TRUE(dropped.ok()) << dropped.ToString();
  EXPECT_EQ(
      app.One("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + app.mapped->config.source.slot + "'"),
      "0");
  EXPECT_EQ(app.One("SELECT count(*) FROM pg_publication"), "0");
  EXPECT_EQ(app.One("SELECT count(*) FROM pg_namespace WHERE nspname = 'crbridge'"), "0");
  EXPECT_EQ(app.One("SELECT count(*) FROM todos"), "1") << "the app's data stays";
}

}  // namespace
}  // namespace crbridge::testing
