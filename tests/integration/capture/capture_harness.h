// What the capture tests share: a todo-app database with its mapping
// (App), capture running on its own thread (RunningCapture), and waiting
// for a condition without asserting any timing (Eventually). Test thread
// only.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "crbridge/connector/daemon/capture_factory.h"
#include "databases/test_databases.h"
#include "todo_app/todo_app.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {

// Waits for `done` to hold, up to a generous bound (a stuck pipeline fails
// the test; no timing is asserted). Until capture has set up the shadow
// schema, queries of it fail: not yet.
inline bool Eventually(const std::function<bool()>& done) {
  const auto holds = [&] {
    try {
      return done();
    } catch (const std::exception&) {
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

// A todo-app database and its mapping.
struct App {
  TodoAppDatabase db;
  std::unique_ptr<MappedApp> mapped;

  explicit App(ServerKind kind, const std::string& tables = kTodoAppTables) : db(kind) { Remap(tables); }
  // The todo-app database at `url`.
  App(ServerKind kind, const std::string& url, const std::string& tables) : db(kind, url) { Remap(tables); }

  // The same database under another mapping (a restart after an edit).
  void Remap(const std::string& tables) {
    mapped = MapTodoApp(db, tables);
    // Slots are cluster-wide: one per test database.
    if (postgres()) mapped->config.source.slot = "crbridge_" + db.url.substr(db.url.rfind('/') + 1);
  }

  bool postgres() const { return db.kind() == ServerKind::kPostgres; }
  void Sql(const std::string& sql) { db.Sql(sql); }
  // `statements` in one app transaction.
  void Transaction(const std::vector<std::string>& statements) {
    if (postgres()) {
      std::string all = "BEGIN";
      for (const std::string& statement : statements) all += "; " + statement;
      db.Sql(all + "; COMMIT");
      return;
    }
    db.Sql("START TRANSACTION");
    for (const std::string& statement : statements) db.Sql(statement);
    db.Sql("COMMIT");
  }
  std::string One(const std::string& sql) { return db.One(sql); }
  std::string ClockTable(const std::string& table) const { return db.metadata() + "." + table + "__clock"; }
  std::string Count(const std::string& table) { return One("SELECT count(*) FROM " + ClockTable(table)); }

  // "cl {versions} {sites}" of a row's clock, "none" without one.
  std::string Clock(const std::string& table, const std::string& id) {
    const std::string clock = postgres() ? "__cl || ' ' || __col_versions::text || ' ' || __col_sites::text"
                                         : "CONCAT(__cl, ' {', __col_versions, '} {', __col_sites, '}')";
    const auto rows = db.Rows("SELECT " + clock + " FROM " + ClockTable(table) + " WHERE id = '" + id + "'");
    return rows.empty() ? "none" : rows[0][0].value_or("NULL");
  }
  std::string Clock(const std::string& id) { return Clock("todos", id); }
  bool ClockIs(const std::string& id, const std::string& expected) {
    return Eventually([&] { return Clock(id) == expected; });
  }
};

#define EXPECT_STOPS_CLEANLY(capture)                \
  do {                                               \
    const Status stopped = (capture).Stop();         \
    EXPECT_TRUE(stopped.ok()) << stopped.ToString(); \
  } while (false)

// The capture of a config on its own thread.
class RunningCapture {
 public:
  RunningCapture(const MappedApp& mapped, Metrics& metrics, CaptureOptions options = {})
      : capture_(NewCapture(mapped.config, mapped.check.tables, Observed(std::move(options)), metrics)),
        thread_([this](std::stop_token stop) {
          result_ = capture_->Run(stop);
          returned_ = true;
        }) {}
  RunningCapture(App& app, Metrics& metrics, CaptureOptions options = {})
      : RunningCapture(*app.mapped, metrics, std::move(options)) {}

  // Whether Run returned by itself (with an error).
  bool returned() const { return returned_; }

  // Whether capture has recorded everything the app wrote before: once it
  // streams, a write made after that is recorded. (A snapshot in progress
  // may record such a write of one table before the rows of another.)
  bool CaughtUp(App& app, const std::string& marker) {
    if (!Eventually([&] { return streaming_.load(); })) return false;
    app.Sql("INSERT INTO todo_lists (id) VALUES ('" + marker + "')");
    return Eventually([&] { return app.Clock("todo_lists", marker) != "none"; });
  }

  Status Stop() {
    thread_.request_stop();
    thread_.join();
    return result_;
  }

 private:
  CaptureOptions Observed(CaptureOptions options) {
    options.on_streaming = [this] { streaming_ = true; };
    return options;
  }

  std::atomic<bool> streaming_{false};
  std::unique_ptr<Capture> capture_;
  Status result_;
  std::atomic<bool> returned_{false};
  std::jthread thread_;
};

// Run's result, once it returned by itself.
inline Status ResultOf(RunningCapture& capture) {
  EXPECT_TRUE(Eventually([&] { return capture.returned(); })) << "capture still runs";
  return capture.Stop();
}

// Runs capture until an app insert of todo t1 is recorded, then stops it.
inline void CaptureAFirstTodoAndStop(App& app, Metrics& metrics) {
  RunningCapture capture(app, metrics);
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l1')");
  ASSERT_TRUE(app.ClockIs("t1", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_STOPS_CLEANLY(capture);
}

// List l1 and `count` todos in it, old1 to old<count>, titled "row <i>".
inline void AddOldTodos(App& app, int count) {
  const std::string n = std::to_string(count);
  app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries')");
  app.Sql(app.postgres() ? "INSERT INTO todos (id, list_id, title) SELECT 'old' || g, 'l1', 'row ' || g "
                           "FROM generate_series(1, " + n + ") g"
                         : "INSERT INTO todos (id, list_id, title) SELECT CONCAT('old', seq), 'l1', "
                           "CONCAT('row ', seq) FROM " + MysqlSeries(count));
}

}  // namespace crbridge::testing
