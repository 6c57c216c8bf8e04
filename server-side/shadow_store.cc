#include "crbridge/server/shadow_store.h"

#include "crbridge/server/postgres_shadow_store.h"
#include "mysql_shadow_store.h"

namespace crbridge {

Status OpenShadowStore(const Config& config, const std::vector<ResolvedTable>& tables, ShadowStore::Marking marking,
                       std::unique_ptr<ShadowStore>* store) {
  switch (config.source.type) {
    case SourceType::kPostgres: {
      std::unique_ptr<PostgresShadowStore> postgres;
      CRBRIDGE_RETURN_IF_ERROR(
          PostgresShadowStore::Open(config.source.url, config.metadata_schema, tables, marking, &postgres));
      *store = std::move(postgres);
      return Status::OK();
    }
    case SourceType::kMysql:
      return OpenMysqlShadowStore(config, tables, marking, store);
  }
  return Status::InvalidArgument("no shadow store for source type " + std::string(SourceTypeName(config.source.type)));
}

}  // namespace crbridge
