// The text MySQL/MariaDB's text protocol gives for binlog values that the
// row decoder (binlog_rows.h) leaves in their stored form, so that
// type_mapping's FromServerText maps a value read from the binlog exactly
// as the same value read by a SELECT: FLOAT printed to 6 significant
// digits, latin1 text in UTF-8, MariaDB UUID, INET6 and INET4 from their
// binary record form. Private to connector/. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

// A FLOAT (given widened to double) as the server prints it: 6 significant
// digits, which parse back to the same double as the server's text.
std::string FloatText(double value);

// A DOUBLE in digits that parse back to exactly `value`.
std::string DoubleText(double value);

// Character data of a column with charset `charset` (a collation id of the
// table map) as UTF-8 (the connection charset crbridge uses): latin1 is
// transcoded (MySQL's latin1 is cp1252), other charsets must already be
// UTF-8 (utf8mb3, utf8mb4, ascii). InvalidArgument for bytes that are not.
Status ToUtf8(std::optional<uint32_t> charset, std::string_view data, std::string* utf8);

// MariaDB's UUID type: 16 record bytes (time segments swapped for RFC 4122
// versions 1-5) -> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
Status UuidText(std::string_view record, std::string* text);

// MariaDB's INET6 (16 bytes) and INET4 (4 bytes) as the server prints them.
Status Inet6Text(std::string_view bytes, std::string* text);
Status Inet4Text(std::string_view bytes, std::string* text);

}  // namespace crbridge::mysql
