// KafkaSink: publishes the change log (the outbox every crbridge write
// fills in its own transaction; docs/kafka.md) to Kafka, in db_version
// order, with an idempotent producer and acks=all, a few batches in flight
// (InFlightBatches), and deletes a batch from the log only once Kafka has
// acknowledged all of it and of the batches before it. So nothing committed
// is lost whatever crashes, and a restart sends again at most the batches
// that were in flight (same db_versions). While Kafka is away it waits, and
// the backlog grows in the log; capture asks the sink how far it may
// confirm the source (Postgres's replication slot) and whether it must hold
// (past kafka.max_backlog_events). Reads the log through the
// ChangeLogReader of the source's dialect, on a thread of its own with its
// own database connection. Start, Stop: one thread; Wake and the getters:
// any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "crbridge/connector/kafka/unpublished_position.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/mappings/config.h"

namespace crbridge {

class KafkaSink {
 public:
  // `config` (with a kafka section) and `metrics` must outlive the sink.
  KafkaSink(const Config& config, Metrics& metrics) : config_(config), metrics_(metrics) {}
  ~KafkaSink();
  KafkaSink(const KafkaSink&) = delete;
  KafkaSink& operator=(const KafkaSink&) = delete;

  void Start();
  // Returns within about a second; what Kafka has not acknowledged stays
  // in the log for the next start.
  void Stop();
  // New changes were committed: publish them now rather than at the next poll.
  void Wake();
  // Capture committed app writes whose oldest source position is
  // `oldest_source_position` (UnpublishedPosition): publish them now.
  void Recorded(int64_t oldest_source_position);

  // The source position of the oldest captured app write Kafka has not
  // acknowledged, including what capture recorded since the sink last read
  // the change log; nullopt when there is none. Capture confirms the slot
  // only before it.
  std::optional<int64_t> UnpublishedSourcePosition() const;
  // The backlog reached kafka.max_backlog_events: capture holds.
  bool BacklogFull() const;

 private:
  class Publisher;
  void Run(std::stop_token stop);

  const Config& config_;
  Metrics& metrics_;
  UnpublishedPosition unpublished_position_;
  std::atomic<int64_t> backlog_{0};
  std::mutex mutex_;
  std::condition_variable_any wake_;
  bool woken_ = false;
  std::jthread thread_;
};

}  // namespace crbridge
