#include "crbridge/server/core/rejected_row.h"

#include <xxhash.h>

#include <vector>

#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/text_encoding.h"

namespace crbridge {

namespace {

// "('t1', 2)": a packed key's values, printable.
std::string KeyText(const Blob& packed) {
  std::vector<Value> key;
  if (!DecodePackedPk(packed, &key).ok()) return "(key " + EncodeHex(packed) + ")";
  std::string values;
  for (const Value& value : key) values += (values.empty() ? "" : ", ") + value.ToSql();
  return EscapeUnprintable("(" + values + ")");
}

}  // namespace

std::string DescribeRejectedRow(const RejectedRow& row) { return row.table + " " + KeyText(row.key) + ": " + row.reason; }

Status RefuseUnmappedRow(const ResolvedTable& t, size_t column, const Blob& key, const Status& why) {
  return Status::InvalidArgument(t.mapping->name + "." + t.columns[column].name + ": the row " + KeyText(key) +
                                 " holds a value crbridge cannot map (" + why.message() +
                                 "); it takes no client writes until the app changes it");
}

int64_t RejectedKeyHash(const Blob& key) { return static_cast<int64_t>(XXH3_64bits(key.data(), key.size())); }

}  // namespace crbridge
