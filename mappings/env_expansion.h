// Expansion of ${VAR} references in config values, so that secrets such as
// database passwords stay out of config files. Stateless; thread-safe as
// long as the environment is not modified concurrently.
#pragma once

#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge {

// Replaces each ${NAME} in `text` with the environment variable NAME, and
// each ${NAME:-default} with NAME when it is set and not empty, else with
// `default`. "$${" stands for a literal "${". An unset variable without a
// default, or an unterminated reference, is an InvalidArgument error.
Status ExpandEnvironment(std::string_view text, std::string* out);

}  // namespace crbridge
