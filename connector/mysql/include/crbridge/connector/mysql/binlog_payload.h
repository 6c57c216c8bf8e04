// BinlogPayloadEvents: the events of one MySQL TRANSACTION_PAYLOAD event
// (binlog_transaction_compression=ON: a transaction's QUERY "BEGIN",
// TABLE_MAP, ROWS and XID events compressed together with zstd), one at a
// time. Each is decompressed when it is reached, so memory holds the
// compressed payload and one event, not the whole transaction. The events
// inside have no checksum and no position (log_pos 0): the payload
// event's own position is where the transaction ends. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "crbridge/connector/mysql/binlog_events.h"
#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

class BinlogPayloadEvents {
 public:
  // The largest event taken from a payload: as large as the largest packet
  // a MySQL server sends (max_allowed_packet's own maximum).
  static constexpr size_t kMaxEventBytes = size_t{1} << 30;

  BinlogPayloadEvents();
  ~BinlogPayloadEvents();
  BinlogPayloadEvents(const BinlogPayloadEvents&) = delete;
  BinlogPayloadEvents& operator=(const BinlogPayloadEvents&) = delete;

  // Starts on `payload`, whose bytes must stay valid until the last event is
  // taken, and reads its first event. Corruption when the payload does not
  // decompress or holds no event.
  Status Start(const BinlogTransactionPayload& payload);

  // Whether an event is left to take.
  bool has_next() const { return has_next_; }

  // The next event (header and body, no checksum), valid until the next
  // call; `*last` tells whether it ends the payload. Corruption for a
  // truncated or oversized event, an event size below a header's, or a
  // payload nested inside.
  Status Next(std::string_view* event, bool* last);

 private:
  // Reads the event after the current one into `next_`, if any.
  Status ReadAhead();
  // Decompresses up to `size` more bytes into `*out` (appended); fewer only
  // at the payload's end.
  Status Decompress(size_t size, std::string* out);

  struct Decoder;
  std::unique_ptr<Decoder> decoder_;
  std::string current_;
  std::string next_;
  bool has_next_ = false;
};

}  // namespace crbridge::mysql
