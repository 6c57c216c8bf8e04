// `crbridge tail` (the real binary) against librdkafka's mock cluster:
// events of docs/kafka.md produced into the topic are printed one line
// each, a malformed one raw with a warning; a MariaDB source's events
// show their binlog position; topic_per_table reads every table's topic
// and nothing else; a config without kafka is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kafka/mock_kafka.h"
#include "processes/subprocess.h"

namespace crbridge::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kServerSite = "9f1c00000000000000000000000000e2";
constexpr const char* kClientSite = "0a4b0000000000000000000000000077";

constexpr const char* kPostgresSource =
    "source:\n"
    "  type: postgres\n"
    "  url: postgresql://app@127.0.0.1:1/app\n";
constexpr const char* kMariaDbSource =
    "source:\n"
    "  type: mysql\n"
    "  url: mysql://app@127.0.0.1:1/app\n"
    "  server_id: 4242\n";

// A config whose source is never contacted: tail reads only its kafka section.
std::string WriteConfig(const std::string& name, const std::string& kafka_section,
                        const std::string& source = kPostgresSource) {
  const std::filesystem::path path = std::filesystem::path(::testing::TempDir()) / name;
  std::ofstream(path) << source
                      << "schema_name: todo_app\n"
                         "tables:\n"
                         "  - name: todos\n"
                      << kafka_section;
  return path.string();
}

// An event as crbridge writes it (docs/kafka.md).
std::string Event(const std::string& op, const std::string& id, int64_t db_version, const std::string& columns,
                  bool from_client = false) {
  const std::string source =
      from_client ? R"({"connector": "crbridge", "origin": "client", "lsn": null, "client_site_id": ")" +
                        std::string(kClientSite) + R"(", "ts_ms": 1764547200123})"
                  : R"({"connector": "crbridge", "origin": "app", "lsn": "0/16B37)" + std::to_string(db_version) +
                        R"(", "client_site_id": null, "ts_ms": 1764547200123})";
  return R"({"op": ")" + op + R"(", "table": "todos", "source_table": "public.todos", "key": {"id": ")" + id +
         R"("}, "columns": )" + columns + R"(, "crr": {"db_version": )" + std::to_string(db_version) +
         R"(, "seq": 0, "cl": 1, "pk": "01", "site_id": ")" + kServerSite + R"("}, "source": )" + source +
         R"(, "ts_ms": 1764547200140})";
}

void ProduceEvent(MockKafka& kafka, const std::string& topic, const std::string& id, int64_t db_version,
                  const std::string& value) {
  const Status status = kafka.Produce(topic, "todos/" + id, value,
                                      {{"crbridge.site_id", kServerSite}, {"crbridge.db_version", std::to_string(db_version)}});
  ASSERT_TRUE(status.ok()) << status.ToString();
}

struct TailRun {
  int exit_code;
  std::vector<std::string> lines;  // stdout
  std::string errors;              // stderr
};

TailRun Tail(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CRBRIDGE_BINARY, "tail"};
  argv.insert(argv.end(), args.begin(), args.end());
  Subprocess tail(argv, {.pipe_stdin = false, .separate_stderr = true});
  TailRun run{tail.Wait(seconds(90)), {}, tail.Errors()};
  std::istringstream out(tail.Output());
  for (std::string line; std::getline(out, line);) run.lines.push_back(line);
  return run;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

TEST(CrbridgeTailTest, PrintsEveryEventFromTheBeginningOneLineEachAndAMalformedOneRawWithAWarning) {
  MockKafka kafka;
  ASSERT_TRUE(kafka.CreateTopic("crbridge.changes", 1).ok());  // one partition: the order is the produce order
  const std::string topic = "crbridge.changes";
  ProduceEvent(kafka, topic, "t1", 40,
               Event("c", "t1", 40,
                     R"({"title": {"value": "milk", "col_version": 1, "site_id": "9f1c"},
                         "note": {"value": null, "col_version": 1, "site_id": "9f1c"},
                         "done": {"value": 0, "col_version": 1, "site_id": "9f1c"}})"));
  ProduceEvent(kafka, topic, "t1", 41,
               Event("u", "t1", 41, R"({"title": {"value": "oat milk", "col_version": 3, "site_id": "9f1c"}})"));
  ProduceEvent(kafka, topic, "t2", 42,
               Event("u", "t2", 42, R"({"photo": {"value": {"base64": "iVBORw=="}, "col_version": 2, "site_id": "9f1c"}})"));
  ProduceEvent(kafka, topic, "t1", 43,
               Event("u", "t1", 43, R"({"done": {"value": 1, "col_version": 2, "site_id": "0a4b"}})", true));
  ProduceEvent(kafka, topic, "t2", 44, Event("d", "t2", 44, "{}", true));
  ProduceEvent(kafka, topic, "t3", 45, "not json at all");

  const std::string config = WriteConfig("tail.yaml", "kafka:\n  brokers: " + kafka.Bootstraps() + "\n");
  const TailRun run = Tail({"--config", config, "--from-beginning", "--max", "6", "--timeout-ms", "60000"});
  EXPECT_EQ(run.exit_code, 0) << run.errors;
  EXPECT_EQ(Joined(run.lines),
            "todos 't1' insert v40 title='milk'(cv1) note=NULL(cv1) done=0(cv1)  [app 0/16B3740]\n"
            "todos 't1' update v41 title='oat milk'(cv3)  [app 0/16B3741]\n"
            "todos 't2' update v42 photo=x'89504e47'(cv2)  [app 0/16B3742]\n"
            "todos 't1' update v43 done=1(cv2)  [client 0a4b0000000000000000000000000077]\n"
            "todos 't2' delete v44  [client 0a4b0000000000000000000000000077]\n"
            "not json at all\n");
  EXPECT_EQ(run.errors,
            "crbridge tail: warning: crbridge.changes partition 0 offset 5: not a well-formed event: not JSON\n");
}

TEST(CrbridgeTailTest, EventsOfAMariaDbSourceShowTheirBinlogPosition) {
  MockKafka kafka;
  ASSERT_TRUE(kafka.CreateTopic("crbridge.changes", 1).ok());
  std::string event = Event("u", "t1", 12, R"({"title": {"value": "milk", "col_version": 2, "site_id": "9f1c"}})");
  const std::string wal_position = R"("lsn": "0/16B3712")";
  event.replace(event.find(wal_position), wal_position.size(), R"("lsn": "mariadb-bin.000003:1234")");
  ProduceEvent(kafka, "crbridge.changes", "t1", 12, event);

  const std::string config =
      WriteConfig("tail_mariadb.yaml", "kafka:\n  brokers: " + kafka.Bootstraps() + "\n", kMariaDbSource);
  const TailRun run = Tail({"--config", config, "--from-beginning", "--max", "1", "--timeout-ms", "60000"});
  EXPECT_EQ(run.exit_code, 0) << run.errors;
  EXPECT_EQ(Joined(run.lines), "todos 't1' update v12 title='milk'(cv2)  [app mariadb-bin.000003:1234]\n");
}

TEST(CrbridgeTailTest, WithTopicPerTableItReadsEveryTablesTopicAndNoOther) {
  MockKafka kafka;
  ProduceEvent(kafka, "app.changes.todos", "t1", 7,
               Event("u", "t1", 7, R"({"title": {"value": "a", "col_version": 2, "site_id": "9f1c"}})"));
  ProduceEvent(kafka, "app.changes.todo_lists", "l1", 8, Event("d", "l1", 8, "{}"));
  ProduceEvent(kafka, "app.changesXtodos", "t9", 9, Event("d", "t9", 9, "{}"));  // "." is not a wildcard
  ProduceEvent(kafka, "app.changes", "t9", 10, Event("d", "t9", 10, "{}"));

  const std::string config = WriteConfig(
      "tail_per_table.yaml",
      "kafka:\n  brokers: " + kafka.Bootstraps() + "\n  topic: app.changes\n  topic_per_table: true\n");
  // Three wanted, two there: it prints both, waits for a third and gives up.
  const TailRun run = Tail({"--config", config, "--from-beginning", "--max", "3", "--timeout-ms", "8000"});
  EXPECT_EQ(run.exit_code, 1) << run.errors;
  EXPECT_EQ(std::set<std::string>(run.lines.begin(), run.lines.end()),
            (std::set<std::string>{"todos 't1' update v7 title='a'(cv2)  [app 0/16B377]",
                                   "todos 'l1' delete v8  [app 0/16B378]"}))
      << Joined(run.lines);
  EXPECT_NE(run.errors.find("crbridge: tail: 2 of 3 events, then none for 8000 ms"), std::string::npos)
      << run.errors;
}

TEST(CrbridgeTailTest, ItPrintsOnlyNewEventsWithoutFromBeginning) {
  MockKafka kafka;
  ASSERT_TRUE(kafka.CreateTopic("crbridge.changes", 2).ok());
  ProduceEvent(kafka, "crbridge.changes", "old", 1, Event("d", "old", 1, "{}"));
  const std::string config = WriteConfig("tail_new.yaml", "kafka:\n  brokers: " + kafka.Bootstraps() + "\n");
  Subprocess tail({CRBRIDGE_BINARY, "tail", "--config", config, "--max", "1", "--timeout-ms", "60000"},
                  {.pipe_stdin = false, .separate_stderr = true});
  // It has joined once its group has a position at the end of every
  // partition; until then a new event might be read or not. Produce
  // repeatedly until one is printed.
  for (int i = 0; i < 60 && tail.Output().empty(); ++i) {
    ProduceEvent(kafka, "crbridge.changes", "new", 2, Event("d", "new", 2, "{}"));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(tail.Wait(seconds(30)), 0) << tail.Errors();
  EXPECT_EQ(tail.Output(), "todos 'new' delete v2  [app 0/16B372]\n");
}

TEST(CrbridgeTailTest, AConfigWithoutKafkaIsRefusedNamingTheFile) {
  const std::string config = WriteConfig("tail_no_kafka.yaml", "");
  const TailRun run = Tail({"--config", config});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.errors, "crbridge: " + config + ": no kafka section: tail reads the events crbridge publishes there\n");
  EXPECT_TRUE(run.lines.empty());
}

}  // namespace
}  // namespace crbridge::testing
