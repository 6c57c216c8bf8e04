// Metrics: crbridge's Prometheus metrics, kept in a prometheus-cpp registry
// and rendered in the text exposition format for /metrics.
// Thread-safe: metrics may be updated and rendered from any thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace crbridge {

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Prometheus text format (version 0.0.4).
  std::string Render() const;

  prometheus::Registry& registry() { return *registry_; }

  // 1 while the source database answered the last probe, else 0.
  prometheus::Gauge& source_up() { return *source_up_; }
  prometheus::Counter& source_probe_failures() { return *source_probe_failures_; }
  // HTTP requests served, by path and status code.
  prometheus::Counter& HttpRequest(const std::string& path, int status);

  // Capture: app writes recorded, and how far behind the source it is.
  prometheus::Counter& captured_transactions() { return *captured_transactions_; }
  prometheus::Counter& captured_rows() { return *captured_rows_; }
  prometheus::Gauge& capture_lag_bytes() { return *capture_lag_bytes_; }
  prometheus::Gauge& capture_lag_seconds() { return *capture_lag_seconds_; }
  prometheus::Gauge& capture_largest_transaction_rows() { return *capture_largest_transaction_rows_; }
  // Replication slots found gone or invalidated by the server (Postgres).
  prometheus::Counter& capture_slots_lost() { return *capture_slots_lost_; }
  // Server clock steps (app writes, merges) that stayed at INT64_MAX, a
  // clock stored before client clocks were bounded, rather than wrap.
  prometheus::Counter& clocks_saturated() { return *clocks_saturated_; }
  // Sync: connected clients, changes received from them and sent to them,
  // connections and changesets refused.
  prometheus::Gauge& sync_clients() { return *sync_clients_; }
  prometheus::Counter& sync_changes_received() { return *sync_changes_received_; }
  prometheus::Counter& sync_changes_sent() { return *sync_changes_sent_; }
  prometheus::Counter& sync_refusals() { return *sync_refusals_; }
  // Clients refused for the site id they announced or sent changes as: one
  // bound to another owner, or the server's own (also in sync_refusals).
  prometheus::Counter& sync_site_id_refusals() { return *sync_site_id_refusals_; }
  // Client changesets merged, by how long the merge took (its count is the
  // merge rate; captured rows are the capture rate).
  prometheus::Histogram& sync_merge_seconds() { return *sync_merge_seconds_; }
  prometheus::Counter& sync_changesets_merged_together() { return *sync_changesets_merged_together_; }
  prometheus::Gauge& sync_changesets_waiting() { return *sync_changesets_waiting_; }
  // Database pulls: once per room and new version for live clients, or for
  // one client catching up from further back.
  prometheus::Counter& sync_room_pulls() { return *sync_room_pulls_; }
  prometheus::Counter& sync_client_pulls() { return *sync_client_pulls_; }
  // Changes messages sent to clients, by size in bytes; and the bytes of
  // messages waiting to be written to clients, all connections together.
  prometheus::Histogram& sync_message_bytes() { return *sync_message_bytes_; }
  prometheus::Gauge& sync_queued_bytes() { return *sync_queued_bytes_; }
  // Kafka: whether the producer reaches a broker, events committed but not
  // yet acknowledged, events acknowledged, and batches that failed.
  prometheus::Gauge& kafka_up() { return *kafka_up_; }
  prometheus::Gauge& kafka_backlog_events() { return *kafka_backlog_events_; }
  prometheus::Counter& kafka_events_published() { return *kafka_events_published_; }
  prometheus::Counter& kafka_publish_failures() { return *kafka_publish_failures_; }
  // The initial snapshot of a table, by table.
  prometheus::Gauge& SnapshotRowsDone(const std::string& table);
  prometheus::Gauge& SnapshotRowsTotal(const std::string& table);
  prometheus::Gauge& SnapshotRowsPerSecond(const std::string& table);
  // 1 while a mapped table's name names no table in the database (renamed
  // or dropped: its app writes do not reach clients), else 0.
  prometheus::Gauge& CaptureTableAway(const std::string& table);
  // A mapped table read whole again because capture lost track of it.
  prometheus::Counter& CaptureTableRereads(const std::string& table);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* source_up_;
  prometheus::Counter* source_probe_failures_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  prometheus::Counter* captured_transactions_;
  prometheus::Counter* captured_rows_;
  prometheus::Gauge* capture_lag_bytes_;
  prometheus::Gauge* capture_lag_seconds_;
  prometheus::Gauge* capture_largest_transaction_rows_;
  prometheus::Counter* capture_slots_lost_;
  prometheus::Counter* clocks_saturated_;
  prometheus::Gauge* sync_clients_;
  prometheus::Counter* sync_changes_received_;
  prometheus::Counter* sync_changes_sent_;
  prometheus::Counter* sync_refusals_;
  prometheus::Counter* sync_site_id_refusals_;
  prometheus::Histogram* sync_merge_seconds_;
  prometheus::Counter* sync_changesets_merged_together_;
  prometheus::Gauge* sync_changesets_waiting_;
  prometheus::Counter* sync_room_pulls_;
  prometheus::Counter* sync_client_pulls_;
  prometheus::Histogram* sync_message_bytes_;
  prometheus::Gauge* sync_queued_bytes_;
  prometheus::Gauge* kafka_up_;
  prometheus::Gauge* kafka_backlog_events_;
  prometheus::Counter* kafka_events_published_;
  prometheus::Counter* kafka_publish_failures_;
  prometheus::Family<prometheus::Gauge>* snapshot_rows_done_;
  prometheus::Family<prometheus::Gauge>* snapshot_rows_total_;
  prometheus::Family<prometheus::Gauge>* snapshot_rows_per_second_;
  prometheus::Family<prometheus::Gauge>* capture_table_away_;
  prometheus::Family<prometheus::Counter>* capture_table_rereads_;
};

}  // namespace crbridge
