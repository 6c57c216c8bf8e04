#include "crbridge/connector/kafka/kafka_tail.h"

#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "crbridge/connector/kafka/event_printer.h"

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

// Warnings about the consumer: librdkafka's errors (an unreachable broker)
// and errors of consume(). librdkafka serves its events from consume(), on
// the tail's thread. Each kind of problem is printed once until an event
// arrives again, not on every retry.
class Warnings : public RdKafka::EventCb {
 public:
  explicit Warnings(std::ostream& out) : out_(out) {}

  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    if (event.fatal()) fatal_ = event.str();
    Warn(event.err(), RdKafka::err2str(event.err()) + (event.str().empty() ? "" : ": " + event.str()));
  }

  void Warn(RdKafka::ErrorCode code, const std::string& text) {
    if (!warned_.insert(code).second) return;
    out_ << "crbridge tail: warning: kafka: " << text << std::endl;
  }
  // An event arrived: problems are news again.
  void Clear() { warned_.clear(); }
  const std::string& fatal() const { return fatal_; }

 private:
  std::ostream& out_;
  std::set<RdKafka::ErrorCode> warned_;
  std::string fatal_;
};

Status MakeConsumer(const KafkaConfig& kafka, const TailOptions& options, Warnings* warnings,
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
      // Broker trouble reaches Warnings, printed once each; librdkafka's
      // own log would repeat it on every reconnect.
      {"log_level", "2"},
  };
  for (const auto& [name, value] : settings) {
    std::string error;
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) {
      return Status::InvalidArgument("kafka setting " + name + ": " + error);
    }
  }
  std::string error;
  if (conf->set("event_cb", static_cast<RdKafka::EventCb*>(warnings), error) != RdKafka::Conf::CONF_OK) {
    return Status::InvalidArgument("kafka event_cb: " + error);
  }
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
  Warnings kafka_warnings(warnings);  // outlives the consumer, which calls it
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  CRBRIDGE_RETURN_IF_ERROR(MakeConsumer(kafka, options, &kafka_warnings, &consumer));
  auto last_event = std::chrono::steady_clock::now();
  Status status;
  while (!stop.load() && (options.max_events <= 0 || *printed < options.max_events)) {
    if (options.idle_timeout.count() > 0 && std::chrono::steady_clock::now() - last_event >= options.idle_timeout) {
      break;
    }
    const std::unique_ptr<RdKafka::Message> message(consumer->consume(kPollMs));
    if (!kafka_warnings.fatal().empty()) {
      status = Status::Unavailable("kafka: " + kafka_warnings.fatal());
      break;
    }
    if (message->err() == RdKafka::ERR__TIMED_OUT || message->err() == RdKafka::ERR__PARTITION_EOF) continue;
    if (message->err() != RdKafka::ERR_NO_ERROR) {
      // It passes: librdkafka reconnects and retries, and a topic that
      // does not exist yet is subscribed to when it appears.
      kafka_warnings.Warn(message->err(), message->errstr());
      continue;
    }
    kafka_warnings.Clear();
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
