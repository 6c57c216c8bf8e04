// MySQL 8's binary JSON (the storage and binlog form of a JSON column,
// sql-common/json_binary.h) decoded into the text MySQL prints for the
// value, and the packed DECIMAL that JSON values and ROWS images share.
// Private to connector/. Stateless functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "binlog_reader.h"
#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

// `binary` is a JSON column's value as a ROWS image holds it, after its
// length prefix; `text` becomes what `SELECT json_col` prints in MySQL 8:
// {"a": 1, "b": [true, null]} with members in their stored order (MySQL
// stores keys sorted by length, then bytes), doubles in the fewest digits
// that read back the same (1.5, 1.0, 1e300), strings escaped as Json_wrapper
// does, dates and times as quoted text with six fractional digits, DECIMALs
// with their scale, other opaque values as "base64:typeN:...". An empty
// value is the JSON null MySQL reads it as. Returns Corruption for a value
// MySQL could not read (an unknown type, an offset or length outside the
// value), nested deeper than MySQL's 100 levels, or that would print more
// than a few times its own size (values sharing their parts). On error
// `text` is unspecified.
Status DecodeMysqlJson(std::string_view binary, std::string* text);

// DECIMAL(precision, scale) in MySQL's packed form (decimal2bin): nine
// digits per 4 big-endian bytes, the leftover digits of the integer part
// first and of the fraction last in fewer bytes; the first byte's top bit
// flipped, and every byte inverted when negative. `text` is exact with the
// scale: "0.05", "-12.50", "7". Corruption for a precision or scale MySQL
// does not allow or for digits out of range, and when `reader` runs out.
// Defined in binlog_rows.cc, which reads DECIMAL columns the same way.
Status DecodePackedDecimal(BinlogReader& reader, unsigned precision, unsigned scale, std::string* text);

}  // namespace crbridge::mysql
