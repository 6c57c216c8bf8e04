// App writes that capture has not recorded yet, racing client merges in
// rooms, on Postgres and MariaDB: the merge records the app's write first
// (docs/design.md, "App write racing a client merge"), and a client's
// changes then merge against the row as the app left it: a row the app
// moved out of the writer's room takes none of them and leaves the writer;
// a row the writer's changes would move out keeps the app's values. After
// the race, every client of every room holds what the database holds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crbridge/server/core/sync_store.h"
#include "databases/test_databases.h"
#include "peers/sync_peers.h"
#include "todo_app/shared_lists.h"
#include "todo_app/todo_app.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
namespace {

// The shared-lists app: carol and alice members of l1, bob of l2, todo t1
// in l1, all recorded by a merge of a client of no room.
std::unique_ptr<Server> SharedLists(ServerKind kind) {
  auto database = std::make_unique<TodoAppDatabase>(kind);
  CreateListMembers(*database);
  auto server = std::make_unique<Server>(std::move(database), SharedListsTables(true));
  Client admin(*server);
  admin.Exec("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries'), ('l2', 'work');"
             "INSERT INTO list_members VALUES ('l1', 'carol'), ('l1', 'alice'), ('l2', 'bob');"
             "INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk');");
  const Status pushed = admin.Push(*server);
  EXPECT_TRUE(pushed.ok()) << pushed.ToString();
  return server;
}

// A client of `room` that has pulled it.
std::unique_ptr<Client> ClientOf(Server& server, const std::string& room) {
  auto client = std::make_unique<Client>(server);
  client->room = room;
  const Status pulled = client->Pull(server);
  EXPECT_TRUE(pulled.ok()) << pulled.ToString();
  return client;
}

std::vector<std::string> TodosOf(Client& client) { return client.Rows("todos", "id, list_id, title"); }

void Push(Client& client, Server& server) {
  const Status pushed = client.Push(server);
  ASSERT_TRUE(pushed.ok()) << pushed.ToString();
}

void Pull(Client& client, Server& server) {
  const Status pulled = client.Pull(server);
  ASSERT_TRUE(pulled.ok()) << pulled.ToString();
}

class RoomRaceTest : public ::testing::TestWithParam<ServerKind> {};

// The app moves t1 to bob's list; before capture records it, carol edits
// t1: her edit is not applied, t1 leaves her, and bob gets it as the app
// left it (not held back forever as a row whose clock lags its values).
TEST_P(RoomRaceTest, ARowTheAppMovedOutOfTheWritersRoomTakesNoneOfTheWriteAndReachesItsNewRoom) {
  auto server = SharedLists(GetParam());
  auto carol = ClientOf(*server, "carol");
  auto bob = ClientOf(*server, "bob");
  ASSERT_EQ(TodosOf(*carol), std::vector<std::string>{"t1|l1|milk"});
  server->database->Sql("UPDATE todos SET list_id = 'l2' WHERE id = 't1'");
  carol->Exec("UPDATE todos SET title = 'oat milk'");
  Push(*carol, *server);
  EXPECT_EQ(server->Rows("todos", "id, list_id, title"), std::vector<std::string>{"t1|l2|milk"});
  Pull(*bob, *server);
  EXPECT_EQ(TodosOf(*bob), std::vector<std::string>{"t1|l2|milk"});
  Pull(*carol, *server);
  EXPECT_EQ(TodosOf(*carol), std::vector<std::string>{});
}

// The app renames t1; before capture records it, carol moves t1 to a list
// she is not a member of: t1 stays in l1 with the app's title, on carol and
// on alice.
TEST_P(RoomRaceTest, ARowKeptInTheWritersRoomKeepsTheAppsWriteNotCapturedYet) {
  auto server = SharedLists(GetParam());
  auto carol = ClientOf(*server, "carol");
  auto alice = ClientOf(*server, "alice");
  server->database->Sql("UPDATE todos SET title = 'bread' WHERE id = 't1'");
  carol->Exec("UPDATE todos SET list_id = 'l2'");
  Push(*carol, *server);
  EXPECT_EQ(server->Rows("todos", "id, list_id, title"), std::vector<std::string>{"t1|l1|bread"});
  for (Client* client : {carol.get(), alice.get()}) {
    Pull(*client, *server);
    EXPECT_EQ(TodosOf(*client), std::vector<std::string>{"t1|l1|bread"});
  }
}

// Carol deletes t1, then brings it back in bob's list: the server keeps it
// dead, and carol deletes it again.
TEST_P(RoomRaceTest, ADeadRowBroughtBackOutsideTheWritersRoomStaysDead) {
  auto server = SharedLists(GetParam());
  auto carol = ClientOf(*server, "carol");
  carol->Exec("DELETE FROM todos WHERE id = 't1'");
  Push(*carol, *server);
  carol->Exec("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l2', 'back')");
  Push(*carol, *server);
  EXPECT_EQ(server->Rows("todos", "id"), std::vector<std::string>{});
  Pull(*carol, *server);
  EXPECT_EQ(TodosOf(*carol), std::vector<std::string>{});
}

// Rooms by column: the app moves t1 to l2; before capture records it, a
// client of l1 edits t1. The changeset is taken (not refused), the edit is
// not applied, t1 leaves l1 and reaches l2 as the app left it.
TEST_P(RoomRaceTest, ARoomColumnRowTheAppMovedOutTakesNoneOfTheWriteAndLeavesTheRoom) {
  Server server(GetParam());
  Client admin(server);
  admin.Exec("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries'), ('l2', 'work');"
             "INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk'), ('t2', 'l1', 'eggs');");
  Push(admin, server);
  auto first = ClientOf(server, "l1");
  auto second = ClientOf(server, "l2");
  server.database->Sql("UPDATE todos SET list_id = 'l2' WHERE id = 't1'");
  first->Exec("UPDATE todos SET title = title || '!'");
  Push(*first, server);
  EXPECT_EQ(server.Rows("todos", "id, list_id, title"), (std::vector<std::string>{"t1|l2|milk", "t2|l1|eggs!"}));
  Pull(*first, server);
  EXPECT_EQ(TodosOf(*first), std::vector<std::string>{"t2|l1|eggs!"});
  Pull(*second, server);
  EXPECT_EQ(TodosOf(*second), std::vector<std::string>{"t1|l2|milk"});
}

INSTANTIATE_TEST_SUITE_P(BothDatabases, RoomRaceTest, AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
