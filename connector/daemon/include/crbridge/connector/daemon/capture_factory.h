// The one place that picks a capture by the configured source type. A new
// source is a Capture implementation in a folder of its own plus a line
// here. Stateless; callable from any thread.
#pragma once

#include <memory>
#include <vector>

#include "crbridge/connector/capture/capture.h"

namespace crbridge {

// The capture of `config`'s source. `config` and `tables` (checked
// mappings) must outlive it.
std::unique_ptr<Capture> NewCapture(const Config& config, const std::vector<ResolvedTable>& tables,
                                    CaptureOptions options, Metrics& metrics);

// Removes what capture created in the source database, for `crbridge
// drop`: Postgres's slot, publication and metadata schema; MySQL's
// metadata database. Clients resync from a new snapshot afterwards.
Status DropCapture(const Config& config);

}  // namespace crbridge
