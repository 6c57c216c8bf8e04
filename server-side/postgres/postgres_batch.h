// Building blocks of crbridge's batched statements on Postgres (the merge,
// pulls and capture recording): a batch's values travel as one text[]
// parameter per column, cast in SQL, so a statement's count does not grow
// with the batch; rows appended in bulk go by COPY. Internal to
// server-side; stateless.
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/mappings/type_mapping.h"
#include "crbridge/sqlite/change.h"
#include "crbridge/sqlite/value.h"

namespace crbridge::postgres {

// The app table of a mapping, quoted and qualified.
std::string Qualified(const TableMapping& m);

std::string Join(const std::vector<std::string>& items, const std::string& separator);

// An integer array in Postgres's text form, {1,NULL,3}, and back; missing
// trailing elements (a column added to the mapping) read as NULL.
std::string ClockArrayText(const std::vector<std::optional<int64_t>>& items);
std::vector<std::optional<int64_t>> ParseClockArray(std::string_view text, size_t size);

// Statement parameters for libpqxx: text, or a null pointer for NULL. The
// pointers point into `values`, which must outlive the statement.
std::vector<const char*> ParameterPointers(const std::vector<ServerParameter>& values);
#define CRBRIDGE_PARAMS(values) pqxx::prepare::make_dynamic_params(ParameterPointers(values))

// A site id as a bytea literal in hex form, \x0011..: a text parameter
// (libpqxx 6.4 leaks the binary parameters of a statement that fails,
// seen under ASan).
std::string Bytea(const SiteId& site);
// The same for bytes of any length (packed keys), and back from a bytea
// field.
std::string ByteaText(const Blob& bytes);
Blob ReadBytea(const pqxx::field& field);

// The canonical SQLite value of a server text field (NULL stays NULL).
Status ReadField(const ColumnType& type, const pqxx::field& field, Value* value);

// A Postgres array literal of text elements, {"a","b\"c",NULL}: a whole
// column of a batch as one parameter, cast element by element in SQL.
std::string TextArray(const std::vector<const ServerParameter*>& values);

// A batch statement's columns: `casts` in SQL, and per column the text of
// every row, bound as one text[] parameter each.
struct BatchColumns {
  std::vector<std::string> casts;  // "u.c0::bigint"
  std::vector<std::vector<const ServerParameter*>> values;

  void Add(const std::string& type);
  // "unnest($1::text[], $2::text[]) AS u(c0, c1)" and its parameters.
  std::string From(std::vector<ServerParameter>* params) const;
};

// Appends the batch's rows to `table`, whose columns `names` (quoted) are
// the batch's in order. A batch of kCopyMinRows or more goes by COPY:
// Postgres inserts its rows in bulk, at about half the cost of INSERT ...
// SELECT FROM unnest, which a smaller batch takes (one round trip where
// COPY takes two).
constexpr size_t kCopyMinRows = 64;
void InsertRows(pqxx::work& tx, const std::string& table, const std::vector<std::string>& names,
                const BatchColumns& batch);

// The packed key of a row read back with its key columns first, as text.
Status ReadPackedKey(const ResolvedTable& t, const pqxx::row& row, Blob* key);

// A condition matching the rows whose keys are `keys` (each the key
// columns' parameters): key = ANY(array) for a one-column key (a plain
// index scan), a tuple IN for composite keys, on the key columns of the
// table aliased `prefix` ("c.") or of the only one. Adds its parameters.
std::string KeySet(const ResolvedTable& t, const std::vector<const std::vector<ServerParameter>*>& keys,
                   std::vector<ServerParameter>* params, const std::string& prefix = "");

}  // namespace crbridge::postgres
