// crbridge publishing to Kafka (librdkafka's mock cluster, reached over
// TCP by a real `crbridge run`), from Postgres and from MariaDB: the
// envelope of an app insert, update and delete and of a merged client
// write, field by field; a randomized workload of app and client writes,
// with every broker down for a while and crbridge killed mid-way, arriving
// whole: per row, events in db_version order, a repeat only of a whole
// event, and folding them gives the database's rows; capture holding while
// Kafka's backlog is full; a topic per table; a column added online.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "eventually.h"
#include "kafka/mock_kafka.h"
#include "peers/native_client.h"
#include "processes/running_daemon.h"
#include "databases/test_databases.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
namespace {

using nlohmann::json;

// The config of `app` (named `name`) with a kafka section.
std::string KafkaConfig(const TodoAppDatabase& app, const std::string& name, const std::string& brokers,
                        const std::string& topic, int64_t max_backlog_events = 100000, bool topic_per_table = false) {
  const std::string path = app.Config(CRBRIDGE_SOURCE_DIR, name);
  std::ofstream(path, std::ios::app) << "\nkafka:\n  brokers: " << brokers << "\n  topic: " << topic
                                     << "\n  max_backlog_events: " << max_backlog_events
                                     << "\n  topic_per_table: " << (topic_per_table ? "true" : "false") << "\n";
  return path;
}

// The messages of `topic` once there are at least `count`.
std::vector<KafkaMessage> AtLeast(const MockKafka& kafka, const std::string& topic, size_t count) {
  std::vector<KafkaMessage> messages;
  Eventually([&] {
    messages.clear();
    return kafka.Consume({topic}, std::chrono::seconds(10), &messages).ok() && messages.size() >= count;
  }, std::chrono::seconds(60));
  return messages;
}

bool IsPostgres(const TodoAppDatabase& app) { return app.kind() == ServerKind::kPostgres; }

// The server's site id as events carry it: 32 lowercase hex digits.
std::string ServerSite(TodoAppDatabase& app) {
  const std::string table = app.metadata() + ".site";
  return app.One(IsPostgres(app) ? "SELECT encode(site_id, 'hex') FROM " + table
                                 : "SELECT LOWER(HEX(site_id)) FROM " + table);
}

// The events the change log holds, Kafka not having acknowledged them.
std::string LoggedEvents(TodoAppDatabase& app) {
  return app.One("SELECT count(*) FROM " + app.metadata() + ".change_events");
}

// A per-test name of the database's kind: clients and configs apart.
std::string Named(const TodoAppDatabase& app, const std::string& name) {
  return name + "_" + ServerKindName(app.kind());
}

class KafkaSinkTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(KafkaSinkTest, EventsOfAppAndClientWritesFieldByField) {
  MockKafka kafka;
  const std::string topic = "todo.changes";
  ASSERT_TRUE(kafka.CreateTopic(topic, 3).ok());
  TodoAppDatabase app(GetParam());
  app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries')");
  const std::string config = KafkaConfig(app, "kafka_envelope", kafka.Bootstraps(), topic);
  RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  const std::string server_site = ServerSite(app);
  // The snapshot's list.
  AtLeast(kafka, topic, 1);

  const auto before = std::chrono::system_clock::now();
  const auto recent = [&](const json& ms) {
    const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms.get<int64_t>()));
    return at >= before - std::chrono::seconds(1) && at <= std::chrono::system_clock::now() + std::chrono::seconds(1);
  };
  // Each write is published before the next, so that capture records them apart.
  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk')");
  AtLeast(kafka, topic, 2);
  app.Sql("UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
  AtLeast(kafka, topic, 3);
  app.Sql("DELETE FROM todos WHERE id = 't1'");
  std::vector<KafkaMessage> messages = AtLeast(kafka, topic, 4);
  ASSERT_EQ(messages.size(), 4u) << daemon.process().Output();
  std::vector<KafkaMessage> t1;
  for (const KafkaMessage& m : messages) {
    if (m.key == "todos/010b027431") t1.push_back(m);
  }
  ASSERT_EQ(t1.size(), 3u);
  // One row: one partition, in order.
  EXPECT_EQ(t1[0].partition, t1[2].partition);
  EXPECT_LT(t1[0].offset, t1[1].offset);
  EXPECT_LT(t1[1].offset, t1[2].offset);

  const json insert = json::parse(t1[0].value);
  EXPECT_EQ(insert["op"], "c");
  EXPECT_EQ(insert["table"], "todos");
  // As the config names it: the url's database is implied on MariaDB.
  EXPECT_EQ(insert["source_table"], IsPostgres(app) ? "public.todos" : "todos");
  EXPECT_EQ(insert["key"], json({{"id", "t1"}}));
  const auto server_column = [&](const json& value) {
    return json{{"value", value}, {"col_version", 1}, {"site_id", server_site}};
  };
  EXPECT_EQ(insert["columns"], json({{"list_id", server_column("l1")},
                                     {"title", server_column("milk")},
                                     {"done", server_column(0)},
                                     {"position", server_column(nullptr)},
                                     {"due", server_column(nullptr)}}))
      << insert.dump(2);
  EXPECT_EQ(insert["crr"]["cl"], 1);
  EXPECT_EQ(insert["crr"]["pk"], "010b027431");
  EXPECT_EQ(insert["crr"]["site_id"], server_site);
  EXPECT_EQ(insert["crr"]["seq"], 0);
  EXPECT_EQ(t1[0].headers.at("crbridge.site_id"), server_site);
  EXPECT_EQ(t1[0].headers.at("crbridge.db_version"), std::to_string(insert["crr"]["db_version"].get<int64_t>()));
  EXPECT_EQ(insert["source"]["connector"], "crbridge");
  EXPECT_EQ(insert["source"]["origin"], "app");
  // Where the source transaction's commit ends: a WAL position, or a binlog file and offset.
  EXPECT_TRUE(std::regex_match(insert["source"]["lsn"].get<std::string>(),
                               std::regex(IsPostgres(app) ? "[0-9A-F]+/[0-9A-F]+" : ".+\\.[0-9]{6,}:[0-9]+")))
      << insert.dump(2);
  EXPECT_TRUE(insert["source"]["client_site_id"].is_null());
  EXPECT_TRUE(recent(insert["source"]["ts_ms"])) << insert.dump(2);
  EXPECT_TRUE(recent(insert["ts_ms"])) << insert.dump(2);

  const json update = json::parse(t1[1].value);
  EXPECT_EQ(update["op"], "u");
  EXPECT_EQ(update["columns"], json({{"title", {{"value", "oat milk"}, {"col_version", 2}, {"site_id", server_site}}}}))
      << update.dump(2);
  EXPECT_EQ(update["crr"]["cl"], 1);
  EXPECT_GT(update["crr"]["db_version"].get<int64_t>(), insert["crr"]["db_version"].get<int64_t>());
  EXPECT_GT(update["source"]["lsn"].get<std::string>(), "");

  const json del = json::parse(t1[2].value);
  EXPECT_EQ(del["op"], "d");
  EXPECT_EQ(del["columns"], json::object());
  EXPECT_EQ(del["crr"]["cl"], 2);
  EXPECT_EQ(del["key"], json({{"id", "t1"}}));
  EXPECT_GT(del["crr"]["db_version"].get<int64_t>(), update["crr"]["db_version"].get<int64_t>());

  // A client write, merged: the client's site on its columns and in the source.
  const std::string schema_file = ::testing::TempDir() + "/" + Named(app, "kafka_envelope_schema") + ".sql";
  std::ofstream(schema_file) << ClientSchema(CRBRIDGE_BINARY, config);
  NativeClient carol(CRBRIDGE_CLIENT_BINARY, Named(app, "kafka_carol"), schema_file);
  std::string carol_site = carol.Exec("SELECT lower(hex(crsql_site_id()))");
  carol_site.erase(carol_site.find_last_not_of('\n') + 1);
  carol.Exec("INSERT INTO todos (id, list_id, title, done) VALUES ('t2', 'l1', 'bread', 1)");
  carol.SyncOnce(daemon.SyncUrl(), "l1");
  messages = AtLeast(kafka, topic, 5);
  ASSERT_EQ(messages.size(), 5u);
  const KafkaMessage* merged = nullptr;
  for (const KafkaMessage& m : messages) {
    if (m.key == "todos/010b027432") merged = &m;
  }
  ASSERT_NE(merged, nullptr);
  const json client = json::parse(merged->value);
  EXPECT_EQ(client["op"], "c");
  EXPECT_EQ(client["source"]["origin"], "client");
  EXPECT_TRUE(client["source"]["lsn"].is_null());
  EXPECT_EQ(client["source"]["client_site_id"], carol_site);
  EXPECT_TRUE(recent(client["source"]["ts_ms"])) << client.dump(2);
  const auto carol_column = [&](const json& value) {
    return json{{"value", value}, {"col_version", 1}, {"site_id", carol_site}};
  };
  EXPECT_EQ(client["columns"]["title"], carol_column("bread")) << client.dump(2);
  EXPECT_EQ(client["columns"]["done"], carol_column(1)) << client.dump(2);
  EXPECT_EQ(client["columns"]["list_id"], carol_column("l1")) << client.dump(2);
  EXPECT_EQ(merged->headers.at("crbridge.db_version"), std::to_string(client["crr"]["db_version"].get<int64_t>()));

  EXPECT_TRUE(Eventually([&] { return LoggedEvents(app) == "0"; }))
      << "the change log keeps only what Kafka has not acknowledged";
  const std::string metrics = daemon.Get("/metrics").body;
  EXPECT_NE(metrics.find("\ncrbridge_kafka_events_published_total 5\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\ncrbridge_kafka_up 1\n"), std::string::npos) << metrics;
}

// A row as its events leave it: alive or not, and its columns.
struct FoldedRow {
  bool alive = false;
  json columns = json::object();
  int64_t db_version = 0;
};

// A todo's message key from its id (short ASCII text): the table, then the
// packed key: 01, 0b, the length, the bytes.
std::string PackedKeySql(const TodoAppDatabase& app) {
  return IsPostgres(app) ? "'todos/010b' || lpad(to_hex(length(id)), 2, '0') || encode(convert_to(id, 'UTF8'), 'hex')"
                         : "CONCAT('todos/010b', LPAD(LOWER(HEX(LENGTH(id))), 2, '0'), LOWER(HEX(id)))";
}

// The digits 0 to 9 as a derived table `name` of one column, d (MySQL's
// recursive CTEs stop at 1,000 rows).
std::string Digits(const std::string& name) {
  std::string union_all = "SELECT 0 AS d";
  for (int d = 1; d < 10; ++d) union_all += " UNION ALL SELECT " + std::to_string(d);
  return "(" + union_all + ") " + name;
}

TEST_P(KafkaSinkTest, ARandomWorkloadArrivesWholeThroughBrokerOutagesAndKills) {
  MockKafka kafka;
  const std::string topic = "todo.random";
  ASSERT_TRUE(kafka.CreateTopic(topic, 3).ok());
  TodoAppDatabase app(GetParam());
  app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries')");
  const std::string config = KafkaConfig(app, "kafka_random", kafka.Bootstraps(), topic);
  auto daemon = std::make_unique<RunningDaemon>(CRBRIDGE_BINARY, config, app.url);
  ASSERT_EQ(daemon->WaitForStatus("/readyz", 200).status, 200) << daemon->process().Output();
  const std::string schema_file = ::testing::TempDir() + "/" + Named(app, "kafka_random_schema") + ".sql";
  std::ofstream(schema_file) << ClientSchema(CRBRIDGE_BINARY, config);
  NativeClient carol(CRBRIDGE_CLIENT_BINARY, Named(app, "kafka_random_carol"), schema_file);
  const auto insert_unless_there = [&](const std::string& values) {
    app.Sql(IsPostgres(app) ? "INSERT INTO todos (id, list_id, title) VALUES " + values + " ON CONFLICT DO NOTHING"
                            : "INSERT IGNORE INTO todos (id, list_id, title) VALUES " + values);
  };

  const auto restart = [&](int signal) {
    daemon->process().Signal(signal);
    daemon->process().Wait(std::chrono::seconds(30));
    daemon = std::make_unique<RunningDaemon>(CRBRIDGE_BINARY, config, app.url);
    ASSERT_EQ(daemon->WaitForStatus("/readyz", 200).status, 200) << daemon->process().Output();
  };
  std::mt19937 random(7);
  const auto id = [&] { return "'t" + std::to_string(random() % 12) + "'"; };
  for (int round = 0; round < 160; ++round) {
    if (round == 30) {
      kafka.SetBrokerDown(-1);
      // Several batches wait for Kafka at once when the kill comes.
      app.Sql(IsPostgres(app) ? "INSERT INTO todos (id, list_id, title) SELECT 'b' || g, 'l1', 'bulk' "
                                "FROM generate_series(0, 8999) g"
                              : "INSERT INTO todos (id, list_id, title) SELECT CONCAT('b', a.d * 1000 + b.d * 100 + "
                                "c.d * 10 + e.d), 'l1', 'bulk' FROM " +
                                    Digits("a") + ", " + Digits("b") + ", " + Digits("c") + ", " + Digits("e") +
                                    " WHERE a.d < 9");
    }
    if (round == 60) restart(SIGKILL);  // with events Kafka never acknowledged
    if (round == 90) kafka.SetBrokerUp(-1);
    if (round == 120) restart(SIGKILL);
    const std::string r = std::to_string(round);
    switch (random() % 6) {
      case 0: insert_unless_there("(" + id() + ", 'l1', 'app " + r + "')"); break;
      case 1: app.Sql("UPDATE todos SET title = 'app " + r + "', done = NOT done WHERE id = " + id()); break;
      case 2: app.Sql("UPDATE todos SET position = " + r + ".5 WHERE id = " + id()); break;
      case 3: app.Sql("DELETE FROM todos WHERE id = " + id()); break;
      default:
        carol.Exec("INSERT OR REPLACE INTO todos (id, list_id, title, done) VALUES (" + id() + ", 'l1', 'carol " + r + "', 1)");
        if (round % 4 == 0) carol.SyncOnce(daemon->SyncUrl(), "l1");
    }
  }
  carol.SyncOnce(daemon->SyncUrl(), "l1");
  ASSERT_TRUE(Eventually([&] { return LoggedEvents(app) == "0"; }, std::chrono::seconds(60)))
      << daemon->process().Output();

  std::vector<KafkaMessage> messages;
  ASSERT_TRUE(kafka.Consume({topic}, std::chrono::seconds(30), &messages).ok());
  std::map<std::string, std::vector<const KafkaMessage*>> by_key;
  for (const KafkaMessage& m : messages) by_key[m.key].push_back(&m);
  std::map<std::string, FoldedRow> rows;
  size_t repeats = 0;
  for (const auto& [key, events] : by_key) {
    FoldedRow& row = rows[key];
    std::string last_value;
    for (const KafkaMessage* m : events) {
      ASSERT_EQ(m->partition, events.front()->partition) << key << ": one row, one partition";
      const json event = json::parse(m->value);
      const int64_t version = event["crr"]["db_version"].get<int64_t>();
      if (version == row.db_version) {
        // Sent again after a crash: the same event, whole.
        EXPECT_EQ(m->value, last_value) << key << " v" << version;
        ++repeats;
        continue;
      }
      ASSERT_GT(version, row.db_version) << key << ": events of a row in db_version order";
      row.db_version = version;
      last_value = m->value;
      if (event["op"] == "d") {
        row.alive = false;
        row.columns = json::object();
        continue;
      }
      if (event["op"] == "c") row.columns = json::object();
      row.alive = true;
      for (const auto& [name, column] : event["columns"].items()) row.columns[name] = column["value"];
    }
  }
  // Folding the events gives the database's rows, and each row's last
  // event is its clock's version: nothing was lost.
  const std::string clocks = app.metadata() + ".todos__clock";
  const auto todos = app.Rows("SELECT " + PackedKeySql(app) + ", list_id, title, " +
                              (IsPostgres(app) ? "done::int" : "CAST(done AS SIGNED)") +
                              ", position, c.__db_version FROM todos JOIN " + clocks + " c USING (id)");
  size_t alive = 0;
  for (const auto& [key, row] : rows) alive += row.alive && key.starts_with("todos/") ? 1 : 0;
  EXPECT_EQ(alive, static_cast<size_t>(todos.size()));
  for (const auto& row : todos) {
    const std::string key = *row[0];
    ASSERT_TRUE(rows.contains(key) && rows[key].alive) << key << " is in the database but not alive in Kafka";
    const FoldedRow& folded = rows[key];
    EXPECT_EQ(folded.columns.value("list_id", json()), *row[1]) << key;
    EXPECT_EQ(folded.columns.value("title", json()), *row[2]) << key;
    EXPECT_EQ(folded.columns.value("done", json()), std::stoi(*row[3])) << key;
    if (!row[4]) {
      EXPECT_TRUE(folded.columns.value("position", json()).is_null()) << key;
    } else {
      EXPECT_EQ(folded.columns.value("position", json()), std::stod(*row[4])) << key;
    }
    EXPECT_EQ(folded.db_version, std::stoll(*row[5])) << key << ": the last event carries the clock's version";
  }
  // Dead rows: their last event is the clock's delete.
  for (const auto& clock : app.Rows("SELECT " + PackedKeySql(app) + ", __db_version FROM " + clocks + " WHERE __cl % 2 = 0")) {
    const std::string key = *clock[0];
    ASSERT_TRUE(rows.contains(key)) << key;
    EXPECT_FALSE(rows[key].alive) << key;
    EXPECT_EQ(rows[key].db_version, std::stoll(*clock[1])) << key;
  }
  RecordProperty("repeated_events", static_cast<int>(repeats));
}

// Past kafka.max_backlog_events, capture holds: it records nothing more
// (on Postgres the replication slot keeps the WAL of everything Kafka has
// not acknowledged); when Kafka is back, it all arrives and capture goes on.
TEST_P(KafkaSinkTest, CaptureHoldsWhileKafkasBacklogIsFull) {
  MockKafka kafka;
  const std::string topic = "todo.hold";
  ASSERT_TRUE(kafka.CreateTopic(topic, 3).ok());
  TodoAppDatabase app(GetParam());
  app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries')");
  const std::string config = KafkaConfig(app, "kafka_hold", kafka.Bootstraps(), topic, 1000);
  RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  AtLeast(kafka, topic, 1);

  kafka.SetBrokerDown(-1);
  app.Sql(IsPostgres(app) ? "INSERT INTO todos (id, list_id) SELECT 'b' || i, 'l1' FROM generate_series(1, 1500) i"
                          : "INSERT INTO todos (id, list_id) SELECT CONCAT('b', seq), 'l1' FROM " + MysqlSeries(1500));
  const std::string written = IsPostgres(app) ? app.One("SELECT pg_current_wal_lsn()::text") : "";
  EXPECT_TRUE(daemon.process().WaitForOutput("holding: Kafka's backlog reached kafka.max_backlog_events",
                                             std::chrono::seconds(60)))
      << daemon.process().Output();
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('after', 'l1')");
  const std::string after_clock = "SELECT count(*) FROM " + app.metadata() + ".todos__clock WHERE id = 'after'";
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(app.One(after_clock), "0") << "recorded while holding";
  if (IsPostgres(app)) {
    EXPECT_EQ(app.One("SELECT confirmed_flush_lsn < '" + written +
                      "' FROM pg_replication_slots WHERE slot_name = 'kafka_hold'"),
              "t")
        << "the slot was confirmed past changes Kafka has not acknowledged";
  }
  const std::string held = daemon.Get("/metrics").body;
  EXPECT_NE(held.find("\ncrbridge_kafka_backlog_events 1500\n"), std::string::npos) << held;

  kafka.SetBrokerUp(-1);
  EXPECT_TRUE(Eventually([&] { return app.One(after_clock) == "1"; }, std::chrono::seconds(60)))
      << daemon.process().Output();
  EXPECT_TRUE(daemon.process().WaitForOutput("Kafka caught up; recording again", std::chrono::seconds(10)));
  EXPECT_TRUE(Eventually([&] { return LoggedEvents(app) == "0"; }, std::chrono::seconds(60)));
  std::vector<KafkaMessage> messages;
  ASSERT_TRUE(kafka.Consume({topic}, std::chrono::seconds(30), &messages).ok());
  std::set<std::string> keys;
  for (const KafkaMessage& m : messages) keys.insert(m.key);
  EXPECT_EQ(keys.size(), 1u + 1500u + 1u) << "the list, the 1,500 rows and the one after";
}

TEST_P(KafkaSinkTest, WithTopicPerTableEachTableHasItsTopic) {
  MockKafka kafka;
  TodoAppDatabase app(GetParam());
  app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries')");
  RunningDaemon daemon(CRBRIDGE_BINARY, KafkaConfig(app, "kafka_per_table", kafka.Bootstraps(), "app", 100000, true),
                       app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk')");
  const std::vector<KafkaMessage> lists = AtLeast(kafka, "app.todo_lists", 1);
  const std::vector<KafkaMessage> todos = AtLeast(kafka, "app.todos", 1);
  ASSERT_EQ(lists.size(), 1u) << daemon.process().Output();
  ASSERT_EQ(todos.size(), 1u) << daemon.process().Output();
  EXPECT_EQ(json::parse(lists[0].value)["key"], json({{"id", "l1"}}));
  EXPECT_EQ(json::parse(todos[0].value)["key"], json({{"id", "t1"}}));
  std::vector<KafkaMessage> single;
  ASSERT_TRUE(kafka.Consume({"app"}, std::chrono::seconds(10), &single).ok());
  EXPECT_TRUE(single.empty()) << "nothing goes to the topic itself";
}

// A column the app adds while crbridge runs reaches consumers as
// docs/kafka.md says: the table is read again and each row gets one `u`
// event carrying the new column alone; later writes to it carry it as any
// column.
TEST_P(KafkaSinkTest, AColumnAddedWhileCrbridgeRunsAppearsInTheEvents) {
  MockKafka kafka;
  const std::string topic = "todo.schema";
  ASSERT_TRUE(kafka.CreateTopic(topic, 1).ok());
  TodoAppDatabase app(GetParam());
  app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries')");
  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk'), ('t2', 'l1', 'bread')");
  RunningDaemon daemon(CRBRIDGE_BINARY, KafkaConfig(app, "kafka_schema", kafka.Bootstraps(), topic),
                       app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  AtLeast(kafka, topic, 3);
  const std::string server_site = ServerSite(app);
  // t2's events, once there are `count`.
  const auto t2_events = [&](size_t count) {
    std::vector<json> events;
    Eventually([&] {
      events.clear();
      std::vector<KafkaMessage> messages;
      if (!kafka.Consume({topic}, std::chrono::seconds(10), &messages).ok()) return false;
      for (const KafkaMessage& m : messages) {
        if (m.key == "todos/010b027432") events.push_back(json::parse(m.value));
      }
      return events.size() >= count;
    }, std::chrono::seconds(60));
    return events;
  };

  app.Sql(std::string("ALTER TABLE todos ADD COLUMN priority ") + (IsPostgres(app) ? "integer" : "INT") +
          " NOT NULL DEFAULT 0");
  std::vector<json> events = t2_events(2);
  ASSERT_EQ(events.size(), 2u) << daemon.process().Output();
  EXPECT_EQ(events[1]["op"], "u");
  EXPECT_EQ(events[1]["columns"], json({{"priority", {{"value", 0}, {"col_version", 1}, {"site_id", server_site}}}}))
      << events[1].dump(2);

  app.Sql("UPDATE todos SET priority = 9 WHERE id = 't2'");
  events = t2_events(3);
  ASSERT_EQ(events.size(), 3u) << daemon.process().Output();
  EXPECT_EQ(events[2]["columns"], json({{"priority", {{"value", 9}, {"col_version", 2}, {"site_id", server_site}}}}))
      << events[2].dump(2);
}

INSTANTIATE_TEST_SUITE_P(BothDatabases, KafkaSinkTest, AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
