// The MySQL/MariaDB ChangeLogReader; OpenChangeLogReader (dialects.h) picks it for a
// source of this type.
#pragma once

#include <memory>

#include "crbridge/mappings/config.h"
#include "crbridge/server/core/change_log_reader.h"

namespace crbridge::mysql {

// As OpenChangeLogReader, for a source of type mysql.
Status OpenChangeLogReader(const Config& config, std::unique_ptr<ChangeLogReader>* reader);

}  // namespace crbridge::mysql
