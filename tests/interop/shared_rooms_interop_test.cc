// Rooms by membership and by reference, with the published vlcn client on
// Postgres: a shared-lists app where each user is a room, a list is in the
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
#include <string>

#include "databases/test_databases.h"
#include "eventually.h"
#include "peers/crsqlite_peer.h"
#include "processes/running_daemon.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kTables = R"(tables:
  - name: todo_lists
    source: public.todo_lists
    room_members:
      table: public.list_members
      key: list_id
      room: user_id
  - name: list_members
    source: public.list_members
    room_column: user_id
    writable: false
  - name: todos
    source: public.todos
    room_via:
      column: list_id
      table: todo_lists
    exclude: [internal_note]
  - name: comments
    source: public.comments
    room_via:
      column: todo_id
      table: todos
)";

// What a user's room holds, one line per row: lists, memberships, todos,
// comments. `in` is "" on a client (which holds its room's rows alone) and
// the room's condition on the database.
std::string RoomRowsSql(const std::string& user, bool database) {
  const std::string lists = database ? " WHERE id IN (SELECT list_id FROM list_members WHERE user_id = '" + user + "')" : "";
  const std::string members = database ? " WHERE user_id = '" + user + "'" : "";
  const std::string todos =
      database ? " WHERE list_id IN (SELECT list_id FROM list_members WHERE user_id = '" + user + "')" : "";
  const std::string comments =
      database ? " WHERE todo_id IN (SELECT id FROM todos" + todos + ")" : "";
  return "SELECT 'list ' || id || ' ' || name AS line FROM todo_lists" + lists +
         " UNION ALL SELECT 'member ' || list_id || ' ' || user_id FROM list_members" + members +
         " UNION ALL SELECT 'todo ' || id || ' ' || list_id || ' ' || title FROM todos" + todos +
         " UNION ALL SELECT 'comment ' || id || ' ' || todo_id || ' ' || body FROM comments" + comments +
         " ORDER BY 1";
}

// The shared-lists app (the todo app with memberships and comments) and
// crbridge in front of it.
struct System {
  explicit System(const std::string& name) : app(ServerKind::kPostgres) {
    app.Sql("CREATE TABLE list_members (list_id text NOT NULL, user_id text NOT NULL, PRIMARY KEY (list_id, user_id))");
    app.Sql("CREATE TABLE comments (id text PRIMARY KEY, todo_id text NOT NULL, body text NOT NULL DEFAULT '')");
    app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries'), ('l2', 'work')");
    app.Sql("INSERT INTO list_members VALUES ('l1', 'alice'), ('l1', 'bob'), ('l2', 'bob')");
    app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk'), ('t2', 'l2', 'report')");
    app.Sql("INSERT INTO comments VALUES ('c1', 't1', 'oat?'), ('c2', 't2', 'by friday')");
    const std::string config = app.Config(CRBRIDGE_SOURCE_DIR, name);
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text = text.substr(0, text.find("tables:")) + kTables + text.substr(text.find("\nlog:"));
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
    for (const auto& row : client.Query("SELECT 'text', line FROM (" + RoomRowsSql("", false) + ")")) {
      out += row[0].text() + "\n";
    }
    return out;
  }

  std::string DatabaseRows(const std::string& user) {
    std::string out;
    for (const auto& row : app.Rows(RoomRowsSql(user, true))) out += row[0].value_or("NULL") + "\n";
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
    return app.One("SELECT (SELECT count(*) FROM todo_lists) || ' ' || (SELECT count(*) FROM todos) || ' ' || "
                   "(SELECT count(*) FROM comments)");
  }

  TodoAppDatabase app;
  std::unique_ptr<RunningDaemon> daemon;
  std::string schema;
};

TEST(SharedRoomsTest, MembershipsAndReferencesPlaceRowsAsTheyChange) {
  System system("shared_rooms");
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.daemon->process().Output();
  auto alice = system.Client("alice");
  auto bob = system.Client("bob");
  ASSERT_TRUE(system.Holds(*alice, "alice")) << system.Failure(*alice, "alice");
  ASSERT_TRUE(system.Holds(*bob, "bob")) << system.Failure(*bob, "bob");
  ASSERT_EQ(system.ClientRows(*alice), "comment c1 t1 oat?\nlist l1 groceries\nmember l1 alice\ntodo t1 l1 milk\n");

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
  EXPECT_NE(system.ClientRows(*alice).find("todo t1 l1 whole milk"), std::string::npos) << system.ClientRows(*alice);

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
  alice->Exec("INSERT INTO todos (id, list_id, title) VALUES ('t4', 'l2', 'not mine')");
  EXPECT_TRUE(system.daemon->process().WaitForOutput("outside room", seconds(30))) << system.daemon->process().Output();
  EXPECT_EQ(system.app.One("SELECT count(*) FROM todos WHERE id = 't4'"), "0");
  EXPECT_EQ(system.Counts(), "2 3 3");
  alice->Disconnect();
  bob->Disconnect();
}

TEST(SharedRoomsTest, AMemberRemovedWhileOfflineHasTheirEditRefusedAndLosesTheRows) {
  System system("shared_rooms_offline");
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

}  // namespace
}  // namespace crbridge::testing
