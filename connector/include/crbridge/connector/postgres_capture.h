// PostgresCapture: the Postgres source's capture pipeline (Debezium's
// snapshot and streaming change event sources under one coordinator). It
// owns crbridge's publication (the mapped tables) and replication slot,
// gives existing rows their clocks from the slot's exported snapshot on
// first start (a table added to the config later is snapshotted alone),
// then streams pgoutput from the slot and records app writes in the clocks
// (ChangeRecorder), skipping transactions that carry crbridge's own
// replication origin. The slot is confirmed only up to what the clocks
// hold. Run blocks; Stop-by-token may come from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <stop_token>
#include <vector>

#include "crbridge/connector/metrics.h"
#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

class PostgresCapture {
 public:
  struct Options {
    // Captured transactions are recorded together, in one clock
    // transaction, up to this many rows or this long after the first.
    size_t batch_rows = 5000;
    std::chrono::milliseconds batch_delay{20};
    // Standby status updates at least this often (Postgres drops a silent
    // standby after wal_sender_timeout, 60 s by default).
    std::chrono::milliseconds status_interval{10000};
    size_t snapshot_batch_rows = 10000;
    std::chrono::milliseconds progress_interval{2000};
    // Called (on the capture thread) each time streaming starts, and with
    // the db_version of each batch of app writes recorded.
    std::function<void()> on_streaming;
    std::function<void(int64_t db_version)> on_recorded;
    // With Kafka (called on the capture thread): the source position of the
    // oldest recorded change Kafka has not acknowledged (the slot is
    // confirmed only before it), and whether capture must hold (neither
    // read nor record) until Kafka's backlog drains.
    std::function<std::optional<int64_t>()> unpublished_position;
    std::function<bool()> hold;
  };

  // `config` and `tables` (checked mappings) must outlive the capture.
  PostgresCapture(const Config& config, const std::vector<ResolvedTable>& tables, Options options, Metrics& metrics);

  // Runs until `stop` is requested (then OK) or an error: Unavailable when
  // the database went away (call again, with backoff; nothing recorded is
  // lost and nothing is recorded twice), InvalidArgument when it cannot go
  // on (a lost slot, a mapped table changed under it).
  Status Run(std::stop_token stop);

  // Removes what Run creates in the database: the slot, the publication,
  // and the metadata schema with every clock. For `crbridge drop`.
  static Status Drop(const Config& config);

 private:
  Status RunUntilStopped(std::stop_token stop);

  const Config& config_;
  const std::vector<ResolvedTable>& tables_;
  Options options_;
  Metrics& metrics_;
};

}  // namespace crbridge
