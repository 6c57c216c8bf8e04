// The change events crbridge publishes to Kafka (docs/kafka.md), one line
// each, for people: what `crbridge tail` prints.
//
//   todos 't1' update v42 title='oat milk'(cv3) done=1(cv2)  [app 0/16B3748]
//   todos 't2' delete v43  [client 0a4b...77]
//
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge {

// Formats the JSON value of one event as a line (no newline): the table,
// the primary key (one column: its value; several: "(a=1,b='x')"), the
// operation (insert, update, delete), "v" and the db_version, each changed
// column as name=value(cvN), and the origin with its source position or
// client site. Values read as in SQL: NULL, numbers, 'text' (quotes
// doubled, control characters escaped, long text cut), blobs as x'hex'.
//
// Never fails to produce a line: for a value that is not a well-formed
// event it returns Corruption saying what is wrong, and *line holds what
// could be read, or the raw value made printable when it is not JSON.
Status FormatEvent(std::string_view value, std::string* line);

}  // namespace crbridge
