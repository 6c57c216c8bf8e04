#include "crbridge/connector/capture.h"

#include "crbridge/connector/mysql_capture.h"
#include "crbridge/connector/postgres_capture.h"

namespace crbridge {

Status Capture::Run(std::stop_token stop) {
  const Status s = RunUntilStopped(stop);
  return s.code() == Status::Code::kCancelled && stop.stop_requested() ? Status::OK() : s;
}

Status DropCapture(const Config& config) {
  return config.source.type == SourceType::kMysql ? MysqlCapture::Drop(config) : PostgresCapture::Drop(config);
}

std::unique_ptr<Capture> NewCapture(const Config& config, const std::vector<ResolvedTable>& tables,
                                    CaptureOptions options, Metrics& metrics) {
  if (config.source.type == SourceType::kMysql) {
    return std::make_unique<MysqlCapture>(config, tables, std::move(options), metrics);
  }
  return std::make_unique<PostgresCapture>(config, tables, std::move(options), metrics);
}

}  // namespace crbridge
