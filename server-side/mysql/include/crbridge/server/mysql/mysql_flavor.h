// MysqlFlavor: which of the servers that speak MySQL's protocol crbridge
// talks to (MariaDB or MySQL, and which version), told by the version
// string the server sends, and the statements that differ between them.
// What differs between MariaDB and MySQL in SQL is decided here and nowhere
// else (the binlog's own differences are the capture's: binlog_stream.h).
// Plain values and stateless functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace crbridge::mysql {

enum class MysqlFlavor { kMariaDb, kMysql };

struct MysqlServerVersion {
  MysqlFlavor flavor = MysqlFlavor::kMariaDb;
  int major = 0;
  int minor = 0;
  int patch = 0;

  bool AtLeast(int want_major, int want_minor) const {
    return major > want_major || (major == want_major && minor >= want_minor);
  }
};

// The version of a server that printed `version` (VERSION(), the
// handshake's server version): "10.11.6-MariaDB-0+deb12u1" (MariaDB, also
// behind a "5.5.5-" prefix), "9.7.4" (MySQL).
MysqlServerVersion ParseServerVersion(std::string_view version);

// "MariaDB 10.11.6", "MySQL 9.7.4": for messages.
std::string DescribeServer(const MysqlServerVersion& version);

// The statement that shows the binary log's current file and position
// (and, on MySQL, the executed GTID set in column 5): SHOW BINARY LOG
// STATUS on MySQL 8.2 and later (SHOW MASTER STATUS is gone since 8.4),
// SHOW MASTER STATUS on MariaDB and older MySQL.
std::string_view BinlogStatusStatement(const MysqlServerVersion& version);

}  // namespace crbridge::mysql
