#include "crbridge/connector/kafka/in_flight_batches.h"

namespace crbridge {

InFlightBatches::Batch* InFlightBatches::Add(size_t events, const ChangeLogPosition& last) {
  Batch& batch = batches_.emplace_back();
  batch.events = events;
  batch.last = last;
  return &batch;
}

void InFlightBatches::Delivered(Batch* batch, bool ok, const std::string& error) {
  if (ok) {
    ++batch->delivered;
    return;
  }
  ++batch->failed;
  batch->last_error = error;
}

std::optional<InFlightBatches::Batch> InFlightBatches::TakeAcknowledged() {
  if (batches_.empty() || !batches_.front().Done() || batches_.front().failed > 0) return std::nullopt;
  Batch taken = std::move(batches_.front());
  batches_.pop_front();
  return taken;
}

ChangeLogPosition InFlightBatches::ReadAfter(const ChangeLogPosition& deleted_through) const {
  return batches_.empty() ? deleted_through : batches_.back().last;
}

}  // namespace crbridge
