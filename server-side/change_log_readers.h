// The ChangeLogReader of each dialect; OpenChangeLogReader picks the one of
// the config's source. Internal to server-side.
#pragma once

#include <memory>

#include "crbridge/server/change_log_reader.h"

namespace crbridge {

// As OpenChangeLogReader, for a source of type postgres.
Status OpenPostgresChangeLogReader(const Config& config, std::unique_ptr<ChangeLogReader>* reader);
// As OpenChangeLogReader, for a source of type mysql.
Status OpenMysqlChangeLogReader(const Config& config, std::unique_ptr<ChangeLogReader>* reader);

}  // namespace crbridge
