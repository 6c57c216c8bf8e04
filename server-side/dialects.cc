#include "crbridge/server/dialects.h"

#include "crbridge/server/mysql/mysql_change_log_reader.h"
#include "crbridge/server/mysql/mysql_database.h"
#include "crbridge/server/mysql/mysql_shadow_store.h"
#include "crbridge/server/postgres/postgres_change_log_reader.h"
#include "crbridge/server/postgres/postgres_database.h"
#include "crbridge/server/postgres/postgres_shadow_store.h"

namespace crbridge {

std::unique_ptr<SourceDatabase> NewSourceDatabase(const SourceConfig& source) {
  if (source.type == SourceType::kMysql) return std::make_unique<mysql::MysqlDatabase>(source.url);
  return std::make_unique<postgres::PostgresDatabase>(source.url);
}

Status OpenShadowStore(const Config& config, const std::vector<ResolvedTable>& tables, ShadowStore::Marking marking,
                       std::unique_ptr<ShadowStore>* store) {
  switch (config.source.type) {
    case SourceType::kPostgres: {
      std::unique_ptr<postgres::PostgresShadowStore> opened;
      CRBRIDGE_RETURN_IF_ERROR(
          postgres::PostgresShadowStore::Open(config.source.url, config.metadata_schema, tables, marking, &opened));
      *store = std::move(opened);
      return Status::OK();
    }
    case SourceType::kMysql:
      return mysql::OpenShadowStore(config, tables, marking, store);
  }
  return Status::InvalidArgument("no shadow store for source type " + std::string(SourceTypeName(config.source.type)));
}

Status OpenChangeLogReader(const Config& config, std::unique_ptr<ChangeLogReader>* reader) {
  switch (config.source.type) {
    case SourceType::kPostgres:
      return postgres::OpenChangeLogReader(config, reader);
    case SourceType::kMysql:
      return mysql::OpenChangeLogReader(config, reader);
  }
  return Status::InvalidArgument("no change log reader for source type " +
                                 std::string(SourceTypeName(config.source.type)));
}

}  // namespace crbridge
