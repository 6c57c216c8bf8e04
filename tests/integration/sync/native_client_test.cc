// The native client, `crbridge-client`, as a user runs it: against a real
// `crbridge run` in front of the todo app in Postgres. Client writes reach
// Postgres, app writes reach the client, two clients of a room converge
// after concurrent edits, deletes and re-inserts, rooms stay apart, tokens
// and rooms are enforced with clear messages, --follow picks up writes of
// other processes, and a file restored from an older copy converges. And
// a server that sends garbage gets a clear error, not a crash.
#include <gtest/gtest.h>
#include <jwt.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <pqxx/pqxx>
#include <thread>

#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/vlcn_messages.h"
#include "eventually.h"
#include "jwt_token.h"
#include "processes/running_daemon.h"
#include "processes/subprocess.h"
#include "databases/test_databases.h"
#include "todo_app/todo_rows.h"

namespace crbridge::testing {
namespace {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result RunClient(const std::vector<std::string>& args) {
  std::vector<std::string> argv{CRBRIDGE_CLIENT_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  Subprocess client(argv, Subprocess::Options{false, true});
  Result result;
  result.code = client.Wait(std::chrono::seconds(60));
  result.out = client.Output();
  result.err = client.Errors();
  return result;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The config of configs/postgres.yaml with its own slot, and auth jwt
// when asked.
std::string Config(const std::string& slot, bool jwt) {
  const std::string path = PostgresConfigWithSlot(CRBRIDGE_SOURCE_DIR, slot);
  if (!jwt) return path;
  std::string text = ReadFile(path);
  text.replace(text.find("  mode: none"), 12,
               "  mode: jwt\n  jwt:\n    algorithm: HS256\n    secret_env: CRBRIDGE_JWT_SECRET\n    rooms_claim: rooms");
  std::ofstream(path) << text;
  return path;
}

// The client schema as `crbridge schema` prints it, in a file.
std::string SchemaFile(const std::string& config) {
  Subprocess schema({CRBRIDGE_BINARY, "schema", "--config", config}, Subprocess::Options{false, true});
  EXPECT_EQ(schema.Wait(std::chrono::seconds(30)), 0) << schema.Errors();
  const std::string path = ::testing::TempDir() + "/native_client_schema.sql";
  std::ofstream(path) << schema.Output();
  return path;
}

class NativeClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    url_ = new std::string(TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql"));
    const std::string config = Config("native_client", false);
    daemon_ = new RunningDaemon(CRBRIDGE_BINARY, config, *url_);
    ASSERT_EQ(daemon_->WaitForStatus("/readyz", 200).status, 200) << daemon_->process().Output();
    schema_ = new std::string(SchemaFile(config));
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete url_;
    delete schema_;
    daemon_ = nullptr;
  }

  // A new client database file, initialised with the client schema.
  std::string NewClient(const std::string& name) {
    const std::string path = ::testing::TempDir() + "/native_" + name + ".db";
    std::filesystem::remove(path);
    const Result init = RunClient({"init", "--db", path, "--schema", *schema_, "--schema-name", "todo_app"});
    EXPECT_EQ(init.code, 0) << init.err;
    return path;
  }

  static Result Sync(const std::string& db, const std::string& room) {
    return RunClient({"sync", "--db", db, "--url", daemon_->SyncUrl(), "--room", room, "--once", "--idle-ms", "300"});
  }
  static void SyncOk(const std::string& db, const std::string& room) {
    const Result sync = Sync(db, room);
    EXPECT_EQ(sync.code, 0) << sync.err << daemon_->process().Output();
  }

  static std::string Exec(const std::string& db, const std::string& sql) {
    const Result exec = RunClient({"exec", "--db", db, sql});
    EXPECT_EQ(exec.code, 0) << exec.err << "\n" << sql;
    return exec.out;
  }

  static void Sql(const std::string& sql) {
    pqxx::connection conn(*url_);
    pqxx::nontransaction(conn).exec0(sql);
  }
  static std::string One(const std::string& sql) {
    pqxx::connection conn(*url_);
    const pqxx::row row = pqxx::nontransaction(conn).exec1(sql);
    return row[0].is_null() ? "NULL" : row[0].as<std::string>();
  }

  static std::string ClientTodos(const std::string& db, const std::string& room) {
    return Exec(db, ClientTodosSql(room));
  }
  static std::string ServerTodos(const std::string& room) { return One(ServerTodosSql(room)); }

  // Syncs until the app's latest writes have been captured and reached the
  // client (capture is asynchronous): until `done` holds after a sync.
  static bool SyncUntil(const std::string& db, const std::string& room, const std::function<bool()>& done) {
    for (int i = 0; i < 40; ++i) {
      SyncOk(db, room);
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  static std::string* url_;
  static std::string* schema_;
  static RunningDaemon* daemon_;
};

std::string* NativeClientTest::url_ = nullptr;
std::string* NativeClientTest::schema_ = nullptr;
RunningDaemon* NativeClientTest::daemon_ = nullptr;

TEST_F(NativeClientTest, InitIsIdempotentAndRefusesAnotherSchema) {
  const std::string db = NewClient("init");
  const Result again = RunClient({"init", "--db", db, "--schema", *schema_, "--schema-name", "todo_app"});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("already has schema todo_app"), std::string::npos) << again.err;
  const std::string other = ::testing::TempDir() + "/native_other_schema.sql";
  std::ofstream(other) << ReadFile(*schema_) << "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY NOT NULL);\n";
  const Result refused = RunClient({"init", "--db", db, "--schema", other, "--schema-name", "todo_app"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("run crbridge-client migrate"), std::string::npos) << refused.err;
}

TEST_F(NativeClientTest, AClientWriteReachesPostgres) {
  const std::string db = NewClient("write");
  Exec(db, "INSERT INTO todos (id, list_id, title, done, position) VALUES ('a-1', 'a1', 'milk', 0, 1.5)");
  SyncOk(db, "a1");
  EXPECT_EQ(ServerTodos("a1"), "'a-1'|'a1'|'milk'|0|1.5|NULL\n") << daemon_->process().Output();
  // Nothing left to send: a second sync is confirmed at once.
  SyncOk(db, "a1");
  EXPECT_EQ(ClientTodos(db, "a1"), ServerTodos("a1"));
}

TEST_F(NativeClientTest, AnAppWriteReachesTheClient) {
  const std::string db = NewClient("app_write");
  Sql("INSERT INTO todo_lists (id, name) VALUES ('b1', 'groceries')");
  Sql("INSERT INTO todos (id, list_id, title, done, position, due) VALUES ('b-1', 'b1', 'eggs', true, 2.5, '2026-01-02')");
  EXPECT_TRUE(SyncUntil(db, "b1", [&] { return ClientTodos(db, "b1") == "'b-1'|'b1'|'eggs'|1|2.5|'2026-01-02'\n"; }))
      << ClientTodos(db, "b1");
  EXPECT_EQ(Exec(db, "SELECT id, name FROM todo_lists"), "b1|groceries\n");
  EXPECT_EQ(Exec(db, "SELECT title, done FROM todos"), "eggs|1\n");
}

TEST_F(NativeClientTest, TwoClientsOfARoomConvergeAfterConcurrentEdits) {
  const std::string alice = NewClient("alice");
  const std::string bob = NewClient("bob");
  const std::string room = "c1";
  const auto sync_all = [&] {
    for (int round = 0; round < 2; ++round) {
      SyncOk(alice, room);
      SyncOk(bob, room);
    }
  };
  Exec(alice, "INSERT INTO todos (id, list_id, title) VALUES ('c-1', 'c1', 'milk'), ('c-2', 'c1', 'bread')");
  sync_all();
  ASSERT_EQ(ClientTodos(bob, room), ClientTodos(alice, room));

  // Offline: the same column (position), different columns (title, done),
  // a delete against an update.
  Exec(alice, "UPDATE todos SET title = 'oat milk', position = 1.5 WHERE id = 'c-1'");
  Exec(bob, "UPDATE todos SET done = 1, position = 2.5 WHERE id = 'c-1'");
  Exec(alice, "DELETE FROM todos WHERE id = 'c-2'");
  Exec(bob, "UPDATE todos SET title = 'rye bread' WHERE id = 'c-2'");
  sync_all();
  const std::string after_edits = ServerTodos(room);
  EXPECT_NE(after_edits.find("'c-1'|'c1'|'oat milk'|1|"), std::string::npos) << after_edits;
  EXPECT_EQ(ClientTodos(alice, room), after_edits);
  EXPECT_EQ(ClientTodos(bob, room), after_edits);

  // Deletes and re-inserts.
  Exec(alice, "DELETE FROM todos WHERE id = 'c-1'");
  Exec(alice, "INSERT INTO todos (id, list_id, title) VALUES ('c-1', 'c1', 'new milk')");
  Exec(bob, "DELETE FROM todos WHERE id = 'c-2'");
  Exec(bob, "INSERT OR REPLACE INTO todos (id, list_id, title, position) VALUES ('c-2', 'c1', 'bread again', 3.5)");
  sync_all();
  const std::string after_reinserts = ServerTodos(room);
  EXPECT_NE(after_reinserts.find("'c-1'|'c1'|'new milk'|0|NULL|NULL"), std::string::npos) << after_reinserts;
  EXPECT_NE(after_reinserts.find("'c-2'|'c1'|'bread again'|0|3.5|NULL"), std::string::npos) << after_reinserts;
  EXPECT_EQ(ClientTodos(alice, room), after_reinserts);
  EXPECT_EQ(ClientTodos(bob, room), after_reinserts);
}

TEST_F(NativeClientTest, ARoomNeverSeesAnotherRoomsRows) {
  const std::string db = NewClient("rooms");
  Sql("INSERT INTO todos (id, list_id, title) VALUES ('d-1', 'd1', 'mine'), ('d-2', 'd2', 'theirs')");
  EXPECT_TRUE(SyncUntil(db, "d1", [&] { return Exec(db, "SELECT id FROM todos") == "d-1\n"; }))
      << Exec(db, "SELECT id FROM todos");
  SyncOk(db, "d1");
  EXPECT_EQ(Exec(db, "SELECT id FROM todos"), "d-1\n");
}

TEST_F(NativeClientTest, AWriteIntoAnotherRoomIsRefusedWithAClearMessage) {
  const std::string db = NewClient("other_room");
  Exec(db, "INSERT INTO todos (id, list_id, title) VALUES ('e-1', 'e2', 'not my room')");
  const Result sync = Sync(db, "e1");
  EXPECT_EQ(sync.code, 1) << sync.err;
  EXPECT_NE(sync.err.find("refused this database's changes"), std::string::npos) << sync.err;
  EXPECT_NE(sync.err.find("room \"e2\""), std::string::npos) << sync.err;
  EXPECT_EQ(One("SELECT count(*) FROM todos WHERE id = 'e-1'"), "0");
}

TEST_F(NativeClientTest, FollowSendsWritesOfOtherProcessesAndReceivesAppWrites) {
  const std::string db = NewClient("follow");
  Subprocess follow({CRBRIDGE_CLIENT_BINARY, "sync", "--db", db, "--url", daemon_->SyncUrl(), "--room", "f1", "--follow"},
                    Subprocess::Options{false, true});
  Exec(db, "INSERT INTO todos (id, list_id, title) VALUES ('f-1', 'f1', 'from exec')");
  EXPECT_TRUE(Eventually([&] { return One("SELECT count(*) FROM todos WHERE id = 'f-1'") == "1"; }))
      << follow.Errors() << daemon_->process().Output();
  Exec(db, "UPDATE todos SET title = 'edited by exec' WHERE id = 'f-1'");
  EXPECT_TRUE(Eventually([&] { return One("SELECT title FROM todos WHERE id = 'f-1'") == "edited by exec"; }))
      << follow.Errors();
  Sql("INSERT INTO todos (id, list_id, title) VALUES ('f-2', 'f1', 'from the app')");
  EXPECT_TRUE(Eventually([&] { return Exec(db, "SELECT title FROM todos WHERE id = 'f-2'") == "from the app\n"; }))
      << follow.Errors();
  follow.Signal(SIGTERM);
  EXPECT_EQ(follow.Wait(std::chrono::seconds(10)), 0) << follow.Errors();
  EXPECT_EQ(ClientTodos(db, "f1"), ServerTodos("f1"));
}

TEST_F(NativeClientTest, AFileRestoredFromAnOlderCopyConverges) {
  const std::string db = NewClient("stale");
  const std::string copy = db + ".copy";
  Exec(db, "INSERT INTO todos (id, list_id, title) VALUES ('g-1', 'g1', 'first')");
  SyncOk(db, "g1");
  std::filesystem::copy_file(db, copy, std::filesystem::copy_options::overwrite_existing);
  Exec(db, "UPDATE todos SET title = 'second', position = 4.5 WHERE id = 'g-1'");
  Exec(db, "INSERT INTO todos (id, list_id, title) VALUES ('g-2', 'g1', 'lost with the copy')");
  SyncOk(db, "g1");
  ASSERT_EQ(ServerTodos("g1"), "'g-1'|'g1'|'second'|0|4.5|NULL\n'g-2'|'g1'|'lost with the copy'|0|NULL|NULL\n");

  std::filesystem::copy_file(copy, db, std::filesystem::copy_options::overwrite_existing);
  const Result restored = Sync(db, "g1");
  EXPECT_EQ(restored.code, 0) << restored.err;
  EXPECT_NE(restored.err.find("older copy"), std::string::npos) << restored.err;
  EXPECT_EQ(ClientTodos(db, "g1"), ServerTodos("g1"));
  // And its new writes are not taken for ones the server has seen.
  Exec(db, "UPDATE todos SET title = 'third' WHERE id = 'g-1'");
  SyncOk(db, "g1");
  EXPECT_EQ(One("SELECT title FROM todos WHERE id = 'g-1'"), "third");
  EXPECT_EQ(ClientTodos(db, "g1"), ServerTodos("g1"));
}

TEST(NativeClientAuthTest, RefusedTokensFailWithAClearMessage) {
  const std::string key = "the native client test key";
  setenv("CRBRIDGE_JWT_SECRET", key.c_str(), 1);
  const std::string config = Config("native_jwt", true);
  RunningDaemon daemon(CRBRIDGE_BINARY, config, TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql"));
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  const std::string schema = SchemaFile(config);
  const std::string db = ::testing::TempDir() + "/native_jwt.db";
  std::filesystem::remove(db);
  ASSERT_EQ(RunClient({"init", "--db", db, "--schema", schema, "--schema-name", "todo_app"}).code, 0);
  const auto sync = [&](const std::string& room, const std::optional<std::string>& token) {
    std::vector<std::string> args{"sync", "--db", db, "--url", daemon.SyncUrl(), "--room", room, "--once", "--idle-ms", "200"};
    if (token) args.insert(args.end(), {"--token", *token});
    return RunClient(args);
  };
  const auto token = [&](const std::string& signing_key, int64_t expires_in) {
    return JwtToken(signing_key, JWT_ALG_HS256, R"({"rooms": ["h1"]})", std::time(nullptr) + expires_in);
  };

  const Result none = sync("h1", std::nullopt);
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("refused the connection: HTTP 401"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("a token is required"), std::string::npos) << none.err;
  const Result expired = sync("h1", token(key, -5));
  EXPECT_EQ(expired.code, 1);
  EXPECT_NE(expired.err.find("the token has expired"), std::string::npos) << expired.err;
  const Result forged = sync("h1", token("not the key", 60));
  EXPECT_EQ(forged.code, 1);
  EXPECT_NE(forged.err.find("HTTP 401"), std::string::npos) << forged.err;
  const Result other_room = sync("h2", token(key, 60));
  EXPECT_EQ(other_room.code, 1);
  EXPECT_NE(other_room.err.find("HTTP 403"), std::string::npos) << other_room.err;
  EXPECT_NE(other_room.err.find("does not grant room \"h2\""), std::string::npos) << other_room.err;

  const Result granted = sync("h1", token(key, 60));
  EXPECT_EQ(granted.code, 0) << granted.err;
  // --follow does not retry what retrying cannot fix.
  const Result follow = RunClient({"sync", "--db", db, "--url", daemon.SyncUrl(), "--room", "h1", "--follow"});
  EXPECT_EQ(follow.code, 1);
  EXPECT_NE(follow.err.find("HTTP 401"), std::string::npos) << follow.err;
}

TEST(NativeClientSchemaTest, AnotherSchemaNameIsRefusedByTheServer) {
  const std::string config = Config("native_schema_name", false);
  RunningDaemon daemon(CRBRIDGE_BINARY, config, TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql"));
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  const std::string db = ::testing::TempDir() + "/native_schema_name.db";
  std::filesystem::remove(db);
  // Without --schema-name the file's name is the schema name: here not the server's.
  ASSERT_EQ(RunClient({"init", "--db", db, "--schema", SchemaFile(config)}).code, 0);
  const Result sync = RunClient({"sync", "--db", db, "--url", daemon.SyncUrl(), "--room", "x1", "--once"});
  EXPECT_EQ(sync.code, 1);
  EXPECT_NE(sync.err.find("schema \"native_client_schema\" is not served here"), std::string::npos) << sync.err;
}

// A WebSocket server on a free port that accepts one vlcn client, reads its
// announce and answers with `frames`, then waits for the client to leave.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<Blob> frames)
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}), frames_(std::move(frames)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() { thread_.join(); }

  std::string url() const { return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/sync"; }

 private:
  void Serve() {
    namespace websocket = boost::beast::websocket;
    boost::beast::error_code ec;
    websocket::stream<boost::asio::ip::tcp::socket> ws(acceptor_.accept());
    boost::beast::http::request<boost::beast::http::string_body> upgrade;
    boost::beast::flat_buffer buffer;
    boost::beast::http::read(ws.next_layer(), buffer, upgrade, ec);
    const std::string subprotocol(upgrade[boost::beast::http::field::sec_websocket_protocol]);
    ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& response) {
      response.set(boost::beast::http::field::sec_websocket_protocol, subprotocol);
    }));
    ws.accept(upgrade, ec);
    ws.binary(true);
    boost::beast::flat_buffer announce;
    ws.read(announce, ec);
    for (const Blob& frame : frames_) ws.write(boost::asio::buffer(frame), ec);
    for (boost::beast::flat_buffer rest; !ec; rest.clear()) ws.read(rest, ec);
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<Blob> frames_;
  std::thread thread_;
};

TEST(NativeClientBadServerTest, GarbageFromTheServerIsAClearErrorNotACrash) {
  const std::string schema = ::testing::TempDir() + "/native_bad_server.sql";
  std::ofstream(schema) << "CREATE TABLE IF NOT EXISTS todos (id TEXT NOT NULL, title TEXT, PRIMARY KEY (id));\n"
                           "SELECT crsql_as_crr('todos');\n";
  const std::string db = ::testing::TempDir() + "/native_bad_server.db";
  std::filesystem::remove(db);
  ASSERT_EQ(RunClient({"init", "--db", db, "--schema", schema}).code, 0);
  const Blob start = EncodeMessage(StartStreaming{{0, 0}, {}, false});
  SiteId server_site;
  server_site.fill(9);
  const Value key = Value::Text("t1");
  Blob pk;
  ASSERT_TRUE(EncodePackedPk(std::span(&key, 1), &pk).ok());
  const Blob unknown_table = EncodeMessage(
      ChangesMessage{server_site, {0, 0}, {Change{"no_such_table", pk, "title", Value::Text("x"), 1, 1, std::nullopt, 1, 0}}});
  const std::vector<std::pair<std::vector<Blob>, std::string>> cases = {
      {{Blob{2, 1, 2, 3}}, "does not decode"},
      {{Blob{99}}, "does not decode"},
      {{start, unknown_table}, "cannot be applied"},
  };
  for (const auto& [frames, expected] : cases) {
    ScriptedServer server(frames);
    const Result sync = RunClient({"sync", "--db", db, "--url", server.url(), "--room", "r", "--once", "--idle-ms", "200"});
    EXPECT_EQ(sync.code, 1) << sync.err;
    EXPECT_NE(sync.err.find(expected), std::string::npos) << sync.err;
  }
  const Result rows = RunClient({"exec", "--db", db, "SELECT count(*) FROM todos"});
  EXPECT_EQ(rows.out, "0\n") << "nothing of it applied";
}

// The app adds a column while clients run; a native client migrated to
// the schema version that has it (crbridge-client migrate) receives its
// values for the rows it already had, and its writes to it reach Postgres.
TEST(NativeClientMigrateTest, AMigratedClientGetsTheNewColumnForTheRowsItHas) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  const std::string config = Config("native_migrate", false);
  RunningDaemon daemon(CRBRIDGE_BINARY, config, url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  const auto sql = [&](const std::string& statement) {
    pqxx::connection conn(url);
    pqxx::nontransaction(conn).exec0(statement);
  };
  const auto rows = [](const std::string& db, const std::string& query) {
    return RunClient({"exec", "--db", db, query}).out;
  };
  const auto sync_until = [&](const std::string& db, const std::function<bool()>& done) {
    for (int i = 0; i < 40; ++i) {
      const Result sync =
          RunClient({"sync", "--db", db, "--url", daemon.SyncUrl(), "--room", "m1", "--once", "--idle-ms", "300"});
      EXPECT_EQ(sync.code, 0) << sync.err << daemon.process().Output();
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  const std::string first = ::testing::TempDir() + "/native_migrate_v1.sql";
  std::filesystem::copy_file(SchemaFile(config), first, std::filesystem::copy_options::overwrite_existing);
  sql("INSERT INTO todo_lists (id, name) VALUES ('m1', 'groceries')");
  sql("INSERT INTO todos (id, list_id, title) VALUES ('m-1', 'm1', 'milk'), ('m-2', 'm1', 'bread')");
  const std::string db = ::testing::TempDir() + "/native_migrate.db";
  std::filesystem::remove(db);
  ASSERT_EQ(RunClient({"init", "--db", db, "--schema", first, "--schema-name", "todo_app"}).code, 0);
  ASSERT_TRUE(sync_until(db, [&] { return rows(db, "SELECT id FROM todos ORDER BY id") == "m-1\nm-2\n"; }));

  sql("ALTER TABLE todos ADD COLUMN priority integer");
  sql("UPDATE todos SET priority = 3 WHERE id = 'm-1'");
  std::string second;
  ASSERT_TRUE(Eventually([&] {
    second = ReadFile(SchemaFile(config));
    return second.find("priority") != std::string::npos;
  })) << daemon.process().Output();
  const std::string second_path = ::testing::TempDir() + "/native_migrate_v2.sql";
  std::ofstream(second_path) << second;
  const Result migrated = RunClient({"migrate", "--db", db, "--schema", second_path, "--schema-name", "todo_app"});
  ASSERT_EQ(migrated.code, 0) << migrated.err;
  EXPECT_NE(migrated.err.find("applied schema todo_app version"), std::string::npos) << migrated.err;
  EXPECT_TRUE(sync_until(db, [&] { return rows(db, "SELECT id, priority FROM todos ORDER BY id") == "m-1|3\nm-2|\n"; }))
      << rows(db, "SELECT id, priority FROM todos ORDER BY id") << daemon.process().Output();
  ASSERT_EQ(RunClient({"exec", "--db", db, "UPDATE todos SET priority = 5 WHERE id = 'm-2'"}).code, 0);
  EXPECT_TRUE(Eventually([&] {
    RunClient({"sync", "--db", db, "--url", daemon.SyncUrl(), "--room", "m1", "--once", "--idle-ms", "300"});
    pqxx::connection conn(url);
    return pqxx::nontransaction(conn).exec1("SELECT priority FROM todos WHERE id = 'm-2'")[0].as<std::string>("") == "5";
  })) << daemon.process().Output();
}

}  // namespace
}  // namespace crbridge::testing
