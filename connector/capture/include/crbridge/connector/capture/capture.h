// Capture: a source's capture pipeline (Debezium's snapshot and streaming
// change event sources under one coordinator): gives the mapped tables'
// existing rows their clocks on first start (a table added to the config
// later is snapshotted alone), then streams the source's change log and
// records app writes in the clocks (ChangeRecorder), skipping crbridge's own
// writes. One implementation per source (PostgresCapture, MysqlCapture);
// the daemon sees only this interface. Run blocks; stop-by-token may come
// from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <stop_token>
#include <utility>
#include <vector>

#include "crbridge/connector/ops/metrics.h"
#include "crbridge/connector/ops/rejected_rows.h"
#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/change_recorder.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

struct CaptureOptions {
  // Captured transactions are recorded together, in one clock
  // transaction, up to this many rows or this long after the first.
  size_t batch_rows = 5000;
  std::chrono::milliseconds batch_delay{20};
  // Postgres: standby status updates at least this often (Postgres drops
  // a silent standby after wal_sender_timeout, 60 s by default).
  std::chrono::milliseconds status_interval{10000};
  // An app transaction is held in memory whole until its commit is
  // recorded (about 3 KB per mapped row); one of this many rows or more is
  // logged as a warning, for operators sizing memory.
  size_t large_transaction_rows = 100000;
  size_t snapshot_batch_rows = 10000;
  std::chrono::milliseconds progress_interval{2000};
  // Called (on the capture thread) each time streaming starts, and, once
  // each batch recorded (app writes, or rows of a table read whole) has
  // committed, with its db_version and the source position of its oldest
  // transaction.
  std::function<void()> on_streaming;
  std::function<void(int64_t db_version, int64_t oldest_source_position)> on_recorded;
  // With Kafka (called on the capture thread): the source position of the
  // oldest recorded change Kafka has not acknowledged (the slot is
  // confirmed only before it), and whether capture must hold (neither
  // read nor record) until Kafka's backlog drains.
  std::function<std::optional<int64_t>()> unpublished_position;
  std::function<bool()> hold;
  // How often capture asks the database what each mapped table's name
  // names (a table renamed or dropped is away; one dropped and created
  // again, or replaced under its name, is read whole again).
  std::chrono::milliseconds table_check_interval{2000};
  // Called (on the capture thread) once capture knows which mapped tables
  // are away and each time that changes: what a person needs to know of
  // them, empty when none is.
  std::function<void(const std::string& away)> on_tables_away;
  // Called (on the capture thread) when the source's replication slot is
  // gone or invalidated and capture reads every mapped table again
  // (source.on_slot_lost: resnapshot), with what happened to it; streaming
  // starts again when that is done (on_streaming).
  std::function<void(const std::string& what)> on_slot_lost;
  // Where the app rows capture could not map are reported (the rows that
  // stand when capture starts, then each recording's); must outlive the
  // capture. None: they are only stored.
  RejectedRows* rejected_rows = nullptr;
  // Called (on the capture service's thread) when capture stopped for a
  // column the app added or another store changed the mappings
  // (IsMappingsChanged), before it checks the mappings
  // again: returns once everything else that uses them has taken the new
  // ones (or `stop` was requested), so that nothing writes the table's
  // clocks with the old columns while capture reads it again.
  std::function<void(std::stop_token stop)> on_mapping_changed;
};

class Capture {
 public:
  virtual ~Capture() = default;

  // Runs until `stop` is requested (then OK) or an error: Unavailable when
  // the database went away (call again, with backoff; nothing recorded is
  // lost and nothing is recorded twice), InvalidArgument when it cannot go
  // on (a lost slot or binlog position, a mapped table changed under it,
  // server settings that keep app writes out of the change stream).
  Status Run(std::stop_token stop);

 protected:
  // `config` and `tables` (checked mappings) must outlive the capture.
  Capture(const Config& config, const std::vector<ResolvedTable>& tables, CaptureOptions options, Metrics& metrics)
      : config_(config), tables_(tables), options_(std::move(options)), metrics_(metrics) {}

  // Run's work; whatever waited on the server when the stop came ends
  // Cancelled.
  virtual Status RunUntilStopped(std::stop_token stop) = 0;

  // Reports the rejected rows that stand, as `recorder` reads them, to
  // options_.rejected_rows: at the start of a run, before anything else is
  // recorded.
  Status ReportStandingRejections(ChangeRecorder& recorder);

  const Config& config_;
  const std::vector<ResolvedTable>& tables_;
  CaptureOptions options_;
  Metrics& metrics_;
};

}  // namespace crbridge
