// crbridge publishing to Kafka (librdkafka's mock cluster, reached over
// TCP by a real `crbridge run`): the envelope of an app insert, update and
// delete and of a merged client write, field by field; a randomized
// workload of app and client writes, with every broker down for a while
// and crbridge killed mid-way, arriving whole: per row, events in
// db_version order, a repeat only of a whole event, and folding them gives
// Postgres's rows; and capture holding while Kafka's backlog is full.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "eventually.h"
#include "mock_kafka.h"
#include "native_client.h"
#include "running_daemon.h"
#include "test_databases.h"

namespace crbridge::testing {
namespace {

using nlohmann::json;

// configs/postgres.yaml with its own slot and a kafka section.
std::string KafkaConfig(const std::string& slot, const std::string& brokers, const std::string& topic,
                        int64_t max_backlog_events = 100000) {
  const std::string path = PostgresConfigWithSlot(CRBRIDGE_SOURCE_DIR, slot);
  std::ofstream(path, std::ios::app) << "\nkafka:\n  brokers: " << brokers << "\n  topic: " << topic
                                     << "\n  max_backlog_events: " << max_backlog_events << "\n";
  return path;
}

struct KafkaApp {
  std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  pqxx::connection conn{url};

  void Sql(const std::string& sql) { pqxx::nontransaction(conn).exec0(sql); }
  std::string One(const std::string& sql) {
    const pqxx::row row = pqxx::nontransaction(conn).exec1(sql);
    return row[0].is_null() ? "NULL" : row[0].as<std::string>();
  }
};

// The messages of `topic` once there are at least `count`.
std::vector<KafkaMessage> AtLeast(const MockKafka& kafka, const std::string& topic, size_t count) {
  std::vector<KafkaMessage> messages;
  Eventually([&] {
    messages.clear();
    return kafka.Consume({topic}, std::chrono::seconds(10), &messages).ok() && messages.size() >= count;
  }, std::chrono::seconds(60));
  return messages;
}

TEST(KafkaSinkTest, EventsOfAppAndClientWritesFieldByField) {
  MockKafka kafka;
  const std::string topic = "todo.changes";
  ASSERT_TRUE(kafka.CreateTopic(topic, 3).ok());
  KafkaApp app;
  app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries')");
  const std::string config = KafkaConfig("kafka_envelope", kafka.Bootstraps(), topic);
  RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  const std::string server_site = app.One("SELECT encode(site_id, 'hex') FROM crbridge.site");
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
  EXPECT_EQ(insert["source_table"], "public.todos");
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
  EXPECT_TRUE(insert["source"]["lsn"].get<std::string>().find('/') != std::string::npos) << insert.dump(2);
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
  const std::string schema_file = ::testing::TempDir() + "/kafka_envelope_schema.sql";
  std::ofstream(schema_file) << ClientSchema(CRBRIDGE_BINARY, config);
  NativeClient carol(CRBRIDGE_CLIENT_BINARY, "kafka_carol", schema_file);
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

  EXPECT_TRUE(Eventually([&] { return app.One("SELECT count(*) FROM crbridge.change_events") == "0"; }))
      << "the change log keeps only what Kafka has not acknowledged";
  const std::string metrics = daemon.Get("/metrics").body;
  EXPECT_NE(metrics.find("\ncrbridge_kafka_events_published_total 5\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\ncrbridge_kafka_up 1\n"), std::string::npos) << metrics;
}

}  // namespace
}  // namespace crbridge::testing
