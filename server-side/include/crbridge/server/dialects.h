// The one place that picks a dialect by the configured source type: the
// source database probe, the shadow store and the change-log reader of
// Postgres or MySQL/MariaDB. A new dialect is a folder implementing the
// core's interfaces (SourceDatabase, ShadowStore, ChangeLogReader) plus a
// case here. Stateless; callable from any thread.
#pragma once

#include <memory>
#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/change_log_reader.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/server/core/source_database.h"

namespace crbridge {

// The probe of `source`'s database; it connects when first used.
std::unique_ptr<SourceDatabase> NewSourceDatabase(const SourceConfig& source);

// Opens the shadow store of `config`'s source: connects, creates or
// upgrades the metadata schema and the clock table of each of `tables`
// (idempotent) and loads the server's site id (made once, on first open).
// Unavailable when the database cannot be reached; InvalidArgument when a
// table's mapping no longer matches its clock table, or the marking cannot
// be taken.
Status OpenShadowStore(const Config& config, const std::vector<ResolvedTable>& tables, ShadowStore::Marking marking,
                       std::unique_ptr<ShadowStore>* store);

// Connects to `config`'s source and reads the server's site id. Unavailable
// when the database cannot be reached; Internal when the metadata schema is
// not there yet (crbridge's capture makes it).
Status OpenChangeLogReader(const Config& config, std::unique_ptr<ChangeLogReader>* reader);

}  // namespace crbridge
