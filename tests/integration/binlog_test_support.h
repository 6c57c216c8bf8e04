// Test support for the binlog tests against the MariaDB fixture: a SQL
// session that reads values in the text protocol (as capture's snapshot
// reads them) and knows the binlog position, and a reader that collects a
// BinlogStream's events up to a position. Test thread only.
#pragma once

#include <cppconn/connection.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>
#include <mysql_driver.h>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crbridge/connector/mysql/binlog_rows.h"
#include "crbridge/connector/mysql/binlog_stream.h"
#include "crbridge/server/mysql/mysql_url.h"

namespace crbridge::testing {
using namespace crbridge::mysql;  // the dialect under test

using TextRow = std::vector<std::optional<std::string>>;

class MariaDbSession {
 public:
  // `url` names a database (TestDatabases::NewMariaDbDatabase).
  explicit MariaDbSession(const std::string& url) {
    MysqlUrl parsed;
    EXPECT_TRUE(ParseMysqlUrl(url, &parsed).ok()) << url;
    conn_.reset(sql::mysql::get_driver_instance()->connect(
        "tcp://" + parsed.host + ":" + std::to_string(parsed.port), parsed.user, parsed.password));
    conn_->setSchema(parsed.database);
    database_ = parsed.database;
    Exec("SET time_zone = '+00:00'");
    Exec("SET NAMES utf8mb4");
  }

  const std::string& database() const { return database_; }

  void Exec(const std::string& statement) {
    std::unique_ptr<sql::Statement> s(conn_->createStatement());
    s->execute(statement);
  }

  // Every row of `query` as text; nullopt for NULL.
  std::vector<TextRow> Query(const std::string& query) {
    std::unique_ptr<sql::Statement> s(conn_->createStatement());
    std::unique_ptr<sql::ResultSet> rows(s->executeQuery(query));
    const unsigned columns = rows->getMetaData()->getColumnCount();
    std::vector<TextRow> out;
    while (rows->next()) {
      TextRow& row = out.emplace_back();
      for (unsigned i = 1; i <= columns; ++i) {
        std::string text = rows->getString(i);
        row.push_back(rows->wasNull() ? std::nullopt : std::optional<std::string>(std::move(text)));
      }
    }
    return out;
  }

  std::string QueryOne(const std::string& query) { return Query(query).at(0).at(0).value_or(""); }

  std::string GtidPosition() { return QueryOne("SELECT @@gtid_binlog_pos"); }

  // The binlog file and the position just past its last event.
  BinlogStart FilePosition() {
    const std::vector<TextRow> status = Query("SHOW MASTER STATUS");
    return BinlogStart::AtFile(*status.at(0).at(0), std::stoull(*status.at(0).at(1)));
  }

 private:
  std::unique_ptr<sql::Connection> conn_;
  std::string database_;
};

// Events as a stream delivered them: raw bytes, and their decoding, which
// points into the raw bytes (a deque keeps them in place).
struct StreamedEvents {
  std::deque<std::string> raw;
  std::vector<BinlogEvent> decoded;
};

inline BinlogStreamOptions StreamFrom(BinlogStart start, uint32_t server_id = 1001) {
  BinlogStreamOptions options;
  options.server_id = server_id;
  options.start = std::move(start);
  return options;
}

// Reads `stream` until it passes `end` (a FilePosition), HEARTBEATs left
// out. Fails the test on an error or after `timeout`.
inline void ReadUntil(BinlogStream& stream, const BinlogStart& end, StreamedEvents* events,
                      std::chrono::seconds timeout = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (stream.file_name() != end.file_name || stream.position() < end.position) {
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "the stream did not reach " << end.file_name << ":"
                                                       << end.position << " (at " << stream.file_name() << ":"
                                                       << stream.position() << ")";
    BinlogEvent event;
    const Status s = stream.Next(&event);
    ASSERT_TRUE(s.ok()) << s.ToString();
    if (event.header.type == BinlogEventType::kHeartbeat) continue;
    const std::string& raw = events->raw.emplace_back(stream.raw_event());
    BinlogEvent stable;
    ASSERT_TRUE(DecodeBinlogEvent(raw, BinlogChecksum::kCrc32, &stable).ok());
    events->decoded.push_back(std::move(stable));
  }
}

inline std::unique_ptr<BinlogStream> OpenStream(const std::string& url, const BinlogStreamOptions& options,
                                                std::stop_token stop = {}) {
  std::unique_ptr<BinlogStream> stream;
  const Status s = BinlogStream::Open(url, options, stop, &stream);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return stream;
}

// A row event of one table with its rows decoded by the table map in force.
struct TableRowChanges {
  BinlogRowsKind kind = BinlogRowsKind::kWrite;
  BinlogTableMap table;
  std::vector<BinlogRowChange> rows;
};

inline std::vector<TableRowChanges> RowChangesOf(const StreamedEvents& events, const std::string& table) {
  std::map<uint64_t, BinlogTableMap> maps;
  std::vector<TableRowChanges> out;
  for (const BinlogEvent& event : events.decoded) {
    if (const auto* map = std::get_if<BinlogTableMap>(&event.data)) maps[map->table_id] = *map;
    const auto* rows = std::get_if<BinlogRowsEvent>(&event.data);
    if (rows == nullptr) continue;
    const BinlogTableMap& map = maps.at(rows->table_id);
    if (map.table != table) continue;
    TableRowChanges& changes = out.emplace_back();
    changes.kind = rows->kind;
    changes.table = map;
    const Status s = DecodeBinlogRows(map, *rows, &changes.rows);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  return out;
}

}  // namespace crbridge::testing
