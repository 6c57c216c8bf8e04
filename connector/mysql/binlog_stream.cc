#include "crbridge/connector/mysql/binlog_stream.h"

// ma_pvio.h uses mysql.h's types without including it.
// clang-format off
#include <mysql.h>
#include <ma_pvio.h>
// clang-format on
#include <mysqld_error.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>

#include "binlog_reader.h"
#include "crbridge/connector/mysql/mysql_gtid_set.h"
#include "crbridge/server/mysql/mysql_url.h"

namespace crbridge::mysql {
namespace {

// The commands that start a dump (they are not all in Connector/C's enum).
constexpr unsigned kBinlogDump = 0x12;
constexpr unsigned kBinlogDumpGtid = 0x1e;
// COM_BINLOG_DUMP_GTID's flag: the GTID set follows.
constexpr uint16_t kThroughGtid = 0x04;

// The largest packet the stream accepts: MySQL's and MariaDB's own upper
// bound of max_allowed_packet (an event may be that large).
constexpr unsigned long kMaxPacketBytes = 1UL << 30;

Status MysqlError(MYSQL* mysql, const std::string& doing) {
  const unsigned error = mysql_errno(mysql);
  std::string message = "mysql: " + doing + ": " + mysql_error(mysql) + " (error " + std::to_string(error) + ")";
  // Error 1236 also tells of other fatal conditions (MySQL: a replica with
  // GTIDs the server lacks, an oversized event): only a start the binary
  // log no longer (or never) holds is NotFound.
  const std::string_view text = mysql_error(mysql);
  if (error == ER_MASTER_FATAL_ERROR_READING_BINLOG &&
      (text.find("purged") != std::string_view::npos || text.find("not find") != std::string_view::npos ||
       text.find("not in the") != std::string_view::npos)) {
    return Status::NotFound(std::move(message));
  }
  return Status::Unavailable(std::move(message));
}

// What @slave_connect_state accepts: domain-server-sequence triples
// separated by commas. Checked because it is spliced into a statement.
bool IsMariaDbGtidState(std::string_view state) {
  return std::all_of(state.begin(), state.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '-' || c == ',' || c == ' '; });
}

// Unblocks a read in progress on the connection's socket, from the thread
// that requests the stop.
struct ShutdownSocket {
  my_socket socket;
  void operator()() const { shutdown(socket, SHUT_RDWR); }
};

}  // namespace

struct BinlogStream::Connection {
  ~Connection() {
    on_stop.reset();  // before the socket closes, waiting for a running callback
    mysql_close(mysql);
  }

  Status Query(const std::string& sql) {
    if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) return Failed("running " + sql);
    return Status::OK();
  }

  Status Failed(const std::string& doing) const {
    if (stop.stop_requested()) return Status::Cancelled("binlog stream stopped");
    return MysqlError(mysql, doing);
  }

  // Sends a dump command; the server answers with the stream (or an error
  // packet, read as the first event).
  Status SendCommand(unsigned command, const std::string& arguments) {
    if (mysql->methods->db_command(mysql, static_cast<enum_server_command>(command), arguments.data(),
                                   arguments.size(), 1, nullptr) != 0) {
      return Failed("starting the binlog dump");
    }
    return Status::OK();
  }

  MYSQL* mysql = nullptr;
  std::stop_token stop;
  std::optional<std::stop_callback<ShutdownSocket>> on_stop;
};

BinlogStream::BinlogStream(std::unique_ptr<Connection> connection) : connection_(std::move(connection)) {}

BinlogStream::~BinlogStream() = default;

Status BinlogStream::Open(const std::string& url, const BinlogStreamOptions& options, std::stop_token stop,
                          std::unique_ptr<BinlogStream>* out) {
  MysqlUrl parsed;
  CRBRIDGE_RETURN_IF_ERROR(ParseMysqlUrl(url, &parsed));
  if (options.server_id == 0) return Status::InvalidArgument("binlog stream: server id 0 cannot register as a replica");
  const BinlogStart& start = options.start;
  if (!start.at_gtid && (start.file_name.empty() || start.position < 4 || start.position > UINT32_MAX)) {
    return Status::InvalidArgument("binlog stream: start at a GTID state or at a file and a position from 4");
  }

  auto connection = std::make_unique<Connection>();
  connection->stop = stop;
  connection->mysql = mysql_init(nullptr);
  if (connection->mysql == nullptr) return Status::Internal("mysql_init failed");
  MYSQL* mysql = connection->mysql;
  const unsigned connect_seconds = static_cast<unsigned>(std::max<int64_t>(1, options.connect_timeout.count()));
  const unsigned read_seconds = static_cast<unsigned>(std::max<int64_t>(1, options.read_timeout.count()));
  mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_seconds);
  mysql_optionsv(mysql, MYSQL_OPT_READ_TIMEOUT, &read_seconds);
  mysql_optionsv(mysql, MYSQL_OPT_WRITE_TIMEOUT, &read_seconds);
  mysql_optionsv(mysql, MYSQL_OPT_MAX_ALLOWED_PACKET, &kMaxPacketBytes);
  if (mysql_real_connect(mysql, parsed.host.c_str(), parsed.user.c_str(), parsed.password.c_str(), nullptr,
                         parsed.port, nullptr, 0) == nullptr) {
    return MysqlError(mysql, "connecting to " + parsed.host + ":" + std::to_string(parsed.port));
  }
  connection->on_stop.emplace(stop, ShutdownSocket{mysql_get_socket(mysql)});
  const MysqlServerVersion server = ParseServerVersion(mysql_get_server_info(mysql));
  const bool mysql_flavor = server.flavor == MysqlFlavor::kMysql;

  // The dump's arguments, checked before anything is sent.
  std::string dump;
  unsigned command = kBinlogDump;
  if (start.at_gtid && mysql_flavor) {
    MysqlGtidSet set;
    CRBRIDGE_RETURN_IF_ERROR(MysqlGtidSet::Parse(start.gtid_state, &set));
    const std::string encoded = set.Encode();
    command = kBinlogDumpGtid;
    AppendLittleEndian(&dump, kThroughGtid, 2);
    AppendLittleEndian(&dump, options.server_id, 4);
    AppendLittleEndian(&dump, 0, 4);  // no file name: the server finds the first file the set lacks
    AppendLittleEndian(&dump, 4, 8);
    AppendLittleEndian(&dump, encoded.size(), 4);
    dump += encoded;
  } else {
    if (start.at_gtid && !IsMariaDbGtidState(start.gtid_state)) {
      return Status::InvalidArgument("binlog stream: invalid GTID state \"" + start.gtid_state + "\"");
    }
    // An empty file name makes MariaDB start at @slave_connect_state.
    AppendLittleEndian(&dump, start.at_gtid ? 4 : start.position, 4);
    AppendLittleEndian(&dump, 0, 2);
    AppendLittleEndian(&dump, options.server_id, 4);
    if (!start.at_gtid) dump += start.file_name;
  }

  // The first events arrive before the FORMAT_DESCRIPTION that announces
  // the checksum, so ask for it.
  CRBRIDGE_RETURN_IF_ERROR(connection->Query("SELECT @@global.binlog_checksum"));
  MYSQL_RES* result = mysql_store_result(mysql);
  if (result == nullptr) return connection->Failed("reading @@global.binlog_checksum");
  MYSQL_ROW row = mysql_fetch_row(result);
  const bool crc32 = row != nullptr && row[0] != nullptr && std::string_view(row[0]) == "CRC32";
  mysql_free_result(result);

  // Without this the server closes a checksum-unaware replica's dump
  // (MySQL 8.0.26 renamed the variable and still reads the old name).
  CRBRIDGE_RETURN_IF_ERROR(connection->Query("SET @master_binlog_checksum = @@global.binlog_checksum"));
  const auto heartbeat_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(options.heartbeat_period).count();
  CRBRIDGE_RETURN_IF_ERROR(connection->Query("SET @master_heartbeat_period = " + std::to_string(heartbeat_ns)));
  if (mysql_flavor) {
    CRBRIDGE_RETURN_IF_ERROR(connection->Query("SET @source_binlog_checksum = @@global.binlog_checksum"));
    CRBRIDGE_RETURN_IF_ERROR(connection->Query("SET @source_heartbeat_period = " + std::to_string(heartbeat_ns)));
  } else {
    // MariaDB's GTID events instead of their MySQL 5.5-compatible stand-ins.
    CRBRIDGE_RETURN_IF_ERROR(connection->Query("SET @mariadb_slave_capability = 4"));
    if (start.at_gtid) {
      CRBRIDGE_RETURN_IF_ERROR(connection->Query("SET @slave_connect_state = '" + start.gtid_state + "'"));
    }
  }
  CRBRIDGE_RETURN_IF_ERROR(connection->SendCommand(command, dump));

  std::unique_ptr<BinlogStream> stream(new BinlogStream(std::move(connection)));
  stream->checksum_ = crc32 ? BinlogChecksum::kCrc32 : BinlogChecksum::kOff;
  stream->server_version_ = server;
  if (!start.at_gtid) {
    stream->file_name_ = start.file_name;
    stream->position_ = start.position;
  }
  *out = std::move(stream);
  return Status::OK();
}

bool BinlogStream::EventWithin(std::chrono::milliseconds wait) const {
  if (payload_.has_next()) return true;
  // Connector/C reads ahead into its own cache: bytes there are not on the socket.
  const MARIADB_PVIO* pvio = connection_->mysql->net.pvio;
  if (pvio != nullptr && pvio->cache != nullptr && pvio->cache + pvio->cache_size > pvio->cache_pos) return true;
  pollfd socket{static_cast<int>(mysql_get_socket(connection_->mysql)), POLLIN, 0};
  return poll(&socket, 1, static_cast<int>(wait.count())) != 0;
}

Status BinlogStream::Next(BinlogEvent* event) {
  raw_event_ = {};
  if (!failure_.ok()) return failure_;
  Connection& connection = *connection_;
  if (connection.stop.stop_requested()) {
    failure_ = Status::Cancelled("binlog stream stopped");
    return failure_;
  }
  if (payload_.has_next()) {
    failure_ = NextInPayload(event);
    return failure_;
  }
  const unsigned long length = mysql_net_read_packet(connection.mysql);
  if (length == packet_error) {
    failure_ = connection.Failed("reading the binlog");
    return failure_;
  }
  const auto* packet = reinterpret_cast<const char*>(connection.mysql->net.read_pos);
  // An EOF packet: the server ended the dump.
  if (length < 8 && static_cast<uint8_t>(packet[0]) == 0xfe) {
    failure_ = Status::Unavailable("mysql: the server ended the binlog dump");
    return failure_;
  }
  if (length < 1 || packet[0] != 0) {
    failure_ = Status::Corruption("mysql: a binlog packet of " + std::to_string(length) + " bytes without the OK marker");
    return failure_;
  }
  // The packet's first byte is the OK marker; the event follows.
  raw_event_ = std::string_view(packet + 1, length - 1);
  BinlogEvent decoded;
  if (Status s = DecodeBinlogEvent(raw_event_, checksum_, &decoded, server_version_.flavor); !s.ok()) {
    failure_ = s;
    return failure_;
  }
  if (const auto* payload = std::get_if<BinlogTransactionPayload>(&decoded.data)) {
    // Its events are read in its place; its end is where they end.
    payload_end_ = decoded.header.log_pos;
    if (Status s = payload_.Start(*payload); !s.ok()) {
      failure_ = s;
      return failure_;
    }
    failure_ = NextInPayload(event);
    return failure_;
  }
  Track(decoded);
  *event = std::move(decoded);
  return Status::OK();
}

Status BinlogStream::NextInPayload(BinlogEvent* event) {
  std::string_view bytes;
  bool last = false;
  CRBRIDGE_RETURN_IF_ERROR(payload_.Next(&bytes, &last));
  raw_event_ = bytes;
  BinlogEvent decoded;
  CRBRIDGE_RETURN_IF_ERROR(DecodeBinlogEvent(bytes, BinlogChecksum::kOff, &decoded, server_version_.flavor));
  if (last) decoded.header.log_pos = payload_end_;
  Track(decoded);
  *event = std::move(decoded);
  return Status::OK();
}

void BinlogStream::Track(const BinlogEvent& event) {
  if (const auto* description = std::get_if<BinlogFormatDescription>(&event.data)) {
    checksum_ = description->checksum;
  }
  if (const auto* rotate = std::get_if<BinlogRotate>(&event.data)) {
    file_name_ = rotate->file_name;
    position_ = rotate->position;
    return;
  }
  if (event.header.log_pos != 0) position_ = event.header.log_pos;
}

}  // namespace crbridge::mysql
