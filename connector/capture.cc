#include "crbridge/connector/capture.h"

#include "crbridge/connector/mysql_capture.h"
#include "crbridge/connector/postgres_capture.h"

namespace crbridge {

std::unique_ptr<Capture> NewCapture(const Config& config, const std::vector<ResolvedTable>& tables,
                                    CaptureOptions options, Metrics& metrics) {
  if (config.source.type == SourceType::kMysql) {
    return std::make_unique<MysqlCapture>(config, tables, std::move(options), metrics);
  }
  return std::make_unique<PostgresCapture>(config, tables, std::move(options), metrics);
}

}  // namespace crbridge
