// Expansion of ${VAR} references in config values, so that secrets such as
// database passwords stay out of config files. Stateless; thread-safe as
// long as the environment is not modified concurrently.
#pragma once

#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge {

// Replaces each ${NAME} in `text` with the environment variable NAME.
// "$${" stands for a literal "${". An unset variable or an unterminated
// reference is an InvalidArgument error naming it.
Status ExpandEnvironment(std::string_view text, std::string* out);

}  // namespace crbridge
