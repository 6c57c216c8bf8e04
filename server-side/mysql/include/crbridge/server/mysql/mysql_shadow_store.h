// The ShadowStore of a MySQL or MariaDB database (docs/server-side.md):
// the shadow tables live in the metadata database `config.metadata_schema`
// of the source server, reached through MySQL Connector/C++ with bound
// parameters and multi-row statements. Each store has two connections: a
// writer (READ COMMITTED; each Write a transaction that first increments
// the counter row `<metadata>`.`clock`, whose lock it holds until commit)
// and a reader (a consistent snapshot per Read).
//
// Marking: every crbridge write transaction's first row change is that
// counter update, so in the row binlog it is the first row event of the
// transaction's group. Capture treats a binlog transaction that touches
// `<metadata>`.`clock` as crbridge's own and skips it; no statement is
// needed to mark, and both Marking values open the same store. This needs
// the metadata database in the binary log: it must not be filtered out
// (binlog-ignore-db, or binlog-do-db without it).
//
// Internal to server-side; OpenShadowStore calls it for SourceType::kMysql.
#pragma once

#include <memory>
#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/shadow_store.h"

namespace crbridge::mysql {

// As OpenShadowStore (shadow_store.h), for a source of type mysql.
Status OpenShadowStore(const Config& config, const std::vector<ResolvedTable>& tables,
                            ShadowStore::Marking marking, std::unique_ptr<ShadowStore>* store);

}  // namespace crbridge::mysql
