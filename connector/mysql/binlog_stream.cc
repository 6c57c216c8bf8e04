#include "crbridge/connector/mysql/binlog_stream.h"

// mariadb_rpl.h uses mysql.h's types without including it.
// clang-format off
#include <mysql.h>
#include <mariadb_rpl.h>
#include <ma_pvio.h>
// clang-format on
#include <mysqld_error.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>

#include "crbridge/server/mysql/mysql_url.h"

namespace crbridge::mysql {
namespace {

Status MysqlError(MYSQL* mysql, const std::string& doing) {
  const unsigned error = mysql_errno(mysql);
  std::string message = "mysql: " + doing + ": " + mysql_error(mysql) + " (error " + std::to_string(error) + ")";
  if (error == ER_MASTER_FATAL_ERROR_READING_BINLOG) return Status::NotFound(std::move(message));
  return Status::Unavailable(std::move(message));
}

// What @slave_connect_state accepts: domain-server-sequence triples
// separated by commas. Checked because it is spliced into a statement.
bool IsGtidState(std::string_view state) {
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
    mariadb_free_rpl_event(event);
    if (rpl != nullptr) mariadb_rpl_close(rpl);
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

  // The replication API reports its own errors (an event type it does not
  // know) apart from the connection's; an EOF packet sets neither.
  Status FetchFailed() const {
    if (stop.stop_requested()) return Status::Cancelled("binlog stream stopped");
    if (mariadb_rpl_errno(rpl) != 0) {
      return Status::Unavailable(std::string("mysql: reading the binlog: ") + mariadb_rpl_error(rpl) + " (error " +
                                 std::to_string(mariadb_rpl_errno(rpl)) + ")");
    }
    if (mysql_errno(mysql) != 0) return MysqlError(mysql, "reading the binlog");
    return Status::Unavailable("mysql: the server ended the binlog dump");
  }

  MYSQL* mysql = nullptr;
  MARIADB_RPL* rpl = nullptr;
  MARIADB_RPL_EVENT* event = nullptr;  // reused by each fetch
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
  if (!IsGtidState(start.gtid_state)) {
    return Status::InvalidArgument("binlog stream: invalid GTID state \"" + start.gtid_state + "\"");
  }
  if (start.gtid_state.empty() && (start.file_name.empty() || start.position < 4 || start.position > UINT32_MAX)) {
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
  if (mysql_real_connect(mysql, parsed.host.c_str(), parsed.user.c_str(), parsed.password.c_str(), nullptr,
                         parsed.port, nullptr, 0) == nullptr) {
    return MysqlError(mysql, "connecting to " + parsed.host + ":" + std::to_string(parsed.port));
  }
  connection->on_stop.emplace(stop, ShutdownSocket{mysql_get_socket(mysql)});

  // The first events arrive before the FORMAT_DESCRIPTION that announces
  // the checksum, so ask for it.
  CRBRIDGE_RETURN_IF_ERROR(connection->Query("SELECT @@global.binlog_checksum"));
  MYSQL_RES* result = mysql_store_result(mysql);
  if (result == nullptr) return connection->Failed("reading @@global.binlog_checksum");
  MYSQL_ROW row = mysql_fetch_row(result);
  const bool crc32 = row != nullptr && row[0] != nullptr && std::string_view(row[0]) == "CRC32";
  mysql_free_result(result);

  // Without this the server closes a checksum-unaware replica's dump.
  CRBRIDGE_RETURN_IF_ERROR(connection->Query("SET @master_binlog_checksum = @@global.binlog_checksum"));
  // MariaDB's GTID events instead of their MySQL 5.5-compatible stand-ins.
  CRBRIDGE_RETURN_IF_ERROR(connection->Query("SET @mariadb_slave_capability = 4"));
  const auto heartbeat_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(options.heartbeat_period).count();
  CRBRIDGE_RETURN_IF_ERROR(connection->Query("SET @master_heartbeat_period = " + std::to_string(heartbeat_ns)));
  if (!start.gtid_state.empty()) {
    CRBRIDGE_RETURN_IF_ERROR(connection->Query("SET @slave_connect_state = '" + start.gtid_state + "'"));
  }

  connection->rpl = mariadb_rpl_init(mysql);
  if (connection->rpl == nullptr) return MysqlError(mysql, "starting the replication API");
  MARIADB_RPL* rpl = connection->rpl;
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, static_cast<unsigned>(options.server_id));
  // An empty file name makes the server start at @slave_connect_state.
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, start.gtid_state.empty() ? start.file_name.c_str() : "",
                       start.gtid_state.empty() ? start.file_name.size() : size_t{0});
  const auto position = static_cast<unsigned long>(start.gtid_state.empty() ? start.position : 4);
  mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, position);
  if (mariadb_rpl_open(rpl) != 0) return connection->Failed("starting the binlog dump");

  std::unique_ptr<BinlogStream> stream(new BinlogStream(std::move(connection)));
  stream->checksum_ = crc32 ? BinlogChecksum::kCrc32 : BinlogChecksum::kOff;
  if (start.gtid_state.empty()) {
    stream->file_name_ = start.file_name;
    stream->position_ = start.position;
  }
  *out = std::move(stream);
  return Status::OK();
}

bool BinlogStream::EventWithin(std::chrono::milliseconds wait) const {
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
  MARIADB_RPL_EVENT* fetched = mariadb_rpl_fetch(connection.rpl, connection.event);
  if (fetched == nullptr) {
    connection.event = nullptr;  // a failed fetch frees the event it was given
    failure_ = connection.FetchFailed();
    return failure_;
  }
  connection.event = fetched;
  // The packet's first byte is the OK marker; the event follows.
  raw_event_ = std::string_view(reinterpret_cast<const char*>(fetched->raw_data) + fetched->raw_data_ofs,
                                fetched->raw_data_size - fetched->raw_data_ofs);
  BinlogEvent decoded;
  if (Status s = DecodeBinlogEvent(raw_event_, checksum_, &decoded); !s.ok()) {
    failure_ = s;
    return failure_;
  }
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
