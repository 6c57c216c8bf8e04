#include "crbridge/connector/daemon/capture_factory.h"

#include "crbridge/connector/mysql/mysql_capture.h"
#include "crbridge/connector/postgres/postgres_capture.h"

namespace crbridge {

std::unique_ptr<Capture> NewCapture(const Config& config, const std::vector<ResolvedTable>& tables,
                                    CaptureOptions options, Metrics& metrics) {
  if (config.source.type == SourceType::kMysql) {
    return std::make_unique<mysql::MysqlCapture>(config, tables, std::move(options), metrics);
  }
  return std::make_unique<postgres::PostgresCapture>(config, tables, std::move(options), metrics);
}

Status DropCapture(const Config& config) {
  return config.source.type == SourceType::kMysql ? mysql::MysqlCapture::Drop(config) : postgres::PostgresCapture::Drop(config);
}

}  // namespace crbridge
