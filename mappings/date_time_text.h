// Dates, timestamps and times as text, for type_mapping: what a client may
// send for a column, checked against the server's calendar and range, and
// turned into the text the server reads; and the server's printed form
// turned into the canonical one (type_mapping.h has the rules). Private to
// mappings/. Stateless functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "crbridge/mappings/config.h"

namespace crbridge {

// Which timestamp a column holds.
enum class TimestampKind {
  kWithoutZone,  // Postgres timestamp, MySQL DATETIME
  kWithZone,     // Postgres timestamptz (stored in UTC)
  kMysqlUtc,     // MySQL TIMESTAMP: UTC seconds from 1970-01-01 00:00:01 to 2038-01-19 03:14:07
};

// A client's date for a date column: YYYY-MM-DD, a real calendar day in the
// server's range; Postgres also takes 'infinity', '-infinity', years past
// 9999 and ' BC'; MySQL its zero dates. The server's text (the same text)
// on success; otherwise false with the rule in *why.
bool ClientDate(SourceType source, std::string_view text, std::string* server_text, std::string* why);

// A client's timestamp: YYYY-MM-DD[T ]HH:MM[:SS[.fraction]] with an
// optional offset (Z, +HH, +HH:MM, +HHMM; not for kWithoutZone), plus the
// extras ClientDate takes. The server's text, in UTC when an offset was
// given; otherwise false with the rule in *why.
bool ClientTimestamp(SourceType source, TimestampKind kind, std::string_view text, std::string* server_text,
                     std::string* why);

// A client's time of day for a Postgres `time` column (HH:MM[:SS[.f]], up
// to 24:00:00) or a MySQL TIME ([-]H:MM[:SS[.f]] up to 838:59:59).
bool ClientTime(SourceType source, std::string_view text, std::string* why);

// The server's timestamp text in canonical form: 'T' between date and
// time, and for `utc` columns the offset as 'Z' (before a ' BC').
std::string CanonicalTimestamp(std::string_view server_text, bool utc);

}  // namespace crbridge
