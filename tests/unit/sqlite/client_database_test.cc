// The native client's file (crbridge/sqlite/client_database.h): the schema
// recorded at init and migrated to its next version, own changes in bounded batches that resume mid-version,
// received changes recorded as the sender's with its last-seen position,
// and a renewed site id keeping the file's own writes its own.
#include "crbridge/sqlite/client_database.h"

#include <gtest/gtest.h>

#include "crbridge/sqlite/schema_version.h"

namespace crbridge {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS todos (id TEXT NOT NULL, title TEXT, done INTEGER, PRIMARY KEY (id));\n"
    "SELECT crsql_as_crr('todos');\n";

std::unique_ptr<ClientDatabase> NewDatabase() {
  std::unique_ptr<ClientDatabase> db;
  EXPECT_TRUE(ClientDatabase::Open(":memory:", &db).ok());
  bool applied = false;
  const Status s = db->Init("todo_app", kSchema, &applied);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(applied);
  return db;
}

void Exec(ClientDatabase& db, const std::string& sql) {
  const Status s = db.Exec(sql, [](const auto&) {});
  ASSERT_TRUE(s.ok()) << s.ToString();
}

TEST(ClientDatabaseTest, InitRecordsTheSchemaOnceAndRefusesAnother) {
  std::unique_ptr<ClientDatabase> db;
  ASSERT_TRUE(ClientDatabase::Open(":memory:", &db).ok());
  ClientSchema schema;
  EXPECT_EQ(db->GetSchema(&schema).code(), Status::Code::kNotFound);
  bool applied = false;
  ASSERT_TRUE(db->Init("todo_app", kSchema, &applied).ok());
  EXPECT_TRUE(applied);
  ASSERT_TRUE(db->GetSchema(&schema).ok());
  EXPECT_EQ(schema.name, "todo_app");
  EXPECT_EQ(schema.version, SchemaVersion(kSchema));
  ASSERT_TRUE(db->Init("todo_app", kSchema, &applied).ok());
  EXPECT_FALSE(applied);
  EXPECT_EQ(db->Init("todo_app", std::string(kSchema) + "-- changed\n", &applied).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(db->Init("other_app", kSchema, &applied).code(), Status::Code::kInvalidArgument);
}

// The schema's next version, as automigrateTo moves to it: a column
// dropped, one added with an index, a new table.
constexpr const char* kNextSchema =
    "CREATE TABLE IF NOT EXISTS todos (id TEXT NOT NULL, title TEXT, priority INTEGER DEFAULT 0, PRIMARY KEY (id));\n"
    "CREATE INDEX IF NOT EXISTS todos_priority ON todos (priority);\n"
    "CREATE TABLE IF NOT EXISTS tags (id TEXT NOT NULL PRIMARY KEY, name TEXT);\n"
    "SELECT crsql_as_crr('todos');\n"
    "SELECT crsql_as_crr('tags');\n";

std::string Text(ClientDatabase& db, const std::string& sql) {
  std::string out;
  const Status s = db.Exec(sql, [&](const auto& row) {
    for (size_t i = 0; i < row.size(); ++i) out += (i > 0 ? "|" : "") + row[i].value_or("NULL");
    out += "\n";
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(ClientDatabaseTest, MigrateMovesToTheNextVersionAsAutomigrateDoes) {
  auto db = NewDatabase();
  Exec(*db, "INSERT INTO todos VALUES ('t1', 'milk', 1), ('t2', NULL, 0)");
  Exec(*db, "CREATE TABLE drafts (id TEXT PRIMARY KEY, body TEXT); CREATE INDEX drafts_body ON drafts (body)");
  bool applied = false;
  const Status migrated = db->Migrate("todo_app", kNextSchema, &applied);
  ASSERT_TRUE(migrated.ok()) << migrated.ToString();
  EXPECT_TRUE(applied);
  ClientSchema schema;
  ASSERT_TRUE(db->GetSchema(&schema).ok());
  EXPECT_EQ(schema.version, SchemaVersion(kNextSchema));
  EXPECT_EQ(Text(*db, "SELECT id, title, priority FROM todos ORDER BY id"), "t1|milk|0\nt2|NULL|0\n");
  EXPECT_EQ(Text(*db, "SELECT name FROM sqlite_master WHERE name IN ('todos_priority', 'drafts_body') ORDER BY name"),
            "drafts_body\ntodos_priority\n")
      << "a table the schema does not have keeps its indexes";
  EXPECT_EQ(Text(*db, "SELECT count(*) FROM crsql_changes WHERE cid IN ('done', 'priority')"), "0\n")
      << "the dropped column's clocks go; default values get none, as with cr-sqlite";
  Exec(*db, "UPDATE todos SET priority = 2 WHERE id = 't1'; INSERT INTO tags VALUES ('g1', 'home')");
  EXPECT_EQ(Text(*db, "SELECT \"table\", cid, quote(val) FROM crsql_changes WHERE cid IN ('priority', 'name') "
                      "ORDER BY \"table\""),
            "tags|name|'home'\ntodos|priority|2\n");
  ASSERT_TRUE(db->Migrate("todo_app", kNextSchema, &applied).ok());
  EXPECT_FALSE(applied);

  std::string new_key = kNextSchema;
  new_key.replace(new_key.find("PRIMARY KEY (id)"), 16, "PRIMARY KEY (id, title)");
  new_key.replace(new_key.find("title TEXT,"), 11, "title TEXT NOT NULL DEFAULT '',");  // a CRR key is NOT NULL
  const Status refused = db->Migrate("todo_app", new_key, &applied);
  EXPECT_EQ(refused.code(), Status::Code::kInvalidArgument) << refused.ToString();
  EXPECT_NE(refused.message().find("the primary key of todos changed"), std::string::npos) << refused.message();
  ASSERT_TRUE(db->GetSchema(&schema).ok());
  EXPECT_EQ(schema.version, SchemaVersion(kNextSchema)) << "a refused migration changes nothing";
  EXPECT_EQ(db->Migrate("other_app", kSchema, &applied).code(), Status::Code::kInvalidArgument);
}

TEST(ClientDatabaseTest, ExecReturnsRowsAsText) {
  auto db = NewDatabase();
  Exec(*db, "INSERT INTO todos VALUES ('t1', 'milk', 1), ('t2', NULL, 0)");
  std::vector<std::vector<std::optional<std::string>>> rows;
  ASSERT_TRUE(db->Exec("SELECT id, title, done FROM todos ORDER BY id", [&](const auto& row) { rows.push_back(row); }).ok());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::optional<std::string>>{"t1", "milk", "1"}));
  EXPECT_EQ(rows[1], (std::vector<std::optional<std::string>>{"t2", std::nullopt, "0"}));
  EXPECT_FALSE(db->Exec("SELECT nothing FROM nowhere", [](const auto&) {}).ok());
}

TEST(ClientDatabaseTest, OwnChangesComeInBoundedBatchesThatResumeWithinAVersion) {
  auto db = NewDatabase();
  Exec(*db, "INSERT INTO todos VALUES ('t1', 'milk', 0), ('t2', 'eggs', 0)");  // one version
  Exec(*db, "UPDATE todos SET done = 1 WHERE id = 't1'");
  Changeset all;
  ASSERT_TRUE(db->OwnChangesAfter({0, 0}, 100, &all).ok());
  ASSERT_EQ(all.size(), 4u);  // t1.done counts once: its latest write
  Changeset resent;
  StreamPosition after{0, 0};
  for (;;) {
    Changeset batch;
    ASSERT_TRUE(db->OwnChangesAfter(after, 2, &batch).ok());  // splits the first version
    if (batch.empty()) break;
    EXPECT_LE(batch.size(), 2u);
    after = {batch.back().db_version, batch.back().seq};
    resent.insert(resent.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(resent, all);
  for (const Change& c : all) EXPECT_FALSE(c.site_id.has_value()) << "sent without a site id, as ws-client sends";
}

TEST(ClientDatabaseTest, ReceivedChangesAreTheSendersAndAreNeverSentBack) {
  auto server = NewDatabase();
  auto client = NewDatabase();
  Exec(*server, "INSERT INTO todos VALUES ('t1', 'milk', 0)");
  Changeset from_server;
  ASSERT_TRUE(server->OwnChangesAfter({0, 0}, 100, &from_server).ok());
  ASSERT_TRUE(client->ApplyFrom(server->site_id(), from_server).ok());
  StreamPosition seen;
  ASSERT_TRUE(client->LastSeen(server->site_id(), &seen).ok());
  EXPECT_EQ(seen, (StreamPosition{from_server.back().db_version, 0}));
  std::vector<LastSeen> seens;
  ASSERT_TRUE(client->LastSeens(&seens).ok());
  ASSERT_EQ(seens.size(), 1u);
  EXPECT_EQ(seens[0].site, server->site_id());

  Changeset own;
  ASSERT_TRUE(client->OwnChangesAfter({0, 0}, 100, &own).ok());
  EXPECT_TRUE(own.empty());
  Exec(*client, "UPDATE todos SET done = 1 WHERE id = 't1'");
  ASSERT_TRUE(client->OwnChangesAfter({0, 0}, 100, &own).ok());
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].cid, "done");
}

TEST(ClientDatabaseTest, ARenewedSiteIdKeepsTheFilesOwnWritesItsOwn) {
  auto db = NewDatabase();
  Exec(*db, "INSERT INTO todos VALUES ('t1', 'milk', 0)");
  const SiteId before = db->site_id();
  ASSERT_TRUE(db->RenewSiteId().ok());
  EXPECT_NE(db->site_id(), before);
  Changeset own;
  ASSERT_TRUE(db->OwnChangesAfter({0, 0}, 100, &own).ok());
  EXPECT_EQ(own.size(), 2u);
  Exec(*db, "UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
  ASSERT_TRUE(db->OwnChangesAfter({0, 0}, 100, &own).ok());
  EXPECT_EQ(own.size(), 2u);
}

}  // namespace
}  // namespace crbridge
