// Hostile clients against `crbridge run`, on Postgres and on MariaDB, with
// the published vlcn client as their victim: clocks that leave no room to
// grow, site ids that are not the client's own, and tokens that expire
// while their connection is open (issue 16, items 4, 5 and 8). The hostile
// clients speak the protocol by hand (WsClient); afterwards the vlcn
// clients equal the database and lost nothing.
#include <gtest/gtest.h>
#include <jwt.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/text_encoding.h"
#include "crbridge/sqlite/vlcn_subprotocol.h"
#include "databases/test_databases.h"
#include "eventually.h"
#include "jwt_token.h"
#include "peers/client_todos.h"
#include "peers/crsqlite_peer.h"
#include "peers/ws_client.h"
#include "processes/running_daemon.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;
namespace websocket = boost::beast::websocket;

constexpr int64_t kLargest = std::numeric_limits<int64_t>::max();
constexpr const char* kJwtKey = "the hostile clients test key";

// A token for `rooms_json` (a JSON list) with subject `subject`, expiring
// at `expiry` (with its fraction of a second).
std::string Token(const std::string& subject, const std::string& rooms_json, system_clock::time_point expiry) {
  const double exp = std::chrono::duration<double>(expiry.time_since_epoch()).count();
  const std::string claims =
      R"({"sub": ")" + subject + R"(", "rooms": )" + rooms_json + R"(, "exp": )" + std::to_string(exp) + "}";
  return JwtToken(kJwtKey, JWT_ALG_HS256, claims.c_str(), std::nullopt);
}

// The todo app on a database of `kind`, with lists l1 and l2, and crbridge
// in front of it (with auth mode jwt when `jwt`).
struct System {
  System(ServerKind kind, const std::string& name, bool jwt) : app(kind) {
    app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries'), ('l2', 'work')");
    config = app.Config(CRBRIDGE_SOURCE_DIR, name);
    if (jwt) {
      setenv("CRBRIDGE_JWT_SECRET", kJwtKey, 1);
      std::ifstream in(config);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const std::string none = "auth:\n  mode: none";
      const std::string jwt_auth = "auth:\n  mode: jwt\n  jwt:\n    algorithm: HS256\n    secret_env: CRBRIDGE_JWT_SECRET\n";
      if (const size_t at = text.find(none); at != std::string::npos) {
        text.replace(at, text.find('\n', at + none.size()) - at + 1, jwt_auth);
      } else {
        text += "\n" + jwt_auth;
      }
      std::ofstream(config) << text;
    }
    daemon = std::make_unique<RunningDaemon>(CRBRIDGE_BINARY, config, app.url);
    schema = ClientSchema(CRBRIDGE_BINARY, config);
  }

  // A vlcn client with the app's schema, syncing in `room`.
  std::unique_ptr<CrSqlitePeer> Client(const std::string& room, const std::optional<std::string>& token = std::nullopt) {
    auto client = std::make_unique<CrSqlitePeer>();
    client->Automigrate("todo_app", schema);
    client->Connect(daemon->SyncUrl(), room, token);
    return client;
  }

  std::string Output() { return daemon->process().Output(); }

  TodoAppDatabase app;
  std::string config;
  std::unique_ptr<RunningDaemon> daemon;
  std::string schema;
};

class HostileClientsTest : public ::testing::TestWithParam<ServerKind> {};

// A col_version or causal length at the largest integer would wrap on the
// server's next increment of it (an app write, a delete): the client's
// value would then stay on every client forever, or a row deleted in the
// database stay alive on them. Such changesets are refused whole.
TEST_P(HostileClientsTest, ClocksThatLeaveNoRoomAreRefusedAndEveryoneAgrees) {
  System system(GetParam(), "clock_bounds", false);
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.Output();
  auto alice = system.Client("l1");
  alice->Exec("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk'), ('t2', 'l1', 'bread')");
  ASSERT_TRUE(Eventually([&] { return system.app.One("SELECT count(*) FROM todos") == "2"; })) << system.Output();

  WsClient attacker;
  ASSERT_EQ(attacker.Connect(system.daemon->port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
  SiteId site;
  site.fill(0x66);
  attacker.Send(RawPresence(site, SchemaVersion(system.schema)));
  attacker.Send(ChangesMessage{site, {0, 0}, {RawTodoChange("t1", "title", Value::Text("mine forever"), kLargest, 1)}});
  const std::string col_version = attacker.NextErr();
  EXPECT_NE(col_version.find("todos.title has col_version 9223372036854775807"), std::string::npos) << col_version;
  EXPECT_NE(col_version.find("2^62"), std::string::npos) << col_version;
  attacker.Send(ChangesMessage{site, {0, 0}, {RawTodoChange("t2", kSentinelColumn, Value::Null(), 1, 2, kLargest)}});
  const std::string causal_length = attacker.NextErr();
  EXPECT_NE(causal_length.find("has causal length 9223372036854775807"), std::string::npos) << causal_length;

  // The app writes both rows; a client that comes later and the one that
  // was there agree with the database.
  system.app.Sql("UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
  system.app.Sql("DELETE FROM todos WHERE id = 't2'");
  auto bob = system.Client("l1");
  ASSERT_TRUE(Eventually([&] { return system.app.RoomTodos("l1").find("oat milk") != std::string::npos; }));
  for (CrSqlitePeer* client : {alice.get(), bob.get()}) {
    EXPECT_TRUE(Eventually([&] { return ClientTodos(*client, "l1") == system.app.RoomTodos("l1"); }))
        << "client:\n" << ClientTodos(*client, "l1") << "database:\n" << system.app.RoomTodos("l1") << system.Output();
  }
  // Nothing of the refused changesets is in the clocks either.
  EXPECT_EQ(system.app.One("SELECT count(*) FROM " + system.app.metadata() + ".todos__clock WHERE __cl > 2"), "0");
  EXPECT_EQ(system.app.ColumnVersion("todos", "t1", 2), "2") << "the app's write followed the client's";
  alice->Disconnect();
  bob->Disconnect();
}

// A client announces a victim's site id and, before it hears back, sends a
// changeset as that site which would move its acknowledged position far
// past the victim's unsent writes (making the server drop them). It is
// refused, and so is the server's own site id; the victim's writes arrive.
void ExpectSiteIdsBoundToTheirOwner(ServerKind kind, bool jwt) {
  System system(kind, jwt ? "site_subjects" : "site_rooms", jwt);
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.Output();
  const auto expiry = system_clock::now() + std::chrono::hours(1);
  // Without auth the victim's site is its room's (l1), and the attacker is
  // in another; with auth, it is its subject's, and the attacker has
  // another subject, in the same room.
  const std::optional<std::string> victim_token =
      jwt ? std::optional(Token("alice", R"(["l1"])", expiry)) : std::nullopt;
  const SyncRequest attacker_request = jwt ? SyncRequest{"l1", Token("mallory", R"(["l1", "l2"])", expiry)}
                                           : SyncRequest{"l2", std::nullopt};

  auto victim = system.Client("l1", victim_token);
  victim->Exec("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk')");
  ASSERT_TRUE(Eventually([&] { return system.app.One("SELECT count(*) FROM todos") == "1"; })) << system.Output();
  victim->Disconnect();
  victim->Exec("INSERT INTO todos (id, list_id, title) VALUES ('t2', 'l1', 'bread'), ('t3', 'l1', 'eggs')");

  const SiteId victim_site = victim->site_id();
  WsClient attacker;
  ASSERT_EQ(attacker.Connect(system.daemon->port(), EncodeSubprotocol(attacker_request)), 101);
  attacker.Send(RawPresence(victim_site, SchemaVersion(system.schema)));
  attacker.TrySend(EncodeMessage(ChangesMessage{
      victim_site, {0, 0}, {RawTodoChange("x1", "list_id", Value::Text(attacker_request.room), 1, 1000000)}}));
  // Refused before anything is read for the site: no StartStreaming, which
  // would tell the site's position.
  const auto first = attacker.Receive();
  ASSERT_TRUE(first && std::holds_alternative<ErrMessage>(*first)) << system.Output();
  const std::string refused = std::get<ErrMessage>(*first).message;
  attacker.ExpectErrAndClose();
  EXPECT_NE(refused.find("site id " + EncodeHex(victim_site) + " is bound to another client"), std::string::npos)
      << refused << system.Output();
  EXPECT_EQ(attacker.reason().code, websocket::close_code::policy_error);

  // The server's site id, as every StartStreaming names it.
  SiteId server_site{};
  {
    WsClient probe;
    ASSERT_EQ(probe.Connect(system.daemon->port(), EncodeSubprotocol(attacker_request)), 101);
    SiteId own;
    own.fill(0x77);
    probe.Send(RawPresence(own, SchemaVersion(system.schema)));
    const auto start = probe.Receive();
    ASSERT_TRUE(start && std::holds_alternative<StartStreaming>(*start));
    server_site = std::get<StartStreaming>(*start).exclude_sites.at(0);
  }
  WsClient impostor;
  ASSERT_EQ(impostor.Connect(system.daemon->port(), EncodeSubprotocol(attacker_request)), 101);
  impostor.Send(RawPresence(server_site, SchemaVersion(system.schema)));
  EXPECT_NE(impostor.ExpectErrAndClose().find("is the server's own"), std::string::npos);
  EXPECT_EQ(impostor.reason().code, websocket::close_code::policy_error);

  // The victim comes back: its unsent writes reach the database.
  victim->Connect(system.daemon->SyncUrl(), "l1", victim_token);
  EXPECT_TRUE(Eventually([&] { return system.app.One("SELECT count(*) FROM todos WHERE list_id = 'l1'") == "3"; }))
      << system.Output();
  EXPECT_TRUE(Eventually([&] { return ClientTodos(*victim, "l1") == system.app.RoomTodos("l1"); }));
  EXPECT_EQ(system.app.One("SELECT count(*) FROM todos WHERE id = 'x1'"), "0");
  const std::string metrics = system.daemon->Get("/metrics").body;
  EXPECT_NE(metrics.find("\ncrbridge_sync_site_id_refusals_total 2\n"), std::string::npos) << metrics;
  victim->Disconnect();
}

TEST_P(HostileClientsTest, ASiteIdOfAnotherRoomIsRefused) { ExpectSiteIdsBoundToTheirOwner(GetParam(), false); }

TEST_P(HostileClientsTest, ASiteIdOfAnotherSubjectIsRefused) { ExpectSiteIdsBoundToTheirOwner(GetParam(), true); }

// A connection lives no longer than its token: at its expiry (with its
// fraction of a second) the server closes it, saying why, and nothing the
// client sends from then on is merged. A client that connects again with
// a fresh token sends what was not applied.
TEST_P(HostileClientsTest, AConnectionEndsWhenItsTokenExpires) {
  System system(GetParam(), "token_expiry", true);
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.Output();
  const auto in = [](double s) {
    return system_clock::now() + std::chrono::duration_cast<system_clock::duration>(std::chrono::duration<double>(s));
  };

  // An idle connection is closed at the expiry.
  {
    WsClient idle;
    ASSERT_EQ(idle.Connect(system.daemon->port(), EncodeSubprotocol({"l1", Token("alice", R"(["l1"])", in(2.5))})), 101);
    SiteId site;
    site.fill(0x31);
    idle.Send(RawPresence(site, SchemaVersion(system.schema)));
    EXPECT_EQ(idle.ExpectErrAndClose(), "the token has expired; reconnect with a fresh token");
    EXPECT_EQ(idle.reason().code, websocket::close_code::policy_error);
    EXPECT_EQ(idle.reason_text(), "the token has expired; reconnect with a fresh token");
  }

  // A changeset sent after the expiry is not merged; what the same site
  // sends with a fresh token is.
  SiteId site;
  site.fill(0x32);
  {
    const auto expiry = in(2.5);
    WsClient late;
    ASSERT_EQ(late.Connect(system.daemon->port(), EncodeSubprotocol({"l1", Token("bob", R"(["l1"])", expiry)})), 101);
    late.Send(RawPresence(site, SchemaVersion(system.schema)));
    ASSERT_TRUE(late.Receive().has_value());  // StartStreaming
    std::this_thread::sleep_until(expiry);
    late.TrySend(EncodeMessage(ChangesMessage{site, {0, 0}, {RawTodoChange("late", "list_id", Value::Text("l1"), 1, 1)}}));
    EXPECT_EQ(late.ExpectErrAndClose(), "the token has expired; reconnect with a fresh token");
  }
  {
    WsClient renewed;
    ASSERT_EQ(renewed.Connect(system.daemon->port(), EncodeSubprotocol({"l1", Token("bob", R"(["l1"])", in(600))})), 101);
    renewed.Send(RawPresence(site, SchemaVersion(system.schema)));
    renewed.Send(ChangesMessage{site, {0, 0}, {RawTodoChange("fresh", "list_id", Value::Text("l1"), 1, 2)}});
    // Merges run in order: once the later changeset is in, the earlier one never comes.
    EXPECT_TRUE(Eventually([&] { return system.app.One("SELECT count(*) FROM todos WHERE id = 'fresh'") == "1"; }))
        << system.Output();
    EXPECT_EQ(system.app.One("SELECT count(*) FROM todos WHERE id = 'late'"), "0");
  }

  // The published client: its connection ends with its token; its app
  // connects again with a fresh one, and what it wrote meanwhile arrives.
  auto carol = system.Client("l1", Token("carol", R"(["l1"])", in(8)));
  carol->Exec("INSERT INTO todos (id, list_id, title) VALUES ('c1', 'l1', 'before')");
  ASSERT_TRUE(Eventually([&] { return system.app.One("SELECT count(*) FROM todos WHERE id = 'c1'") == "1"; }))
      << system.Output();
  ASSERT_TRUE(Eventually([&] { return system.Output().find("connection refused") != std::string::npos; }))
      << "ws-client tries again with its expired token, and is refused:\n" << system.Output();
  carol->Exec("INSERT INTO todos (id, list_id, title) VALUES ('c2', 'l1', 'after')");
  carol->Disconnect();
  carol->Connect(system.daemon->SyncUrl(), "l1", Token("carol", R"(["l1"])", in(600)));
  EXPECT_TRUE(Eventually([&] { return system.app.One("SELECT count(*) FROM todos WHERE id = 'c2'") == "1"; }))
      << system.Output();
  EXPECT_TRUE(Eventually([&] { return ClientTodos(*carol, "l1") == system.app.RoomTodos("l1"); }))
      << "client:\n" << ClientTodos(*carol, "l1") << "database:\n" << system.app.RoomTodos("l1");
  carol->Disconnect();
}

// A changeset that waits for the database past the token's expiry (behind
// another the database holds up) is not merged; the one under way is.
TEST_P(HostileClientsTest, AChangesetWaitingPastTheExpiryIsNotMerged) {
  System system(GetParam(), "token_queue", true);
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.Output();
  const auto expiry = system_clock::now() + seconds(3);
  SiteId site;
  site.fill(0x33);
  WsClient client;
  ASSERT_EQ(client.Connect(system.daemon->port(), EncodeSubprotocol({"l1", Token("dave", R"(["l1"])", expiry)})), 101);
  client.Send(RawPresence(site, SchemaVersion(system.schema)));
  ASSERT_TRUE(client.Receive().has_value());  // StartStreaming

  // Every crbridge write takes the version counter's row lock first.
  TodoAppDatabase locker(GetParam(), system.app.url);
  locker.Sql(GetParam() == ServerKind::kPostgres ? "BEGIN" : "START TRANSACTION");
  locker.One("SELECT db_version FROM " + system.app.metadata() + ".clock FOR UPDATE");
  client.Send(ChangesMessage{site, {0, 0}, {RawTodoChange("under_way", "list_id", Value::Text("l1"), 1, 1)}});
  client.Send(ChangesMessage{site, {1, 0}, {RawTodoChange("waiting", "list_id", Value::Text("l1"), 1, 2)}});
  EXPECT_EQ(client.ExpectErrAndClose(), "the token has expired; reconnect with a fresh token");
  locker.Sql("ROLLBACK");

  WsClient renewed;
  ASSERT_EQ(renewed.Connect(system.daemon->port(), EncodeSubprotocol({"l1", Token("dave", R"(["l1"])", expiry + std::chrono::hours(1))})), 101);
  renewed.Send(RawPresence(site, SchemaVersion(system.schema)));
  renewed.Send(ChangesMessage{site, {0, 0}, {RawTodoChange("renewed", "list_id", Value::Text("l1"), 1, 3)}});
  EXPECT_TRUE(Eventually([&] { return system.app.One("SELECT count(*) FROM todos WHERE id = 'renewed'") == "1"; }))
      << system.Output();
  EXPECT_EQ(system.app.One("SELECT count(*) FROM todos WHERE id = 'under_way'"), "1");
  EXPECT_EQ(system.app.One("SELECT count(*) FROM todos WHERE id = 'waiting'"), "0");
}

INSTANTIATE_TEST_SUITE_P(Databases, HostileClientsTest, AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
