// PostgresCapture: the Postgres source's capture pipeline (Debezium's
// snapshot and streaming change event sources under one coordinator). It
// owns crbridge's publication (the mapped tables) and replication slot,
// gives existing rows their clocks from the slot's exported snapshot on
// first start (a table added to the config later is snapshotted alone),
// then streams pgoutput from the slot and records app writes in the clocks
// (ChangeRecorder), skipping transactions that carry crbridge's own
// replication origin. The slot is confirmed only up to what the clocks
// hold; a slot found gone or invalidated is made again and every mapped
// table read again (source.on_slot_lost). Run blocks; Stop-by-token may
// come from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <stop_token>
#include <vector>

#include "crbridge/connector/capture/capture.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {
class CapturedTables;
class ShadowStore;
}  // namespace crbridge

namespace crbridge::postgres {

class ReplicationConnection;
struct FoundSlot;

class PostgresCapture : public Capture {
 public:
  PostgresCapture(const Config& config, const std::vector<ResolvedTable>& tables, CaptureOptions options, Metrics& metrics)
      : Capture(config, tables, std::move(options), metrics) {}

  // For DropCapture: removes the slot, the publication and the metadata
  // schema with every clock.
  static Status Drop(const Config& config);

 private:
  Status RunUntilStopped(std::stop_token stop) override;
  // What capture does when its slot is gone or invalidated
  // (source.on_slot_lost).
  // `writer` is capture's store.
  Status SlotLost(const FoundSlot& found, ShadowStore& writer, CapturedTables& captured, ReplicationConnection& stream);
};

}  // namespace crbridge::postgres
