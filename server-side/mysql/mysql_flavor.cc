#include "crbridge/server/mysql/mysql_flavor.h"

#include <charconv>

namespace crbridge::mysql {

MysqlServerVersion ParseServerVersion(std::string_view version) {
  MysqlServerVersion out;
  out.flavor = version.find("MariaDB") != std::string_view::npos ? MysqlFlavor::kMariaDb : MysqlFlavor::kMysql;
  // MariaDB once prefixed its version for old clients' sake.
  if (out.flavor == MysqlFlavor::kMariaDb && version.starts_with("5.5.5-")) version.remove_prefix(6);
  const char* at = version.data();
  const char* end = version.data() + version.size();
  for (int* part : {&out.major, &out.minor, &out.patch}) {
    at = std::from_chars(at, end, *part).ptr;
    if (at == end || *at != '.') break;
    ++at;
  }
  return out;
}

std::string DescribeServer(const MysqlServerVersion& version) {
  return std::string(version.flavor == MysqlFlavor::kMariaDb ? "MariaDB " : "MySQL ") +
         std::to_string(version.major) + "." + std::to_string(version.minor) + "." + std::to_string(version.patch);
}

std::string_view BinlogStatusStatement(const MysqlServerVersion& version) {
  if (version.flavor == MysqlFlavor::kMysql && version.AtLeast(8, 2)) return "SHOW BINARY LOG STATUS";
  return "SHOW MASTER STATUS";
}

}  // namespace crbridge::mysql
