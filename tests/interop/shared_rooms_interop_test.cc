// Rooms by membership and by reference, with the published vlcn client on
// Postgres and MariaDB: a shared-lists app where each user is a room, a list is in the
// room of each of its members (room_members), a todo is where its list is
// and a comment where its todo is (room_via, a chain of depth two).
// Memberships removed and added, rows moved between parents, offline
// writes to rows that left the room, and writes into a list the user is
// not a member of (docs/design.md, "Rooms by membership and by reference").
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "databases/test_databases.h"
#include "eventually.h"
#include "peers/crsqlite_peer.h"
#include "processes/running_daemon.h"
#include "todo_app/shared_lists.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
namespace {

using std::chrono::seconds;

// The shared lists, and comments where their todo is; clients may write
// their own memberships when `members_writable`.
std::string Tables(bool members_writable) {
  return "tables:\n" + SharedListsTables(members_writable) + R"(  - name: comments
    room_via:
      column: todo_id
      table: todos
)";
}

// `parts` joined as text (NULL as NULL): by || on Postgres and SQLite,
// CONCAT on MariaDB.
std::string Cat(const std::vector<std::string>& parts, bool mariadb) {
  std::string out;
  for (const std::string& part : parts) {
    out += (out.empty() ? "" : (mariadb ? ", ' ', " : " || ' ' || ")) + ("COALESCE(" + part + ", 'NULL')");
  }
  return mariadb ? "CONCAT(" + out + ")" : out;
}

// What a user's room holds, one line per row: lists, memberships, todos,
// comments. On a client (`user` empty), which holds its room's rows alone,
// every row; on the database, the rows of `user`'s room.
std::string RoomRowsSql(const std::string& user, bool mariadb = false) {
  const bool database = !user.empty();
  const std::string lists = " WHERE id IN (SELECT list_id FROM list_members WHERE user_id = '" + user + "')";
  const std::string todos = " WHERE list_id IN (SELECT list_id FROM list_members WHERE user_id = '" + user + "')";
  const auto where = [&](const std::string& condition) { return database ? condition : std::string(); };
  return "SELECT " + Cat({"'list'", "id", "name"}, mariadb) + " AS line FROM todo_lists" + where(lists) +
         " UNION ALL SELECT " + Cat({"'member'", "list_id", "user_id"}, mariadb) + " FROM list_members" +
         where(" WHERE user_id = '" + user + "'") + " UNION ALL SELECT " +
         Cat({"'todo'", "id", "list_id", "title", "CASE WHEN done THEN 'done' ELSE 'open' END"}, mariadb) + " FROM todos" + where(todos) + " UNION ALL SELECT " +
         Cat({"'comment'", "id", "todo_id", "body"}, mariadb) + " FROM comments" +
         where(" WHERE todo_id IN (SELECT id FROM todos" + todos + ")") + " ORDER BY 1";
}

// The shared-lists app (the todo app with memberships and comments) and
// crbridge in front of it.
struct System {
  System(ServerKind kind, const std::string& name, bool members_writable = false) : app(kind) {
    const std::string key = kind == ServerKind::kPostgres ? "text" : "VARCHAR(64)";
    CreateListMembers(app);
    app.Sql("CREATE TABLE comments (id " + key + " PRIMARY KEY, todo_id " + key + " NOT NULL, body " + key +
            " NOT NULL DEFAULT '')");
    app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries'), ('l2', 'work')");
    app.Sql("INSERT INTO list_members VALUES ('l1', 'alice'), ('l1', 'bob'), ('l2', 'bob')");
    app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk'), ('t2', 'l2', 'report')");
    app.Sql("INSERT INTO comments VALUES ('c1', 't1', 'oat?'), ('c2', 't2', 'by friday')");
    const std::string config = app.Config(CRBRIDGE_SOURCE_DIR, name);
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text = text.substr(0, text.find("tables:")) + Tables(members_writable) + text.substr(text.find("\nlog:"));
    std::ofstream(config) << text;
    daemon = std::make_unique<RunningDaemon>(CRBRIDGE_BINARY, config, app.url);
    schema = ClientSchema(CRBRIDGE_BINARY, config);
  }

  std::unique_ptr<CrSqlitePeer> Client(const std::string& user) {
    auto client = std::make_unique<CrSqlitePeer>();
    client->Automigrate("todo_app", schema);
    client->Connect(daemon->SyncUrl(), user);
    return client;
  }

  std::string ClientRows(CrSqlitePeer& client) {
    std::string out;
    // The peer reads a value as its type's name, then the value.
    for (const auto& row : client.Query("SELECT 'text', line FROM (" + RoomRowsSql("") + ")")) {
      out += row[0].text() + "\n";
    }
    return out;
  }

  std::string DatabaseRows(const std::string& user) {
    std::string out;
    for (const auto& row : app.Rows(RoomRowsSql(user, IsMysqlFamily(app.kind())))) {
      out += row[0].value_or("NULL") + "\n";
    }
    return out;
  }

  // Whether `client` comes to hold exactly the rows of `user`'s room.
  bool Holds(CrSqlitePeer& client, const std::string& user) {
    return Eventually([&] { return ClientRows(client) == DatabaseRows(user); }, seconds(30));
  }

  std::string Failure(CrSqlitePeer& client, const std::string& user) {
    return "client:\n" + ClientRows(client) + "database:\n" + DatabaseRows(user) + "crbridge:\n" +
           daemon->process().Output();
  }

  // Rows in the database: nothing a client lost was deleted there.
  std::string Counts() {
    return app.One("SELECT count(*) FROM todo_lists") + " " + app.One("SELECT count(*) FROM todos") + " " +
           app.One("SELECT count(*) FROM comments");
  }

  TodoAppDatabase app;
  std::unique_ptr<RunningDaemon> daemon;
  std::string schema;
};

class SharedRoomsTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(SharedRoomsTest, MembershipsAndReferencesPlaceRowsAsTheyChange) {
  System system(GetParam(), "shared_rooms");
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.daemon->process().Output();
  auto alice = system.Client("alice");
  auto bob = system.Client("bob");
  ASSERT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  ASSERT_TRUE(system.Holds(*bob, "bob")) << system.Failure(*bob, "bob");
  ASSERT_EQ(system.ClientRows(*alice), "comment c1 t1 oat?\nlist l1 groceries\nmember l1 alice\ntodo t1 l1 milk open\n");

  // Alice's own write: it must come back to her with the rows.
  alice->Exec("UPDATE comments SET body = 'oat, please' WHERE id = 'c1'");
  ASSERT_TRUE(Eventually([&] { return system.app.One("SELECT body FROM comments WHERE id = 'c1'") == "oat, please"; }))
      << system.daemon->process().Output();

  // A member removed: the list, its todos and their comments leave her.
  system.app.Sql("DELETE FROM list_members WHERE list_id = 'l1' AND user_id = 'alice'");
  EXPECT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  EXPECT_EQ(system.ClientRows(*alice), "");
  EXPECT_EQ(system.Counts(), "2 2 2");

  // Meanwhile bob edits the list's rows; then alice is a member again and
  // gets them back whole, as they are now.
  bob->Exec("UPDATE todos SET title = 'whole milk' WHERE id = 't1'");
  ASSERT_TRUE(Eventually([&] { return system.app.One("SELECT title FROM todos WHERE id = 't1'") == "whole milk"; }))
      << system.daemon->process().Output();
  system.app.Sql("INSERT INTO list_members VALUES ('l1', 'alice'), ('l2', 'alice')");
  EXPECT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  EXPECT_NE(system.ClientRows(*alice).find("todo t1 l1 whole milk open"), std::string::npos) << system.ClientRows(*alice);
  EXPECT_NE(system.ClientRows(*alice).find("comment c1 t1 oat, please"), std::string::npos) << system.ClientRows(*alice);

  // Back in her room, the row's causal length is her room's: her writes
  // merge column by column with another member's made offline meanwhile.
  bob->Disconnect();
  bob->Exec("UPDATE todos SET done = 1 WHERE id = 't1'");
  alice->Exec("UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
  ASSERT_TRUE(Eventually([&] { return system.app.One("SELECT title FROM todos WHERE id = 't1'") == "oat milk"; }))
      << system.daemon->process().Output();
  bob->Connect(system.daemon->SyncUrl(), "bob");
  EXPECT_TRUE(system.Holds(*bob, "bob")) << system.Failure(*bob, "bob");
  EXPECT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  EXPECT_NE(system.ClientRows(*alice).find("todo t1 l1 oat milk done"), std::string::npos) << system.ClientRows(*alice);

  // A todo moving between lists takes its comments along.
  system.app.Sql("DELETE FROM list_members WHERE list_id = 'l2' AND user_id = 'alice'");
  system.app.Sql("UPDATE todos SET list_id = 'l2' WHERE id = 't1'");
  EXPECT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  EXPECT_TRUE(system.Holds(*bob, "bob")) << system.Failure(*bob, "bob");
  EXPECT_EQ(system.ClientRows(*alice), "list l1 groceries\nmember l1 alice\n");
  system.app.Sql("UPDATE todos SET list_id = 'l1' WHERE id = 't2'");
  EXPECT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");

  // Clients write in their own lists, and nowhere else.
  alice->Exec("INSERT INTO todos (id, list_id, title) VALUES ('t3', 'l1', 'eggs')");
  alice->Exec("INSERT INTO comments (id, todo_id, body) VALUES ('c3', 't3', 'a dozen')");
  ASSERT_TRUE(Eventually([&] { return system.app.One("SELECT count(*) FROM comments WHERE id = 'c3'") == "1"; }))
      << system.daemon->process().Output();
  EXPECT_TRUE(system.Holds(*bob, "bob")) << system.Failure(*bob, "bob");
  // A todo in a list she is not a member of is not taken, and leaves her;
  // one moved to such a list comes back to hers.
  alice->Exec("INSERT INTO todos (id, list_id, title) VALUES ('t4', 'l2', 'not mine')");
  alice->Exec("UPDATE todos SET list_id = 'l2', title = 'moved' WHERE id = 't3'");
  EXPECT_TRUE(system.daemon->process().WaitForOutput("outside the client's room", seconds(30)))
      << system.daemon->process().Output();
  EXPECT_TRUE(system.daemon->process().WaitForOutput("would move rows out of the client's room", seconds(30)))
      << system.daemon->process().Output();
  EXPECT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  EXPECT_TRUE(system.Holds(*bob, "bob")) << system.Failure(*bob, "bob");
  EXPECT_EQ(system.app.One("SELECT count(*) FROM todos WHERE id = 't4'"), "0");
  EXPECT_EQ(system.app.One("SELECT title FROM todos WHERE id = 't3'"), "eggs");
  EXPECT_EQ(system.Counts(), "2 3 3");
  alice->Disconnect();
  bob->Disconnect();
}

TEST_P(SharedRoomsTest, AMemberRemovedWhileOfflineHasTheirEditNotAppliedAndLosesTheRows) {
  System system(GetParam(), "shared_rooms_offline");
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.daemon->process().Output();
  auto alice = system.Client("alice");
  auto bob = system.Client("bob");
  ASSERT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  alice->Disconnect();
  alice->Exec("UPDATE todos SET title = 'mine' WHERE id = 't1'");
  system.app.Sql("DELETE FROM list_members WHERE list_id = 'l1' AND user_id = 'alice'");
  ASSERT_TRUE(system.Holds(*bob, "bob")) << system.Failure(*bob, "bob");
  alice->Connect(system.daemon->SyncUrl(), "alice");
  EXPECT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  EXPECT_EQ(system.ClientRows(*alice), "");
  EXPECT_TRUE(system.daemon->process().WaitForOutput("another room", seconds(30))) << system.daemon->process().Output();
  EXPECT_EQ(system.app.One("SELECT title FROM todos WHERE id = 't1'"), "milk");
  EXPECT_TRUE(system.Holds(*bob, "bob")) << system.Failure(*bob, "bob");
  alice->Disconnect();
  bob->Disconnect();
}

// Moves made by clients behave as the app's: a client that may write its
// memberships joins a list and gets its rows whole, leaves it and loses
// them (nothing deleted on the server), and creates a list with itself as
// a member and a todo in it in one changeset.
TEST_P(SharedRoomsTest, AClientJoiningAndLeavingAListGetsAndLosesItsRows) {
  System system(GetParam(), "shared_rooms_joins", true);
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.daemon->process().Output();
  auto alice = system.Client("alice");
  auto bob = system.Client("bob");
  ASSERT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  const std::string before = system.ClientRows(*alice);

  alice->Exec("INSERT INTO list_members VALUES ('l2', 'alice')");
  ASSERT_TRUE(Eventually([&] {
    return system.app.One("SELECT count(*) FROM list_members WHERE user_id = 'alice'") == "2";
  })) << system.daemon->process().Output();
  EXPECT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  EXPECT_NE(system.ClientRows(*alice).find("comment c2 t2 by friday"), std::string::npos) << system.ClientRows(*alice);

  alice->Exec("DELETE FROM list_members WHERE list_id = 'l2' AND user_id = 'alice'");
  ASSERT_TRUE(Eventually([&] {
    return system.app.One("SELECT count(*) FROM list_members WHERE user_id = 'alice'") == "1";
  })) << system.daemon->process().Output();
  EXPECT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  EXPECT_EQ(system.ClientRows(*alice), before);
  EXPECT_EQ(system.Counts(), "2 2 2");

  alice->Exec("INSERT INTO todo_lists (id, name) VALUES ('l9', 'hers');"
              "INSERT INTO list_members VALUES ('l9', 'alice');"
              "INSERT INTO todos (id, list_id, title) VALUES ('t9', 'l9', 'new')");
  ASSERT_TRUE(Eventually([&] { return system.app.One("SELECT count(*) FROM todos WHERE id = 't9'") == "1"; }))
      << system.daemon->process().Output();
  EXPECT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  EXPECT_TRUE(system.Holds(*bob, "bob")) << system.Failure(*bob, "bob");
  EXPECT_EQ(system.ClientRows(*bob).find("t9"), std::string::npos) << system.ClientRows(*bob);
  alice->Disconnect();
  bob->Disconnect();
}

// P1 for rooms by membership and by reference: random memberships added
// and removed, todos moved between lists and edited by the app and by
// clients (some offline for a while); once all is quiet every client holds
// exactly its user's rows, value for value, and nothing a client lost was
// deleted in the database (the workload deletes nothing). Under load the
// app's moves race the clients' edits (room_race_test.cc has each race).
TEST_P(SharedRoomsTest, RandomMembershipsAndMovesConverge) {
  System system(GetParam(), "shared_rooms_random");
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.daemon->process().Output();
  system.app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l3', 'trips')");
  const std::vector<std::string> users = {"alice", "bob", "carol", "dave"};
  const std::vector<std::string> lists = {"l1", "l2", "l3"};
  std::vector<std::unique_ptr<CrSqlitePeer>> clients;
  std::vector<bool> online;
  for (const std::string& user : users) {
    clients.push_back(system.Client(user));
    online.push_back(true);
  }
  const bool postgres = GetParam() == ServerKind::kPostgres;
  const std::string insert_ignore = postgres ? "INSERT " : "INSERT IGNORE ";
  const std::string on_conflict = postgres ? " ON CONFLICT DO NOTHING" : "";
  std::mt19937 random(17);
  int app_todos = 0;
  for (int round = 0; round < 120; ++round) {
    const std::string user = users[random() % users.size()];
    const std::string list = lists[random() % lists.size()];
    const size_t who = random() % users.size();
    // Keys shared by every user: clients create the same key in different
    // rooms, and their rows merge into one.
    const std::string todo = "'k" + std::to_string(random() % 6) + "'";
    switch (random() % 8) {
      case 0:
        system.app.Sql(insert_ignore + "INTO list_members VALUES ('" + list + "', '" + user + "')" + on_conflict);
        break;
      case 1:
        system.app.Sql("DELETE FROM list_members WHERE list_id = '" + list + "' AND user_id = '" + user + "'");
        break;
      case 2:
        system.app.Sql(insert_ignore + "INTO todos (id, list_id, title) VALUES ('app" + std::to_string(app_todos++) +
                       "', '" + list + "', 'app')" + on_conflict);
        break;
      case 3:
        system.app.Sql("UPDATE todos SET list_id = '" + list + "' WHERE id IN (SELECT id FROM (SELECT id FROM todos "
                       "ORDER BY id LIMIT 1 OFFSET " + std::to_string(random() % 4) + ") AS one)");
        break;
      case 4:
        system.app.Sql("UPDATE todos SET title = 'app " + std::to_string(round) + "' WHERE list_id = '" + list + "'");
        break;
      case 5:
        // A client adds a todo to a list it may or may not be a member of
        // (not taken when not: the todo leaves it).
        clients[who]->Exec("INSERT OR IGNORE INTO todos (id, list_id, title) VALUES (" + todo + ", '" + list +
                           "', '" + users[who] + "')");
        break;
      case 6:
        clients[who]->Exec("UPDATE todos SET title = '" + users[who] + " " + std::to_string(round) + "', done = 1 - done");
        break;
      default:
        if (online[who]) {
          clients[who]->Disconnect();
        } else {
          clients[who]->Connect(system.daemon->SyncUrl(), users[who]);
        }
        online[who] = !online[who];
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 30));
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    if (!online[i]) clients[i]->Connect(system.daemon->SyncUrl(), users[i]);
  }
  // Every todo the app inserted is still there.
  EXPECT_EQ(system.app.One("SELECT count(*) FROM todos WHERE id LIKE 'app%'"), std::to_string(app_todos));
  for (size_t i = 0; i < clients.size(); ++i) {
    EXPECT_TRUE(system.Holds(*clients[i], users[i])) << system.Failure(*clients[i], users[i]);
  }
  for (auto& client : clients) client->Disconnect();
}

INSTANTIATE_TEST_SUITE_P(BothDatabases, SharedRoomsTest, AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
