#include "crbridge/server/change_log_reader.h"

#include "change_log_readers.h"

namespace crbridge {

Status OpenChangeLogReader(const Config& config, std::unique_ptr<ChangeLogReader>* reader) {
  switch (config.source.type) {
    case SourceType::kPostgres:
      return OpenPostgresChangeLogReader(config, reader);
    case SourceType::kMysql:
      return OpenMysqlChangeLogReader(config, reader);
  }
  return Status::InvalidArgument("no change log reader for source type " +
                                 std::string(SourceTypeName(config.source.type)));
}

}  // namespace crbridge
