// The MockKafka fixture, and what librdkafka's mock cluster does for the
// Kafka tests: a producer that knows only the bootstrap address produces
// idempotently with acks=all, a consumer reads it back with key and
// headers, topics are created on first use, and with every broker down
// nothing is acknowledged until the brokers come back (then exactly once).
#include "kafka/mock_kafka.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace crbridge::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<KafkaMessage> ConsumeOrFail(const MockKafka& kafka, const std::vector<std::string>& topics) {
  std::vector<KafkaMessage> messages;
  const Status status = kafka.Consume(topics, seconds(20), &messages);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return messages;
}

TEST(MockKafkaTest, BootstrapsAreLocalhostTcpAddressesOfEveryBroker) {
  MockKafka kafka;
  EXPECT_TRUE(std::regex_match(kafka.Bootstraps(), std::regex(R"(127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2})")))
      << kafka.Bootstraps();
}

TEST(MockKafkaTest, AnIdempotentProducerKnowingOnlyTheBootstrapsProducesAndTheConsumerReadsItAll) {
  MockKafka kafka;
  ASSERT_TRUE(kafka.CreateTopic("events", 3).ok());
  KafkaTestProducer producer(kafka.Bootstraps());
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(producer.Send("events", "row/" + std::to_string(i % 5), "value " + std::to_string(i),
                              {{"crbridge.db_version", std::to_string(i)}})
                    .ok());
  }
  ASSERT_EQ(producer.Flush(seconds(20)), 0);
  EXPECT_TRUE(producer.first_error().ok()) << producer.first_error().ToString();
  EXPECT_EQ(producer.delivered(), 30);

  const std::vector<KafkaMessage> messages = ConsumeOrFail(kafka, {"events"});
  ASSERT_EQ(messages.size(), 30u);
  // One key, one partition, in the order produced.
  std::map<std::string, int32_t> partition_of;
  std::map<std::string, int> last_value_of;
  std::set<int32_t> partitions;
  for (const KafkaMessage& message : messages) {
    EXPECT_EQ(message.topic, "events");
    partitions.insert(message.partition);
    const auto [it, inserted] = partition_of.emplace(message.key, message.partition);
    EXPECT_EQ(it->second, message.partition) << message.key;
    const int i = std::stoi(message.value.substr(6));
    EXPECT_EQ(message.headers.at("crbridge.db_version"), std::to_string(i));
    EXPECT_EQ(message.key, "row/" + std::to_string(i % 5));
    if (last_value_of.count(message.key) != 0) {
      EXPECT_LT(last_value_of[message.key], i);
    }
    last_value_of[message.key] = i;
  }
  EXPECT_GT(partitions.size(), 1u) << "five keys over three partitions";
}

TEST(MockKafkaTest, TopicsAreCreatedOnFirstProduce) {
  MockKafka kafka;
  ASSERT_TRUE(kafka.Produce("crbridge.changes.todos", "todos/01", "{}").ok());
  const std::vector<KafkaMessage> messages = ConsumeOrFail(kafka, {"crbridge.changes.todos", "never.written"});
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].key, "todos/01");
  EXPECT_EQ(messages[0].offset, 0);
}

TEST(MockKafkaTest, WithEveryBrokerDownNothingIsAcknowledgedUntilTheyComeBack) {
  MockKafka kafka;
  ASSERT_TRUE(kafka.CreateTopic("events", 2).ok());
  KafkaTestProducer producer(kafka.Bootstraps());
  ASSERT_TRUE(producer.Send("events", "a", "before").ok());
  ASSERT_EQ(producer.Flush(seconds(20)), 0);

  for (int id = 1; id <= MockKafka::kBrokers; ++id) kafka.SetBrokerDown(id);
  ASSERT_TRUE(producer.Send("events", "a", "while down 1").ok());
  ASSERT_TRUE(producer.Send("events", "b", "while down 2").ok());
  EXPECT_EQ(producer.Flush(seconds(3)), 2) << "acknowledged with every broker down";
  EXPECT_EQ(producer.delivered(), 1);
  EXPECT_TRUE(producer.first_error().ok()) << producer.first_error().ToString();

  for (int id = 1; id <= MockKafka::kBrokers; ++id) kafka.SetBrokerUp(id);
  EXPECT_EQ(producer.Flush(seconds(30)), 0);
  EXPECT_EQ(producer.delivered(), 3);
  EXPECT_TRUE(producer.first_error().ok()) << producer.first_error().ToString();

  const std::vector<KafkaMessage> messages = ConsumeOrFail(kafka, {"events"});
  std::vector<std::string> values;
  for (const KafkaMessage& message : messages) values.push_back(message.value);
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<std::string>{"before", "while down 1", "while down 2"})) << "each exactly once";
}

TEST(MockKafkaTest, OneBrokerDownDoesNotStopProduceToPartitionsItDoesNotLead) {
  MockKafka kafka;
  ASSERT_TRUE(kafka.CreateTopic("events", 6).ok());
  // Broker 1 leads half the partitions (the mock's own choice is random:
  // the keys may all have missed the ones it led).
  for (int partition = 0; partition < 6; ++partition) {
    ASSERT_TRUE(kafka.SetPartitionLeader("events", partition, partition % 2 == 0 ? 1 : 2).ok());
  }
  kafka.SetBrokerDown(1);
  KafkaTestProducer producer(kafka.Bootstraps());
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(producer.Send("events", "k" + std::to_string(i), "v").ok());
  // Partitions led by broker 1 wait for it; leadership does not move.
  const int waiting = producer.Flush(seconds(5));
  EXPECT_LT(waiting, 12);
  kafka.SetBrokerUp(1);
  EXPECT_EQ(producer.Flush(seconds(30)), 0);
  EXPECT_EQ(ConsumeOrFail(kafka, {"events"}).size(), 12u);
  EXPECT_GT(waiting, 0) << "no partition led by broker 1 got a message (or leadership moved)";
}

}  // namespace
}  // namespace crbridge::testing
