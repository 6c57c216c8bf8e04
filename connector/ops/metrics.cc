#include "crbridge/connector/ops/metrics.h"

#include <prometheus/text_serializer.h>

#include <chrono>

namespace crbridge {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::BuildGauge()
      .Name("crbridge_build_info")
      .Help("Always 1; the labels say which crbridge is running")
      .Register(*registry_)
      .Add({{"version", CRBRIDGE_VERSION}})
      .Set(1);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  prometheus::BuildGauge()
      .Name("crbridge_start_time_seconds")
      .Help("When this crbridge process started, in seconds since the Unix epoch")
      .Register(*registry_)
      .Add({})
      .Set(static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) / 1000.0);
  source_up_ = &prometheus::BuildGauge()
                    .Name("crbridge_source_up")
                    .Help("1 if the source database answered the last probe, 0 if not")
                    .Register(*registry_)
                    .Add({});
  source_probe_failures_ = &prometheus::BuildCounter()
                                .Name("crbridge_source_probe_failures_total")
                                .Help("Probes of the source database that failed")
                                .Register(*registry_)
                                .Add({});
  http_requests_ = &prometheus::BuildCounter()
                        .Name("crbridge_http_requests_total")
                        .Help("HTTP requests served, by path and status code")
                        .Register(*registry_);
  const auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_).Add({});
  };
  const auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
  };
  captured_transactions_ = counter("crbridge_capture_transactions_total", "App transactions with mapped changes recorded");
  captured_rows_ = counter("crbridge_capture_rows_total", "Rows whose clock captured app writes changed");
  capture_lag_bytes_ = &gauge("crbridge_capture_lag_bytes",
                              "WAL between the server's position and the last position capture confirmed")->Add({});
  capture_lag_seconds_ = &gauge("crbridge_capture_lag_seconds",
                                "Age of the oldest app commit received but not yet recorded, 0 when caught up")->Add({});
  capture_largest_transaction_rows_ =
      &gauge("crbridge_capture_largest_transaction_rows",
             "Mapped rows of the largest app transaction captured since start (each is held in memory whole)")->Add({});
  capture_slots_lost_ = counter("crbridge_capture_slots_lost_total",
                                "Replication slots found gone or invalidated by the server, each followed by a new "
                                "snapshot or a stop (source.on_slot_lost)");
  clocks_saturated_ = counter("crbridge_clocks_saturated_total",
                              "Clock steps of app writes and merges that stayed at the largest integer rather than wrap");
  sync_clients_ = &gauge("crbridge_sync_clients", "Clients connected to the sync WebSocket")->Add({});
  sync_changes_received_ = counter("crbridge_sync_changes_received_total", "Changes received from clients and merged");
  sync_changes_sent_ = counter("crbridge_sync_changes_sent_total", "Changes sent to clients");
  sync_refusals_ = counter("crbridge_sync_refusals_total", "Connections and changesets refused, and protocol errors");
  sync_site_id_refusals_ = counter("crbridge_sync_site_id_refusals_total",
                                   "Clients refused for a site id bound to another owner, or the server's own");
  sync_merge_seconds_ = &prometheus::BuildHistogram()
                             .Name("crbridge_sync_merge_duration_seconds")
                             .Help("Client changesets merged into the database, by time taken")
                             .Register(*registry_)
                             .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                               0.1, 0.25, 0.5, 1, 2.5, 5});
  sync_changesets_merged_together_ =
      counter("crbridge_sync_changesets_merged_together_total",
              "Client changesets merged in one transaction with others that waited (group commit)");
  sync_changesets_waiting_ = &gauge("crbridge_sync_changesets_waiting",
                                    "Client changesets waiting for the database, those being merged included")->Add({});
  auto& pulls = prometheus::BuildCounter()
                    .Name("crbridge_sync_pulls_total")
                    .Help("Database pulls of server changes: for a room's live clients, or for one client catching up")
                    .Register(*registry_);
  sync_room_pulls_ = &pulls.Add({{"for", "room"}});
  sync_client_pulls_ = &pulls.Add({{"for", "client"}});
  sync_message_bytes_ = &prometheus::BuildHistogram()
                             .Name("crbridge_sync_message_bytes")
                             .Help("Changes messages sent to clients, by size in bytes")
                             .Register(*registry_)
                             .Add({}, prometheus::Histogram::BucketBoundaries{1024, 16384, 65536, 262144, 1048576,
                                                                               4194304, 16777216, 67108864});
  sync_queued_bytes_ =
      &gauge("crbridge_sync_queued_bytes", "Bytes of messages waiting to be written to sync clients")->Add({});
  kafka_up_ = &gauge("crbridge_kafka_up", "1 while the Kafka producer reaches a broker, 0 if not")->Add({});
  kafka_backlog_events_ =
      &gauge("crbridge_kafka_backlog_events", "Change events committed but not yet acknowledged by Kafka")->Add({});
  kafka_events_published_ = counter("crbridge_kafka_events_published_total", "Change events acknowledged by Kafka");
  kafka_publish_failures_ =
      counter("crbridge_kafka_publish_failures_total", "Batches of change events Kafka did not acknowledge (sent again)");
  snapshot_rows_done_ = gauge("crbridge_snapshot_rows_done", "Rows of a table's initial snapshot recorded so far");
  snapshot_rows_total_ = gauge("crbridge_snapshot_rows_total", "Rows in a table's initial snapshot");
  snapshot_rows_per_second_ = gauge("crbridge_snapshot_rows_per_second", "Rate of a table's initial snapshot");
  capture_table_away_ = gauge("crbridge_capture_table_away",
                              "1 while a mapped table's name names no table (renamed or dropped), else 0");
  capture_table_rereads_ = &prometheus::BuildCounter()
                                .Name("crbridge_capture_table_rereads_total")
                                .Help("Mapped tables read whole again because capture lost track of them")
                                .Register(*registry_);
}

prometheus::Gauge& Metrics::SnapshotRowsDone(const std::string& table) { return snapshot_rows_done_->Add({{"table", table}}); }
prometheus::Gauge& Metrics::SnapshotRowsTotal(const std::string& table) { return snapshot_rows_total_->Add({{"table", table}}); }
prometheus::Gauge& Metrics::SnapshotRowsPerSecond(const std::string& table) {
  return snapshot_rows_per_second_->Add({{"table", table}});
}

prometheus::Gauge& Metrics::CaptureTableAway(const std::string& table) {
  return capture_table_away_->Add({{"table", table}});
}
prometheus::Counter& Metrics::CaptureTableRereads(const std::string& table) {
  return capture_table_rereads_->Add({{"table", table}});
}

prometheus::Counter& Metrics::HttpRequest(const std::string& path, int status) {
  return http_requests_->Add({{"path", path}, {"code", std::to_string(status)}});
}

std::string Metrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace crbridge
