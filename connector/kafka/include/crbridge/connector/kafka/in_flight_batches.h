// InFlightBatches: the batches of change-log events produced to Kafka and
// not yet deleted from the log, oldest first. Kafka acknowledges events
// out of order across partitions (and so across batches); the log may be
// deleted only through the last batch of an unbroken run of batches that
// Kafka acknowledged whole, so that a crash sends again only what is in
// flight. One thread (the Kafka sink's, including librdkafka's delivery
// callbacks, which run inside its poll).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>

#include "crbridge/server/core/change_log_reader.h"

namespace crbridge {

class InFlightBatches {
 public:
  // One produced batch; its address is each of its events' delivery
  // handle and stays valid until the batch is taken.
  struct Batch {
    size_t events = 0;
    ChangeLogPosition last;  // the position of its last event
    size_t delivered = 0;
    size_t failed = 0;
    std::string last_error;
    bool Done() const { return delivered + failed == events; }
  };

  // A batch of `events` events (at least one) ending at `last`.
  Batch* Add(size_t events, const ChangeLogPosition& last);
  // Kafka's verdict on one event of `batch`.
  static void Delivered(Batch* batch, bool ok, const std::string& error);

  size_t size() const { return batches_.size(); }
  bool empty() const { return batches_.empty(); }
  // The oldest batch (not empty()).
  const Batch& oldest() const { return batches_.front(); }
  // Takes the oldest batch once Kafka acknowledged every event of it: its
  // events may leave the log. nullopt while it waits for some, or when
  // Kafka failed one (the caller starts afresh from the log).
  std::optional<Batch> TakeAcknowledged();
  // Where the next batch starts reading: after the newest batch produced,
  // or after `deleted_through` when none is in flight.
  ChangeLogPosition ReadAfter(const ChangeLogPosition& deleted_through) const;

 private:
  std::deque<Batch> batches_;  // push_back and pop_front keep the others' addresses
};

}  // namespace crbridge
