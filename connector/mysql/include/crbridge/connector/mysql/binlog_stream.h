// BinlogStream: a replica connection to MariaDB or MySQL that streams the
// row binlog from a GTID state or a file and position, one decoded event at
// a time. It sends the dump command the server speaks (COM_BINLOG_DUMP,
// after @slave_connect_state on MariaDB; COM_BINLOG_DUMP_GTID with the
// encoded GTID set on MySQL) and reads the packets with MariaDB
// Connector/C; events are decoded by binlog_events.h, rows later by
// binlog_rows.h. A MySQL transaction compressed into a TRANSACTION_PAYLOAD
// event is handed out as the events inside it (binlog_payload.h), so
// readers see the same events either way. Not thread-safe: one thread uses
// it. The
// stop token given to Open may be requested from any thread; it ends
// whatever the stream waits for with Cancelled, so shutdown never waits on
// the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "crbridge/connector/mysql/binlog_events.h"
#include "crbridge/connector/mysql/binlog_payload.h"
#include "crbridge/server/mysql/mysql_flavor.h"
#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

// Where a stream starts: just after the transactions of a GTID state, or
// at a position of a binlog file (4 is its first event). The state is
// MariaDB's ("0-1-97" or "0-1-97,1-2-5", as @@gtid_binlog_pos prints it)
// or MySQL's GTID set ("uuid:1-97,uuid2:tag:1-5", as @@gtid_executed
// prints it), as the server is; "" is the empty state, the binary log's
// beginning.
struct BinlogStart {
  bool at_gtid = false;
  std::string gtid_state;  // with at_gtid; file_name and position are ignored then
  std::string file_name;
  uint64_t position = 4;

  static BinlogStart AtGtid(std::string state) { return BinlogStart{true, std::move(state), "", 4}; }
  static BinlogStart AtFile(std::string file, uint64_t position) {
    return BinlogStart{false, "", std::move(file), position};
  }
};

struct BinlogStreamOptions {
  // The replica id crbridge registers with: not 0, and unique among the
  // server's replicas (the server ends an older dump with the same id).
  uint32_t server_id = 0;
  BinlogStart start;
  // The server sends a HEARTBEAT after this long without events.
  std::chrono::milliseconds heartbeat_period{1000};
  // No byte for this long, heartbeats included, means the connection is
  // lost (whole seconds, at least one; must exceed heartbeat_period).
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds connect_timeout{10};
};

class BinlogStream {
 public:
  // Connects to `url` (mysql://user:password@host:port/), asks the server
  // for checksummed events (@master_binlog_checksum, MySQL's
  // @source_binlog_checksum), on MariaDB its GTID protocol
  // (@mariadb_slave_capability=4), and heartbeats, and starts the dump. Unavailable when the server cannot be reached or refuses us;
  // InvalidArgument for a bad url, server id or GTID state; Cancelled when
  // `stop` is requested during the dump's start (the connect itself is
  // bounded by connect_timeout only).
  static Status Open(const std::string& url, const BinlogStreamOptions& options, std::stop_token stop,
                     std::unique_ptr<BinlogStream>* out);

  ~BinlogStream();
  BinlogStream(const BinlogStream&) = delete;
  BinlogStream& operator=(const BinlogStream&) = delete;

  // Waits for the next event and decodes it into `*event`, HEARTBEATs
  // included; a TRANSACTION_PAYLOAD event is never returned, its events
  // are (the last with the payload's position). Its BinlogRowsEvent::rows points into the stream's buffer and
  // is valid until the next call. Errors: Cancelled after a stop request;
  // Unavailable when the connection is lost or times out; NotFound when the
  // server does not have the start position (error 1236: an unknown GTID, a
  // purged file); Corruption for an event that does not decode (a bad
  // checksum), a payload that does not decompress, or an unexpected packet;
  // InvalidArgument for an event crbridge refuses (binlog_events.h). After
  // an error the stream is unusable: open a new one.
  Status Next(BinlogEvent* event);

  // Whether an event is already received or arrives within `wait`, so that
  // Next would not block: false tells a caller that the server is quiet.
  bool EventWithin(std::chrono::milliseconds wait) const;

  // The binlog file and the position just past the last event (from ROTATE
  // events and each event's log_pos; artificial events without a position
  // leave it). Resuming at this point skips exactly the events seen; within
  // a compressed transaction it stays before the transaction until its last
  // event, which takes the position after it.
  const std::string& file_name() const { return file_name_; }
  uint64_t position() const { return position_; }

  // The server's kind and version, from its greeting.
  const MysqlServerVersion& server_version() const { return server_version_; }

  // The bytes of the last event as the server sent it (header, body,
  // checksum); valid until the next call to Next.
  std::string_view raw_event() const { return raw_event_; }

 private:
  struct Connection;
  explicit BinlogStream(std::unique_ptr<Connection> connection);

  void Track(const BinlogEvent& event);
  Status NextInPayload(BinlogEvent* event);

  std::unique_ptr<Connection> connection_;
  BinlogChecksum checksum_ = BinlogChecksum::kOff;
  MysqlServerVersion server_version_;
  std::string file_name_;
  uint64_t position_ = 0;
  std::string_view raw_event_;
  BinlogPayloadEvents payload_;  // the events of a TRANSACTION_PAYLOAD being read
  uint32_t payload_end_ = 0;     // its position
  Status failure_;  // the error that ended the stream
};

}  // namespace crbridge::mysql
