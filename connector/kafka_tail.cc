#include "crbridge/connector/kafka_tail.h"

#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "crbridge/connector/event_printer.h"

namespace crbridge {
namespace {

// How long one wait for a message lasts: the longest a stop or an idle
// timeout waits to be noticed.
constexpr int kPollMs = 200;

// librdkafka reads a subscription starting with "^" as a regex; the topic
// prefix is matched literally.
std::string TopicRegex(const std::string& prefix) {
  std::string regex = "^";
  for (const char c : prefix) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) regex += '\\';
    regex += c;
  }
  return regex + "\\..*";
}

// A group of its own, so that tails do not share the events out between
// them; it commits nothing, so nothing of it stays behind.
std::string GroupId() {
  std::random_device random;
  return "crbridge-tail-" + std::to_string(getpid()) + "-" + std::to_string(random());
}

Status MakeConsumer(const KafkaConfig& kafka, const TailOptions& options,
                    std::unique_ptr<RdKafka::KafkaConsumer>* consumer) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  const std::map<std::string, std::string> settings = {
      {"bootstrap.servers", kafka.brokers},
      {"group.id", GroupId()},
      {"client.id", "crbridge-tail"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", options.from_beginning ? "earliest" : "latest"},
      // Tables' topics that appear later are matched within this long.
      {"topic.metadata.refresh.interval.ms", "10000"},
      // Broker trouble reaches the loop as errors, printed once each;
      // librdkafka's own log would repeat it on every reconnect.
      {"log_level", "2"},
  };
  for (const auto& [name, value] : settings) {
    std::string error;
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) {
      return Status::InvalidArgument("kafka setting " + name + ": " + error);
    }
  }
  std::string error;
  consumer->reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (*consumer == nullptr) return Status::InvalidArgument("kafka consumer: " + error);
  const std::vector<std::string> topics = {kafka.topic_per_table ? TopicRegex(kafka.topic) : kafka.topic};
  if (const RdKafka::ErrorCode err = (*consumer)->subscribe(topics); err != RdKafka::ERR_NO_ERROR) {
    return Status::InvalidArgument("kafka subscribe to " + topics[0] + ": " + RdKafka::err2str(err));
  }
  return Status::OK();
}

}  // namespace

Status TailKafka(const KafkaConfig& kafka, const TailOptions& options, const std::atomic<bool>& stop,
                 std::ostream& out, std::ostream& warnings, int64_t* printed) {
  *printed = 0;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  CRBRIDGE_RETURN_IF_ERROR(MakeConsumer(kafka, options, &consumer));
  auto last_event = std::chrono::steady_clock::now();
  std::string last_warning;  // a broker that stays down is reported once
  Status status;
  while (!stop.load() && (options.max_events <= 0 || *printed < options.max_events)) {
    if (options.idle_timeout.count() > 0 && std::chrono::steady_clock::now() - last_event >= options.idle_timeout) {
      break;
    }
    const std::unique_ptr<RdKafka::Message> message(consumer->consume(kPollMs));
    if (message->err() == RdKafka::ERR__TIMED_OUT || message->err() == RdKafka::ERR__PARTITION_EOF) continue;
    if (message->err() != RdKafka::ERR_NO_ERROR) {
      std::string fatal;
      if (message->err() == RdKafka::ERR__FATAL && consumer->fatal_error(fatal) != RdKafka::ERR_NO_ERROR) {
        status = Status::Unavailable("kafka: " + fatal);
        break;
      }
      // Everything else passes: librdkafka reconnects and retries, and a
      // topic that does not exist yet is subscribed to when it appears.
      if (message->errstr() != last_warning) {
        last_warning = message->errstr();
        warnings << "crbridge tail: warning: kafka: " << last_warning << std::endl;
      }
      continue;
    }
    last_warning.clear();
    last_event = std::chrono::steady_clock::now();
    std::string line;
    const std::string_view value(static_cast<const char*>(message->payload()), message->payload() ? message->len() : 0);
    if (const Status format = FormatEvent(value, &line); !format.ok()) {
      warnings << "crbridge tail: warning: " << message->topic_name() << " partition " << message->partition()
               << " offset " << message->offset() << ": not a well-formed event: " << format.message() << std::endl;
    }
    out << line << std::endl;
    ++*printed;
  }
  consumer->close();
  return status;
}

}  // namespace crbridge
