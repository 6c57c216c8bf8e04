#include "crbridge/connector/ops/live_check.h"
#include "crbridge/server/dialects.h"

namespace crbridge {

Status LiveCheck(const Config& config, std::chrono::milliseconds timeout, ServerInfo* server, ConfigCheck* check) {
  std::unique_ptr<SourceDatabase> database = NewSourceDatabase(config.source);
  CRBRIDGE_RETURN_IF_ERROR(database->Probe(timeout, std::stop_token(), server));
  return CheckConfig(config, *database, check);
}

}  // namespace crbridge
