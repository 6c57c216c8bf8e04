// The schema version a vlcn client announces: a hash of the schema text it
// applied (crsql_master's schema_version after automigrateTo). A client and
// a server agree on a schema by this number, so it must match byte for byte.
// Stateless function; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace crbridge {

// The vlcn client's schema version of `schema_text`: cryb64 (the 53-bit
// cyrb53 pair widened to 64 bits) over its UTF-16 code units, as
// @vlcn.io/xplat-api computes it.
int64_t SchemaVersion(std::string_view schema_text);

}  // namespace crbridge
