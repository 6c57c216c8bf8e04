// MysqlUrl: the parts of a mysql://user:password@host:port/database url.
// A plain value; parsing is stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

struct MysqlUrl {
  std::string user;
  std::string password;  // percent-decoded
  std::string host;
  uint16_t port = 3306;
  std::string database;  // may be empty
};

// Parses `url`; percent-escapes in the user and password are decoded.
// Returns InvalidArgument naming what is wrong, without echoing the password.
Status ParseMysqlUrl(std::string_view url, MysqlUrl* out);

}  // namespace crbridge::mysql
