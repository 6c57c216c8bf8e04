#include "crbridge/connector/kafka/kafka_sink.h"

#include <librdkafka/rdkafkacpp.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crbridge/connector/kafka/in_flight_batches.h"
#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/server/core/change_log_reader.h"
#include "crbridge/server/dialects.h"
#include "crbridge/sqlite/backoff.h"
#include "crbridge/sqlite/text_encoding.h"

namespace crbridge {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kComponent = "kafka";
// Events read, sent and acknowledged together, and how many such batches
// Kafka may have unacknowledged at once: what a restart may send again.
constexpr size_t kBatchEvents = 2000;
constexpr size_t kBatchesInFlight = 4;
// Capture and merges wake the sink when they commit; without a wake-up the
// log is looked at this often all the same (what a crash left in it).
constexpr std::chrono::seconds kPollInterval{1};
// Waiting for acknowledgements this long is said in the log (once a batch).
constexpr std::chrono::seconds kSlowAcknowledgement{5};

// Each event's delivery report counts in the batch it was produced with.
class DeliveryReport : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    InFlightBatches::Delivered(static_cast<InFlightBatches::Batch*>(message.msg_opaque()),
                               message.err() == RdKafka::ERR_NO_ERROR, message.errstr());
  }
};

// Says each change of Kafka's reachability once.
class BrokerWatch : public RdKafka::EventCb {
 public:
  explicit BrokerWatch(Metrics& metrics) : metrics_(metrics) {}

  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    if (event.err() == RdKafka::ERR__ALL_BROKERS_DOWN || event.err() == RdKafka::ERR__TRANSPORT) {
      SetUp(false, event.str());
    } else {
      log::Warn(kComponent, "producer error", {{"error", RdKafka::err2str(event.err()) + ": " + event.str()}});
    }
  }

  void SetUp(bool up, const std::string& why) {
    metrics_.kafka_up().Set(up ? 1 : 0);
    if (up_ && *up_ == up) return;
    up_ = up;
    if (up) {
      log::Info(kComponent, "Kafka acknowledges events");
    } else {
      log::Warn(kComponent, "Kafka is unreachable; events wait in the change log", {{"error", why}});
    }
  }

 private:
  Metrics& metrics_;
  std::optional<bool> up_;
};

}  // namespace

// The database side (the change log, site ids) and the producer. Sink
// thread only.
class KafkaSink::Publisher {
 public:
  Publisher(const Config& config, Metrics& metrics) : config_(config), metrics_(metrics), watch_(metrics) {
    for (const TableMapping& mapping : config_.tables) source_tables_[mapping.name] = mapping.QualifiedSource();
  }

  ~Publisher() {
    if (!producer_) return;
    // What was not acknowledged stays in the log for the next start.
    producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer_->poll(0);
  }

  Status Open() {
    CRBRIDGE_RETURN_IF_ERROR(OpenChangeLogReader(config_, &log_));
    server_site_ = EncodeHex(log_->site_id());
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string error;
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"bootstrap.servers", config_.kafka->brokers},
             {"client.id", "crbridge"},
             // Order per partition survives retries, and a retry is never
             // written twice.
             {"enable.idempotence", "true"},
             {"acks", "all"},
             // Never give up on an event: the log holds it until Kafka has it.
             {"message.timeout.ms", "0"},
             {"linger.ms", "5"}}) {
      if (conf->set(key, value, error) != RdKafka::Conf::CONF_OK) {
        return Status::InvalidArgument("kafka: " + key + ": " + error);
      }
    }
    if (conf->set("dr_cb", &delivery_report_, error) != RdKafka::Conf::CONF_OK ||
        conf->set("event_cb", &watch_, error) != RdKafka::Conf::CONF_OK) {
      return Status::Internal("kafka: " + error);
    }
    producer_.reset(RdKafka::Producer::create(conf.get(), error));
    if (!producer_) return Status::InvalidArgument("kafka: cannot create the producer: " + error);
    return Status::OK();
  }

  // Reads and produces batches of the log while fewer than
  // kBatchesInFlight wait for Kafka, then waits for the oldest and deletes
  // it from the log; *idle when the log had nothing to send and nothing
  // was in flight. Unavailable when the database is lost; Aborted when
  // Kafka failed some events (the batches in flight are sent again);
  // Cancelled on stop.
  Status Publish(std::stop_token stop, std::atomic<int64_t>* backlog, UnpublishedPosition* unpublished, bool* idle) {
    *idle = false;
    unpublished->BeginRead();
    while (in_flight_.size() < kBatchesInFlight) {
      std::vector<ChangeLogEvent> events;
      CRBRIDGE_RETURN_IF_ERROR(log_->ReadAfter(in_flight_.ReadAfter(deleted_through_), kBatchEvents, &events));
      if (events.empty()) break;
      InFlightBatches::Batch* batch = in_flight_.Add(events.size(), events.back().position);
      for (const ChangeLogEvent& event : events) CRBRIDGE_RETURN_IF_ERROR(Produce(event, batch, stop));
    }
    if (in_flight_.empty()) {
      backlog->store(0);
      unpublished->EndRead(std::nullopt);
      metrics_.kafka_backlog_events().Set(0);
      *idle = true;
      return Status::OK();
    }
    CRBRIDGE_RETURN_IF_ERROR(AwaitOldest(stop, [&] { return CountBacklog(backlog, unpublished); }));
    const std::optional<InFlightBatches::Batch> acknowledged = in_flight_.TakeAcknowledged();
    CRBRIDGE_RETURN_IF_ERROR(log_->DeleteThrough(acknowledged->last));
    deleted_through_ = acknowledged->last;
    metrics_.kafka_events_published().Increment(static_cast<double>(acknowledged->events));
    return CountBacklog(backlog, unpublished);
  }

 private:
  // The event of docs/kafka.md for `logged`, in *value. Corruption when the
  // log holds malformed JSON.
  Status Envelope(const ChangeLogEvent& logged, std::string* value) {
    try {
      return EnvelopeOrThrow(logged, value);
    } catch (const nlohmann::json::exception& e) {
      return Status::Corruption("the change log's event at db_version " + std::to_string(logged.position.db_version) +
                                " is malformed: " + e.what());
    }
  }

  Status EnvelopeOrThrow(const ChangeLogEvent& logged, std::string* value) {
    const std::string& table = logged.table;
    const bool from_client = logged.from_client;
    nlohmann::json columns = nlohmann::json::parse(logged.columns_json);
    for (auto& [name, column] : columns.items()) {
      std::string site;
      CRBRIDGE_RETURN_IF_ERROR(SiteOf(column["site"].get<int64_t>(), &site));
      column.erase("site");
      column["site_id"] = site;
    }
    std::string client_site;
    if (from_client) CRBRIDGE_RETURN_IF_ERROR(SiteOf(logged.client_ordinal, &client_site));
    const nlohmann::json event = {
        {"op", logged.op},
        {"table", table},
        {"source_table", source_tables_.contains(table) ? source_tables_.at(table) : table},
        {"key", nlohmann::json::parse(logged.key_json)},
        {"columns", std::move(columns)},
        {"crr",
         {{"db_version", logged.position.db_version},
          {"seq", logged.position.seq},
          {"cl", logged.cl},
          {"pk", EncodeHex(logged.pk)},
          {"site_id", server_site_}}},
        {"source",
         {{"connector", "crbridge"},
          {"origin", from_client ? "client" : "app"},
          {"lsn",
           from_client ? nlohmann::json(nullptr) : nlohmann::json(log_->FormatSourcePosition(logged.source_position))},
          {"client_site_id", from_client ? nlohmann::json(client_site) : nlohmann::json(nullptr)},
          {"ts_ms", logged.source_time_us / 1000}}},
        {"ts_ms", logged.recorded_time_us / 1000}};
    *value = event.dump();
    return Status::OK();
  }

  Status Produce(const ChangeLogEvent& logged, InFlightBatches::Batch* batch, std::stop_token stop) {
    std::string value;
    CRBRIDGE_RETURN_IF_ERROR(Envelope(logged, &value));
    const std::string& table = logged.table;
    const std::string key = table + "/" + EncodeHex(logged.pk);
    const int64_t db_version = logged.position.db_version;
    const std::string topic =
        config_.kafka->topic_per_table ? config_.kafka->topic + "." + table : config_.kafka->topic;
    for (;;) {
      RdKafka::Headers* headers = RdKafka::Headers::create();
      headers->add("crbridge.site_id", server_site_);
      headers->add("crbridge.db_version", std::to_string(db_version));
      const RdKafka::ErrorCode err =
          producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                             const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, headers, batch);
      if (err == RdKafka::ERR_NO_ERROR) return Status::OK();  // the headers are librdkafka's now
      delete headers;
      if (err != RdKafka::ERR__QUEUE_FULL) return Status::Aborted("kafka: " + RdKafka::err2str(err));
      if (stop.stop_requested()) return Status::Cancelled("stopped while publishing");
      producer_->poll(100);
    }
  }

  // What the log holds, for capture (see BacklogFull) and the metrics.
  Status CountBacklog(std::atomic<int64_t>* backlog, UnpublishedPosition* unpublished) {
    ChangeLogBacklog left;
    unpublished->BeginRead();
    CRBRIDGE_RETURN_IF_ERROR(log_->CountBacklog(&left));
    backlog->store(left.events);
    unpublished->EndRead(left.oldest_source_position == 0 ? std::nullopt
                                                         : std::optional<int64_t>(left.oldest_source_position));
    metrics_.kafka_backlog_events().Set(static_cast<double>(left.events));
    return Status::OK();
  }

  // Waits for Kafka's verdict on every event of the oldest batch in
  // flight, counting the backlog every second meanwhile: the log keeps
  // growing while Kafka is away.
  Status AwaitOldest(std::stop_token stop, const std::function<Status()>& count_backlog) {
    const InFlightBatches::Batch& oldest = in_flight_.oldest();
    const auto started = Clock::now();
    auto counted = started;
    bool said = false;
    while (!oldest.Done()) {
      if (stop.stop_requested()) return Status::Cancelled("stopped while waiting for Kafka");
      producer_->poll(100);
      if (Clock::now() - counted > std::chrono::seconds(1)) {
        counted = Clock::now();
        CRBRIDGE_RETURN_IF_ERROR(count_backlog());
      }
      if (!said && Clock::now() - started > kSlowAcknowledgement) {
        said = true;
        log::Warn(kComponent, "Kafka has not acknowledged a batch yet; capture confirms the slot only up to it",
                  {{"events", oldest.events}, {"acknowledged", oldest.delivered}});
      }
    }
    if (oldest.failed > 0) {
      metrics_.kafka_publish_failures().Increment();
      return Status::Aborted("kafka did not acknowledge " + std::to_string(oldest.failed) + " of " +
                             std::to_string(oldest.events) + " events: " + oldest.last_error);
    }
    watch_.SetUp(true, "");
    return Status::OK();
  }

  // A site ordinal of the clocks as a site id in hex (0: the server).
  Status SiteOf(int64_t ordinal, std::string* site) {
    if (ordinal == 0) {
      *site = server_site_;
      return Status::OK();
    }
    // Sites are never removed: read again only for one not seen yet.
    if (!sites_.contains(ordinal)) CRBRIDGE_RETURN_IF_ERROR(log_->Sites(&sites_));
    const auto found = sites_.find(ordinal);
    if (found == sites_.end()) return Status::Corruption("the change log names an unknown site");
    *site = EncodeHex(found->second);
    return Status::OK();
  }

  const Config& config_;
  Metrics& metrics_;
  DeliveryReport delivery_report_;
  BrokerWatch watch_;
  // Before the producer: its purge on destruction still reports to them.
  InFlightBatches in_flight_;
  std::unique_ptr<ChangeLogReader> log_;
  ChangeLogPosition deleted_through_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::string server_site_;
  std::map<int64_t, SiteId> sites_;
  std::map<std::string, std::string> source_tables_;  // by client name
};

KafkaSink::~KafkaSink() { Stop(); }

void KafkaSink::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void KafkaSink::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

void KafkaSink::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void KafkaSink::Recorded(int64_t oldest_source_position) {
  unpublished_position_.Recorded(oldest_source_position);
  Wake();
}

std::optional<int64_t> KafkaSink::UnpublishedSourcePosition() const { return unpublished_position_.Get(); }

bool KafkaSink::BacklogFull() const { return backlog_.load() >= config_.kafka->max_backlog_events; }

void KafkaSink::Run(std::stop_token stop) {
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(10));
  std::unique_ptr<Publisher> publisher;
  const auto wait = [&](std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, stop, delay, [this] { return woken_; });
    woken_ = false;
  };
  while (!stop.stop_requested()) {
    if (!publisher) {
      publisher = std::make_unique<Publisher>(config_, metrics_);
      if (const Status s = publisher->Open(); !s.ok()) {
        publisher.reset();
        log::Warn(kComponent, "cannot start publishing", {{"error", s.ToString()}});
        wait(backoff.Next());
        continue;
      }
    }
    bool idle = false;
    const Status s = publisher->Publish(stop, &backlog_, &unpublished_position_, &idle);
    if (s.code() == Status::Code::kCancelled) break;
    if (!s.ok()) {
      log::Warn(kComponent, "publishing failed; trying again", {{"error", s.ToString()}});
      // A lost database, or a producer Kafka failed: start afresh.
      publisher.reset();
      wait(backoff.Next());
      continue;
    }
    backoff.Reset();
    if (idle) wait(kPollInterval);
  }
}

}  // namespace crbridge
