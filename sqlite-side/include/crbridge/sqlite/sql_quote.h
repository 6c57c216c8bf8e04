// Quoting of names and text for SQL that crbridge builds: identifiers as
// "name" (with " doubled), text literals as 'text' (with ' doubled).
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace crbridge {

std::string QuoteIdentifier(std::string_view name);
std::string QuoteLiteral(std::string_view text);

}  // namespace crbridge
