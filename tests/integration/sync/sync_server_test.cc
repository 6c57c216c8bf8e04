// The sync WebSocket of `crbridge run` against bad and hostile clients,
// spoken to with a raw WebSocket client: malformed frames, unknown tags,
// oversized messages, too many changes, a wrong schema, bad subprotocols,
// tokens that do not verify or do not grant the room, and too many
// connections from one address. Each gets a clear answer, and the server
// goes on serving the others. Also what a server holds for clients that do
// not read, and messages that end inside a version of large rows.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <jwt.h>
#include <map>
#include <pqxx/pqxx>
#include <optional>
#include <set>
#include <thread>

#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/connector/sync/sync_auth.h"
#include "crbridge/sqlite/text_encoding.h"
#include "crbridge/sqlite/vlcn_messages.h"
#include "eventually.h"
#include "jwt_token.h"
#include "peers/ws_client.h"
#include "processes/process_memory.h"
#include "processes/running_daemon.h"
#include "todo_app/shared_lists.h"
#include "databases/test_databases.h"

namespace crbridge::testing {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;


// The announcement of a client of `daemon`'s schema (site id bytes 7).
AnnouncePresence Presence(RunningDaemon& daemon, const std::string& schema = "todo_app") {
  AnnouncePresence presence;
  presence.sender.fill(7);
  presence.schema_name = schema;
  presence.schema_version = daemon.schema_version();
  return presence;
}

std::string Config(const std::string& slot, const std::string& extra_server, const std::string& auth_mode) {
  const std::string path = PostgresConfigWithSlot(CRBRIDGE_SOURCE_DIR, slot);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("  path: /sync"), 13, "  path: /sync\n" + extra_server);
  text.replace(text.find("  mode: none"), 12,
               auth_mode == "jwt" ? "  mode: jwt\n  jwt:\n    algorithm: HS256\n    secret_env: CRBRIDGE_JWT_SECRET\n"
                                    "    rooms_claim: rooms"
                                  : "  mode: none");
  std::ofstream(path) << text;
  return path;
}

class SyncServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new RunningDaemon(CRBRIDGE_BINARY,
                                Config("bad_clients",
                                       "  max_message_bytes: 4096\n  max_changes_per_message: 10\n"
                                       "  max_connections_per_address: 8\n",
                                       "none"),
                                TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql"));
    ASSERT_EQ(daemon_->WaitForStatus("/readyz", 200).status, 200) << daemon_->process().Output();
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }

  // A well-behaved client still gets StartStreaming: the server goes on.
  void ExpectServerStillServes() {
    WsClient client;
    ASSERT_EQ(client.Connect(daemon_->port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
    client.Send(Presence(*daemon_));
    const auto answer = client.Receive();
    ASSERT_TRUE(answer.has_value());
    EXPECT_TRUE(std::holds_alternative<StartStreaming>(*answer));
  }

  static RunningDaemon* daemon_;
};

RunningDaemon* SyncServerTest::daemon_ = nullptr;

TEST_F(SyncServerTest, AMalformedFrameGetsAnErrAndAClose) {
  WsClient client;
  ASSERT_EQ(client.Connect(daemon_->port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
  client.Send(Blob{2, 1, 2, 3});  // Changes, cut short
  EXPECT_NE(client.ExpectErrAndClose().find("malformed message"), std::string::npos);
  EXPECT_EQ(client.reason().code, websocket::close_code::policy_error);
  ExpectServerStillServes();
}

TEST_F(SyncServerTest, AnUnknownTagGetsAnErrAndAClose) {
  WsClient client;
  ASSERT_EQ(client.Connect(daemon_->port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
  client.Send(Blob{99});
  EXPECT_NE(client.ExpectErrAndClose().find("malformed message"), std::string::npos);
  ExpectServerStillServes();
}

TEST_F(SyncServerTest, AnOversizedMessageClosesTheConnection) {
  WsClient client;
  ASSERT_EQ(client.Connect(daemon_->port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
  client.Send(Blob(5000, 0));
  client.ExpectErrAndClose();
  EXPECT_EQ(client.reason().code, websocket::close_code::too_big);
  ExpectServerStillServes();
}

TEST_F(SyncServerTest, TooManyChangesInOneMessageAreRefused) {
  WsClient client;
  ASSERT_EQ(client.Connect(daemon_->port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
  client.Send(Presence(*daemon_));
  ASSERT_TRUE(client.Receive().has_value());
  ChangesMessage changes;
  changes.sender = Presence(*daemon_).sender;
  for (int i = 0; i < 11; ++i) {
    const Value key = Value::Text("t" + std::to_string(i));
    Blob pk;
    ASSERT_TRUE(EncodePackedPk(std::span(&key, 1), &pk).ok());
    changes.changes.push_back(Change{"todos", pk, "title", Value::Text("x"), 1, 1, std::nullopt, 1, 0});
  }
  client.Send(changes);
  EXPECT_NE(client.ExpectErrAndClose().find("11 changes; the limit is 10"), std::string::npos);
  ExpectServerStillServes();
}

// Issue 16: a value its column cannot hold gets an Err naming the table,
// column and rule, never the database's own words; nothing of the
// changeset is written, the log shows the value escaped (no raw byte
// reaches it), and the client's next changeset goes through.
TEST_F(SyncServerTest, AValueItsColumnCannotHoldGetsAnErrNamingTheRule) {
  WsClient client;
  ASSERT_EQ(client.Connect(daemon_->port(), EncodeSubprotocol({"hv", std::nullopt})), 101);
  AnnouncePresence presence = Presence(*daemon_);
  presence.sender.fill(9);
  client.Send(presence);
  ASSERT_TRUE(client.Receive().has_value());
  const Value id = Value::Text("hv1");
  Blob pk;
  ASSERT_TRUE(EncodePackedPk(std::span(&id, 1), &pk).ok());
  // Each changeset creates the row and writes one column; the client's
  // version grows with each, as a client's would.
  int64_t version = 0;
  const auto send = [&](const std::string& column, const Value& value) {
    ChangesMessage changes;
    changes.sender = presence.sender;
    changes.since = {version, 1};
    ++version;
    changes.changes = {Change{"todos", pk, "list_id", Value::Text("hv"), 1, version, std::nullopt, 1, 0},
                       Change{"todos", pk, column, value, 1, version, std::nullopt, 1, 1}};
    client.Send(changes);
  };
  pqxx::connection app(std::getenv("CRBRIDGE_SOURCE_URL"));
  const auto rows = [&] {
    return pqxx::nontransaction(app).exec1("SELECT count(*) FROM todos WHERE id = 'hv1'")[0].as<int>();
  };
  const std::pair<std::pair<std::string, Value>, std::string> refused[] = {
      {{"title", Value::Text(std::string("caf\xe9\0x", 6))},
       "todos.title: cannot store 'caf\\xe9\\x00x' (text) in a text column: text must be valid UTF-8 without NUL bytes"},
      {{"due", Value::Text("2023-02-29")},
       "todos.due: cannot store '2023-02-29' (text) in a date column: not a day of the calendar"},
      {{"position", Value::Text("1,5")},
       "todos.position: cannot store '1,5' (text) in a double precision column: expected a number, or 'NaN', "
       "'Infinity' or '-Infinity' on Postgres"},
  };
  for (const auto& [write, expected] : refused) {
    send(write.first, write.second);
    std::string said;
    while (said.empty()) {
      const std::optional<Message> message = client.Receive();
      if (!message) break;
      if (const auto* err = std::get_if<ErrMessage>(&*message)) said = err->message;
    }
    EXPECT_EQ(said, expected);
    EXPECT_EQ(rows(), 0) << "nothing of a refused changeset is written";
  }
  EXPECT_TRUE(daemon_->process().WaitForOutput("cannot store 'caf\\\\xe9\\\\x00x'", std::chrono::seconds(10)))
      << daemon_->process().Output();
  const std::string log = daemon_->process().Output();
  EXPECT_EQ(log.find('\0'), std::string::npos) << "a raw byte reached the log";
  EXPECT_EQ(log.find('\xe9'), std::string::npos) << "a raw byte reached the log";

  send("title", Value::Text("caf\xc3\xa9"));
  EXPECT_TRUE(Eventually([&] { return rows() == 1; })) << daemon_->process().Output();
}

TEST_F(SyncServerTest, AnotherSchemaIsRefusedWithItsName) {
  WsClient client;
  ASSERT_EQ(client.Connect(daemon_->port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
  client.Send(Presence(*daemon_, "other_app"));
  EXPECT_EQ(client.ExpectErrAndClose(),
            "schema \"other_app\" is not served here; this server serves \"todo_app\"");
  EXPECT_NE(std::string(client.reason().reason.data(), client.reason().reason.size()).find("other_app"), std::string::npos);
}

TEST_F(SyncServerTest, ABadSubprotocolIsABadRequest) {
  EXPECT_EQ(RefusedUpgrade(daemon_->port(), "not base64!").first, 400);
  const auto [status, body] = RefusedUpgrade(daemon_->port(), "YXV0aD14" /* auth=x */);
  EXPECT_EQ(status, 400);
  EXPECT_NE(body.find("no room"), std::string::npos) << body;
}

TEST_F(SyncServerTest, ConnectionsBeyondTheLimitPerAddressAreRefused) {
  // Connections the earlier tests closed free their places soon, not at once.
  const auto connect_eventually = [&]() -> std::unique_ptr<WsClient> {
    for (int i = 0; i < 100; ++i) {
      auto client = std::make_unique<WsClient>();
      if (client->Connect(daemon_->port(), EncodeSubprotocol({"l1", std::nullopt})) == 101) return client;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
  };
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(connect_eventually());
    ASSERT_NE(clients.back(), nullptr);
  }
  const auto [status, body] = RefusedUpgrade(daemon_->port(), EncodeSubprotocol({"l1", std::nullopt}));
  EXPECT_EQ(status, 429);
  EXPECT_NE(body.find("max_connections_per_address"), std::string::npos) << body;
  clients.clear();
  EXPECT_NE(connect_eventually(), nullptr);
}

// Changesets wait for the database in a bounded queue: with the database
// down, a client that keeps sending is told the server is busy.
TEST(SyncServerWithoutDatabaseTest, ChangesetsWaitingForTheDatabaseAreBounded) {
  boost::asio::io_context io;
  const uint16_t closed_port = [&] {
    tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return probe.local_endpoint().port();
  }();
  RunningDaemon daemon(CRBRIDGE_BINARY, Config("no_database", "", "none"),
                       "postgresql://x@127.0.0.1:" + std::to_string(closed_port) + "/db");
  ASSERT_NE(daemon.port(), 0);
  WsClient client;
  ASSERT_EQ(client.Connect(daemon.port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
  // No schema version: with the database away, the announcement is never
  // answered.
  AnnouncePresence presence;
  presence.sender.fill(7);
  presence.schema_name = "todo_app";
  client.Send(presence);
  ChangesMessage changes;
  changes.sender = presence.sender;
  const Value key = Value::Text("t1");
  Blob pk;
  ASSERT_TRUE(EncodePackedPk(std::span(&key, 1), &pk).ok());
  changes.changes.push_back(Change{"todos", pk, "title", Value::Text("x"), 1, 1, std::nullopt, 1, 0});
  // The server may close while messages are still on their way.
  const Blob frame = EncodeMessage(changes);
  for (int i = 0; i < 1100 && client.TrySend(frame); ++i) {
  }
  EXPECT_NE(client.ExpectErrAndClose().find("the server is busy"), std::string::npos);
}

double MetricValue(const std::string& metrics, const std::string& series) {
  const auto at = metrics.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(metrics.substr(at + series.size() + 2));
}

// Live pushes cost one database pull per room and new version, not one per
// connected client: clients at the head of their room are served from the
// room's feed in memory. Each still gets every change of its room, and
// nothing of another.
TEST(SyncLiveFeedTest, ClientsOfARoomShareOnePullPerVersion) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  pqxx::connection app(url);
  pqxx::nontransaction(app).exec0("INSERT INTO todo_lists (id, name) VALUES ('l1', 'one'), ('l2', 'two')");
  RunningDaemon daemon(CRBRIDGE_BINARY, Config("live_feed", "", "none"), url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();

  // Packed keys as strings: GCC 12 misreports comparisons of byte vectors in sets.
  const auto key = [](const std::string& id) {
    const Value value = Value::Text(id);
    Blob pk;
    EXPECT_TRUE(EncodePackedPk(std::span(&value, 1), &pk).ok());
    return std::string(pk.begin(), pk.end());
  };
  constexpr int kClientsPerRoom = 4;
  std::map<std::string, std::vector<std::unique_ptr<WsClient>>> rooms;
  for (const std::string room : {"l1", "l2"}) {
    for (int i = 0; i < kClientsPerRoom; ++i) {
      auto client = std::make_unique<WsClient>();
      ASSERT_EQ(client->Connect(daemon.port(), EncodeSubprotocol({room, std::nullopt})), 101);
      AnnouncePresence presence = Presence(daemon);
      presence.sender.fill(static_cast<uint8_t>(10 * (room == "l1" ? 1 : 2) + i));
      client->Send(presence);
      const auto start = client->Receive();
      ASSERT_TRUE(start && std::holds_alternative<StartStreaming>(*start));
      // Catching up: the room's list, from a pull of the client's own.
      const auto caught_up = client->Receive();
      ASSERT_TRUE(caught_up && std::holds_alternative<ChangesMessage>(*caught_up));
      const Blob& first = std::get<ChangesMessage>(*caught_up).changes.at(0).pk;
      EXPECT_EQ(std::string(first.begin(), first.end()), key(room));
      rooms[room].push_back(std::move(client));
    }
  }
  const std::string before = daemon.Get("/metrics").body;

  constexpr int kWrites = 5;
  std::set<std::string> l1_rows;
  for (int i = 0; i < kWrites; ++i) {
    const std::string id = "t" + std::to_string(i);
    pqxx::nontransaction(app).exec0("INSERT INTO todos (id, list_id, title) VALUES ('" + id + "', 'l1', 'x')");
    l1_rows.insert(key(id));
  }
  pqxx::nontransaction(app).exec0("INSERT INTO todos (id, list_id, title) VALUES ('u1', 'l2', 'y')");
  const std::map<std::string, std::set<std::string>> expected = {{"l1", l1_rows}, {"l2", {key("u1")}}};
  for (auto& [room, clients] : rooms) {
    for (auto& client : clients) {
      std::set<std::string> received;
      while (received.size() < expected.at(room).size()) {
        const auto message = client->Receive();
        ASSERT_TRUE(message.has_value()) << room;
        for (const Change& change : std::get<ChangesMessage>(*message).changes) {
          const std::string pk(change.pk.begin(), change.pk.end());
          EXPECT_TRUE(expected.at(room).contains(pk)) << "room " << room << " got a row of another room";
          received.insert(pk);
        }
      }
    }
  }

  const std::string after = daemon.Get("/metrics").body;
  const std::string client_pulls = R"(crbridge_sync_pulls_total{for="client"})";
  const std::string room_pulls = R"(crbridge_sync_pulls_total{for="room"})";
  EXPECT_EQ(MetricValue(after, client_pulls), MetricValue(before, client_pulls)) << after;
  // At most one pull per version for every room together; pulling per
  // client would take kClientsPerRoom times as many.
  const double pulls = MetricValue(after, room_pulls) - MetricValue(before, room_pulls);
  EXPECT_GE(pulls, 1);
  EXPECT_LE(pulls, kWrites + 1) << after;
}

// A client of `room` with a site id of bytes `site`, connected to `daemon`
// and past its catch-up (the room's list, from a pull of its own).
std::unique_ptr<WsClient> CaughtUpClient(RunningDaemon& daemon, const std::string& room, uint8_t site,
                                         std::optional<int> receive_buffer_bytes = std::nullopt) {
  auto client = std::make_unique<WsClient>();
  EXPECT_EQ(client->Connect(daemon.port(), EncodeSubprotocol({room, std::nullopt}), receive_buffer_bytes), 101);
  AnnouncePresence presence = Presence(daemon);
  presence.sender.fill(site);
  client->Send(presence);
  const auto start = client->Receive();
  EXPECT_TRUE(start && std::holds_alternative<StartStreaming>(*start));
  const auto caught_up = client->Receive();
  EXPECT_TRUE(caught_up && std::holds_alternative<ChangesMessage>(*caught_up));
  return client;
}

// Live feeds read every room at once: one commit touching many rooms costs
// one pull for all of them (plus one that finds nothing more), not one per
// room; each room's clients get their room's row and nothing else.
// Group commit: changesets that wait for the database, one behind the
// other, are merged in one transaction, each client's as one. When one of
// them is refused, each is merged again on its own: the refused one's
// client gets the Err, and the others' changesets are all merged.
TEST(SyncGroupCommitTest, WaitingChangesetsAreMergedTogetherAndARefusedOneOnItsOwn) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  pqxx::connection app(url);
  pqxx::nontransaction(app).exec0("INSERT INTO todo_lists (id, name) VALUES ('l1', 'a'), ('l2', 'b'), ('l3', 'c')");
  RunningDaemon daemon(CRBRIDGE_BINARY, Config("group_commit", "", "none"), url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();

  struct Writer {
    WsClient ws;
    SiteId site;
    std::string room;
    int64_t version = 0;  // of its last changeset
  };
  std::vector<std::unique_ptr<Writer>> writers;
  for (int i = 1; i <= 3; ++i) {
    auto writer = std::make_unique<Writer>();
    writer->site.fill(static_cast<uint8_t>(40 + i));
    writer->room = "l" + std::to_string(i);
    ASSERT_EQ(writer->ws.Connect(daemon.port(), EncodeSubprotocol({writer->room, std::nullopt})), 101);
    writer->ws.Send(RawPresence(writer->site, daemon.schema_version()));
    const auto start = writer->ws.Receive();
    ASSERT_TRUE(start && std::holds_alternative<StartStreaming>(*start));
    writers.push_back(std::move(writer));
  }
  // A changeset creating todo `id` in the writer's room, its done column
  // `done` (a value the column cannot hold is refused).
  const auto send = [](Writer& writer, const std::string& id, const Value& done) {
    ChangesMessage changes;
    changes.sender = writer.site;
    changes.since = {writer.version, 0};
    ++writer.version;
    changes.changes = {RawTodoChange(id, "list_id", Value::Text(writer.room), 1, writer.version),
                       RawTodoChange(id, "title", Value::Text(id), 1, writer.version),
                       RawTodoChange(id, "done", done, 1, writer.version)};
    writer.ws.Send(changes);
  };
  const auto waiting = [&] { return MetricValue(daemon.Get("/metrics").body, "crbridge_sync_changesets_waiting"); };
  const auto merged_together = [&] {
    return MetricValue(daemon.Get("/metrics").body, "crbridge_sync_changesets_merged_together_total");
  };
  const auto todos = [&] {
    std::vector<std::string> ids;
    for (const auto& row : pqxx::nontransaction(app).exec("SELECT id FROM todos ORDER BY id")) ids.push_back(row[0].c_str());
    return ids;
  };
  Writer& a = *writers[0];
  Writer& b = *writers[1];
  Writer& c = *writers[2];
  // The app holds the todos table; `blocker` is sent and merged alone (its
  // merge waits for the table), then `behind` are sent: they wait behind
  // it, and are merged once the app lets go.
  const auto hold_then_send = [&](const std::function<void()>& blocker, const std::function<void()>& behind,
                                  double waiting_behind) {
    pqxx::connection holder(url);
    pqxx::work hold(holder);
    hold.exec0("LOCK TABLE todos IN EXCLUSIVE MODE");
    blocker();
    ASSERT_TRUE(Eventually([&] {
      return pqxx::nontransaction(app)
                 .exec1("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
                        "datname = current_database()")[0]
                 .as<int>() == 1;
    }));
    behind();
    ASSERT_TRUE(Eventually([&] { return waiting() == 1 + waiting_behind; })) << daemon.Get("/metrics").body;
    hold.commit();
  };

  hold_then_send([&] { send(a, "a1", Value::Integer(0)); },
                 [&] {
                   send(a, "a2", Value::Integer(1));
                   send(b, "b1", Value::Integer(0));
                   send(a, "a3", Value::Integer(0));
                   send(b, "b2", Value::Integer(1));
                 },
                 4);
  ASSERT_TRUE(Eventually([&] { return waiting() == 0; })) << daemon.Get("/metrics").body;
  EXPECT_EQ(merged_together(), 4) << "a2, b1, a3 and b2 waited behind a1";
  EXPECT_EQ(todos(), (std::vector<std::string>{"a1", "a2", "a3", "b1", "b2"}));

  hold_then_send([&] { send(a, "a4", Value::Integer(0)); },
                 [&] {
                   send(b, "b3", Value::Integer(0));
                   send(c, "c1", Value::Text("yes"));
                   send(a, "a5", Value::Integer(1));
                 },
                 3);
  EXPECT_NE(c.ws.NextErr().find("todos.done: cannot store 'yes'"), std::string::npos);
  ASSERT_TRUE(Eventually([&] { return waiting() == 0; })) << daemon.Get("/metrics").body;
  EXPECT_EQ(merged_together(), 4) << "the merge of b3, c1 and a5 failed; each was merged on its own";
  EXPECT_EQ(todos(), (std::vector<std::string>{"a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3"}));
  // What the server has of each writer: all it sent (c's refused
  // changeset acknowledged as one that can never apply).
  const auto expect_peers_at_their_versions = [&] {
    for (const auto& writer : writers) {
      const auto version = pqxx::nontransaction(app).exec1(
          "SELECT version FROM crbridge.peers WHERE site_id = '\\x" + EncodeHex(writer->site) + "'::bytea")[0];
      EXPECT_EQ(version.as<int64_t>(), writer->version) << writer->room;
    }
  };
  expect_peers_at_their_versions();

  // A changeset that starts past the one before it in the same merge (a
  // gap: one was lost) is not merged; its client is told where the server
  // stands, which is where the one before ended.
  int64_t a6 = 0;
  hold_then_send([&] { send(b, "b4", Value::Integer(0)); },
                 [&] {
                   send(a, "a6", Value::Integer(0));
                   a6 = a.version;
                   a.version += 5;
                   send(a, "a7", Value::Integer(0));
                 },
                 2);
  std::optional<StartStreaming> restart;
  while (!restart) {
    const auto message = a.ws.Receive();
    if (!message) break;
    if (const auto* start = std::get_if<StartStreaming>(&*message)) restart = *start;
  }
  ASSERT_TRUE(restart.has_value());
  EXPECT_EQ(restart->since.version, a6);
  a.version = a6;
  ASSERT_TRUE(Eventually([&] { return waiting() == 0; })) << daemon.Get("/metrics").body;
  EXPECT_EQ(todos(), (std::vector<std::string>{"a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2", "b3", "b4"}));
  expect_peers_at_their_versions();
}

TEST(SyncLiveFeedTest, OneCommitToManyRoomsIsOnePullForAllOfThem) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  pqxx::connection app(url);
  constexpr int kRooms = 12;
  pqxx::nontransaction(app).exec0("INSERT INTO todo_lists (id) SELECT 'l' || g FROM generate_series(1, " +
                                  std::to_string(kRooms) + ") g");
  RunningDaemon daemon(CRBRIDGE_BINARY, Config("live_feed_rooms", "", "none"), url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 1; i <= kRooms; ++i) clients.push_back(CaughtUpClient(daemon, "l" + std::to_string(i), 100 + i));
  const std::string before = daemon.Get("/metrics").body;
  pqxx::nontransaction(app).exec0("INSERT INTO todos (id, list_id, title) SELECT 't' || g, 'l' || g, 'x' FROM "
                                  "generate_series(1, " + std::to_string(kRooms) + ") g");
  for (int i = 1; i <= kRooms; ++i) {
    const auto message = clients[i - 1]->Receive();
    ASSERT_TRUE(message && std::holds_alternative<ChangesMessage>(*message)) << "room l" << i;
    std::set<std::string> rows;
    for (const Change& change : std::get<ChangesMessage>(*message).changes) {
      rows.insert(change.table + " " + change.val.ToSql());
    }
    EXPECT_TRUE(rows.contains("todos 'l" + std::to_string(i) + "'")) << "room l" << i;
    EXPECT_FALSE(rows.contains("todos 'l" + std::to_string(i % kRooms + 1) + "'")) << "room l" << i;
  }
  const std::string after = daemon.Get("/metrics").body;
  const std::string room_pulls = R"(crbridge_sync_pulls_total{for="room"})";
  EXPECT_LE(MetricValue(after, room_pulls) - MetricValue(before, room_pulls), 2) << after;
}

// A membership that moves more rows into a room than a room feed holds
// (one version, placed at once) reaches every client of the room from the
// feed: the feed pulls the next batch once a client has read the last,
// never so far ahead of the clients that it drops rows they have not read,
// which each would then pull from the database alone.
TEST(SyncLiveFeedTest, AMoveLargerThanTheFeedReachesEveryClientFromTheFeed) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  pqxx::connection app(url);
  // About 5 changes and 1 KB a row: 50,000 changes and 10 MB, past the
  // 20,000 changes a feed holds, and past what the sockets buffer (about
  // 4 MB).
  constexpr size_t kRows = 10000;
  pqxx::nontransaction(app).exec0(
      "CREATE TABLE list_members (list_id text NOT NULL, user_id text NOT NULL, PRIMARY KEY (list_id, user_id));"
      "INSERT INTO todo_lists (id) VALUES ('l0'), ('l1'); INSERT INTO list_members VALUES ('l0', 'u1');"
      "INSERT INTO todos (id, list_id, title) SELECT 't' || g, 'l1', repeat('x', 1000) FROM generate_series(1, " +
      std::to_string(kRows) + ") g");
  const std::string config = Config("live_feed_move", "", "none");
  std::ifstream in(config);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(config) << text.substr(0, text.find("tables:")) + "tables:\n" + SharedListsTables(false) +
                               text.substr(text.find("\nlog:"));
  RunningDaemon daemon(CRBRIDGE_BINARY, config, url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  constexpr int kClients = 4;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(CaughtUpClient(daemon, "u1", 120 + i, 64 * 1024));
  const std::string before = daemon.Get("/metrics").body;
  pqxx::nontransaction(app).exec0("INSERT INTO list_members VALUES ('l1', 'u1')");
  // The clients read nothing for a while: their sockets fill up, and a
  // feed that pulled on regardless would drop most of the rows.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  std::vector<size_t> received(kClients);
  std::vector<std::thread> readers;
  for (int i = 0; i < kClients; ++i) {
    readers.emplace_back([&, i] {
      std::set<std::string> rows;
      while (rows.size() < kRows) {
        const auto message = clients[i]->Receive();
        if (!message) break;
        for (const Change& change : std::get<ChangesMessage>(*message).changes) {
          if (change.table == "todos") rows.insert(std::string(change.pk.begin(), change.pk.end()));
        }
      }
      received[i] = rows.size();
    });
  }
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(received, std::vector<size_t>(kClients, kRows));
  const std::string after = daemon.Get("/metrics").body;
  const std::string client_pulls = R"(crbridge_sync_pulls_total{for="client"})";
  EXPECT_EQ(MetricValue(after, client_pulls), MetricValue(before, client_pulls)) << after;
}

// Config() with server.max_outgoing_message_bytes set to `bytes`.
std::string ConfigWithOutgoingMessageBytes(const std::string& slot, size_t bytes) {
  const std::string path = Config(slot, "", "none");
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string key = "max_outgoing_message_bytes: ";
  const size_t at = text.find(key);
  EXPECT_NE(at, std::string::npos) << "configs/postgres.yaml sets " << key;
  if (at != std::string::npos) text.replace(at, text.find(' ', at + key.size()) - at, key + std::to_string(bytes));
  std::ofstream(path) << text;
  return path;
}

// A message may end inside a version. A client cut off after part of one
// records that version (ws-client records the version of the last change
// it got) and is sent the whole version again when it comes back: no row
// of it is lost.
TEST(SyncLargeRowsTest, AClientCutInsideAVersionGetsAllOfItAfterReconnecting) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  pqxx::connection app(url);
  pqxx::nontransaction(app).exec0("INSERT INTO todo_lists (id, name) VALUES ('l1', 'large')");
  RunningDaemon daemon(CRBRIDGE_BINARY, ConfigWithOutgoingMessageBytes("cut_inside", 256 * 1024), url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  // One version of 2 MB: 20 rows of 100 KB, two to a message.
  pqxx::nontransaction(app).exec0(
      "INSERT INTO todos (id, list_id, title) SELECT 'r' || g, 'l1', repeat('x', 100000) FROM generate_series(1, 20) g");
  ASSERT_TRUE(Eventually([&] {
    return pqxx::nontransaction(app).exec1("SELECT count(*) FROM crbridge.todos__clock")[0].as<int>() == 20;
  })) << daemon.process().Output();

  std::set<std::string> received;  // packed keys of the todos
  AnnouncePresence presence = Presence(daemon);
  presence.sender.fill(31);
  {
    WsClient first;
    ASSERT_EQ(first.Connect(daemon.port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
    first.Send(presence);
    while (received.empty()) {
      const auto message = first.Receive();
      ASSERT_TRUE(message.has_value());
      const auto* changes = std::get_if<ChangesMessage>(&*message);
      if (changes == nullptr) continue;
      for (const Change& c : changes->changes) {
        if (c.table != "todos") continue;
        received.insert(std::string(c.pk.begin(), c.pk.end()));
        presence.last_seens = {{changes->sender, {c.db_version, 0}}};
      }
    }
  }
  ASSERT_LT(received.size(), 20u) << "the first message holds part of the version";
  WsClient again;
  ASSERT_EQ(again.Connect(daemon.port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
  again.Send(presence);
  while (received.size() < 20) {
    const auto message = again.Receive();
    ASSERT_TRUE(message.has_value()) << received.size() << " rows of 20";
    if (const auto* changes = std::get_if<ChangesMessage>(&*message)) {
      for (const Change& c : changes->changes) {
        if (c.table == "todos") received.insert(std::string(c.pk.begin(), c.pk.end()));
      }
    }
  }
}

// Bytes in Changes messages and held for clients are bounded by
// server.max_outgoing_message_bytes: clients that never read, connecting
// to a room of large rows and staying while it grows, cost crbridge a
// bounded number of bytes each (its resident memory, read from /proc,
// stays under a bound derived from the limits), and a client that reads
// gets every row, in messages of at most that size.
TEST(SyncMemoryTest, ClientsThatDoNotReadHoldABoundedNumberOfBytes) {
  constexpr size_t kMessageBytes = 512 * 1024;  // server.max_outgoing_message_bytes
  constexpr size_t kRowBytes = 256000;
  constexpr int kNonReaders = 6;
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  pqxx::connection app(url);
  pqxx::nontransaction(app).exec0("INSERT INTO todo_lists (id, name) VALUES ('l1', 'large')");
  int rows_written = 0;
  const auto write_rows = [&](int transactions, int rows_per_transaction) {
    for (int t = 0; t < transactions; ++t, rows_written += rows_per_transaction) {
      pqxx::nontransaction(app).exec0(
          "INSERT INTO todos (id, list_id, title) SELECT 'r' || g, 'l1', repeat(chr(97 + g % 26), " +
          std::to_string(kRowBytes) + ") FROM generate_series(" + std::to_string(rows_written) + ", " +
          std::to_string(rows_written + rows_per_transaction - 1) + ") g");
    }
  };
  // Freed memory goes back at once under AddressSanitizer too (its
  // quarantine would hold up to 256 MB of it), so that resident memory
  // shows what crbridge holds.
  const std::string asan_options = std::getenv("ASAN_OPTIONS") != nullptr ? std::getenv("ASAN_OPTIONS") : "";
  setenv("ASAN_OPTIONS", (asan_options + ":quarantine_size_mb=16").c_str(), 1);
  RunningDaemon daemon(CRBRIDGE_BINARY, ConfigWithOutgoingMessageBytes("non_readers", kMessageBytes), url);
  setenv("ASAN_OPTIONS", asan_options.c_str(), 1);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();

  WsClient reader;
  ASSERT_EQ(reader.Connect(daemon.port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
  reader.Send(Presence(daemon));
  std::set<std::string> received;  // packed keys of the todos
  const auto read_all = [&] {
    while (received.size() < static_cast<size_t>(rows_written)) {
      size_t bytes = 0;
      const auto message = reader.Receive(std::chrono::seconds(120), &bytes);
      ASSERT_TRUE(message.has_value()) << received.size() << " rows of " << rows_written;
      const auto* changes = std::get_if<ChangesMessage>(&*message);
      if (changes == nullptr) continue;
      std::set<std::string> rows;
      for (const Change& c : changes->changes) {
        if (c.table == "todos") rows.insert(std::string(c.pk.begin(), c.pk.end()));
      }
      EXPECT_TRUE(bytes <= kMessageBytes || rows.size() == 1) << "a message of " << bytes << " bytes";
      received.insert(rows.begin(), rows.end());
    }
  };
  // One app transaction of 51 MB: one version, far larger than a message.
  write_rows(1, 200);
  read_all();

  const pid_t pid = daemon.process().pid();
  const std::string sent = "crbridge_sync_changes_sent_total";
  const double sent_before = MetricValue(daemon.Get("/metrics").body, sent);
  const size_t before = ResidentBytes(pid);
  ResetPeakResident(pid);
  std::vector<std::unique_ptr<WsClient>> non_readers;
  for (int i = 0; i < kNonReaders; ++i) {
    non_readers.push_back(std::make_unique<WsClient>());
    ASSERT_EQ(non_readers.back()->Connect(daemon.port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
    AnnouncePresence presence = Presence(daemon);
    presence.sender.fill(static_cast<uint8_t>(100 + i));
    non_readers.back()->Send(presence);
  }
  // They are being sent the room, and read none of it.
  ASSERT_TRUE(Eventually([&] { return MetricValue(daemon.Get("/metrics").body, sent) >= sent_before + kNonReaders; }))
      << daemon.Get("/metrics").body;
  write_rows(10, 10);
  read_all();

  // What each client that does not read holds: one pull, cut at about a
  // message's bytes (at most two messages); the room's feed: 16 messages;
  // capture: an app transaction of the second part (2.5 MB) a few times
  // over while it records it; and what allocators keep.
  constexpr size_t kMiB = 1 << 20;
  const size_t bound = kNonReaders * 2 * kMessageBytes + 16 * kMessageBytes + 32 * kMiB + 64 * kMiB;
  const size_t peak = PeakResidentBytes(pid);
  EXPECT_LT(static_cast<double>(peak) - static_cast<double>(before), static_cast<double>(bound))
      << "resident memory grew from " << before / kMiB << " MiB to a peak of " << peak / kMiB << " MiB";
  const double queued = MetricValue(daemon.Get("/metrics").body, "crbridge_sync_queued_bytes");
  EXPECT_GE(queued, 0);
  EXPECT_LE(queued, static_cast<double>(kNonReaders * 2 * kMessageBytes));
}

std::string Token(const std::string& key, const char* rooms_json, int64_t expires_in) {
  return JwtToken(key, JWT_ALG_HS256, rooms_json, std::time(nullptr) + expires_in);
}

TEST(SyncAuthEndToEndTest, TokensAreCheckedBeforeTheUpgrade) {
  const std::string key = "the end to end test key";
  setenv("CRBRIDGE_JWT_SECRET", key.c_str(), 1);
  RunningDaemon daemon(CRBRIDGE_BINARY, Config("jwt_clients", "", "jwt"),
                       TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql"));
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  const std::string granted = Token(key, R"({"rooms": ["l1"]})", 60);

  EXPECT_EQ(RefusedUpgrade(daemon.port(), EncodeSubprotocol({"l1", std::nullopt})).first, 401);
  const auto expired = RefusedUpgrade(daemon.port(), EncodeSubprotocol({"l1", Token(key, R"({"rooms": ["l1"]})", -5)}));
  EXPECT_EQ(expired.first, 401);
  EXPECT_EQ(expired.second, "the token has expired\n");
  EXPECT_EQ(RefusedUpgrade(daemon.port(), EncodeSubprotocol({"l2", granted})).first, 403);
  EXPECT_EQ(
      RefusedUpgrade(daemon.port(), EncodeSubprotocol({"l1", Token("not the key", R"({"rooms": ["l1"]})", 60)})).first,
      401);
  WsClient allowed;
  ASSERT_EQ(allowed.Connect(daemon.port(), EncodeSubprotocol({"l1", granted})), 101);
  allowed.Send(Presence(daemon));
  const auto answer = allowed.Receive();
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(std::holds_alternative<StartStreaming>(*answer));
  EXPECT_EQ(daemon.process().Output().find(granted), std::string::npos) << "tokens are never logged";
}

}  // namespace
}  // namespace crbridge::testing
