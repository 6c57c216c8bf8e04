// RejectedRow: an app row that capture could not map (a value in it has no
// SQLite form, mappings/type_mapping.h), so clients cannot get it. Capture
// records the rejection instead of the row's change, in the shadow store's
// rejected_rows table and in the same transaction as the rest of the
// batch, and goes on with every other row; a later change of the row that
// maps, or its delete, clears it. While it stands, clients keep the row as
// they last got it (pulls leave it out, client writes to it are refused),
// /readyz names it and `crbridge check` lists it (docs/server-side.md,
// "Rows capture cannot map"). Plain data.
#pragma once

#include <cstdint>
#include <string>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/value.h"

namespace crbridge {

struct RejectedRow {
  std::string table;  // the mapped table, as clients name it
  // Its packed primary key; a key value that does not map is packed as
  // the text the server gave for it.
  Blob key;
  // Why: "todos.position: server value ... is not a valid ..." (printable).
  std::string reason;
  // Where in the source: the end of the change's transaction, or the
  // snapshot's position.
  int64_t position = 0;
};

// "todos ('t1'): <reason>", printable, for logs, /readyz and `check`.
std::string DescribeRejectedRow(const RejectedRow& row);

// The refusal of a client write to the row `key` of `t`, whose column
// `column` holds a value with no mapping (`why`): InvalidArgument naming
// them, as the dialects' merge statements return it.
Status RefuseUnmappedRow(const ResolvedTable& t, size_t column, const Blob& key, const Status& why);

// A 64-bit hash of a packed key that names the stored row with its table
// (a packed key may be longer than an index entry can hold).
int64_t RejectedKeyHash(const Blob& key);

}  // namespace crbridge
