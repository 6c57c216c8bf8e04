#include "crbridge/server/source_database.h"

#include "mysql_database.h"
#include "postgres_database.h"

namespace crbridge {

std::unique_ptr<SourceDatabase> NewSourceDatabase(const SourceConfig& source) {
  if (source.type == SourceType::kMysql) return std::make_unique<MysqlDatabase>(source.url);
  return std::make_unique<PostgresDatabase>(source.url);
}

}  // namespace crbridge
