// PgOutputChangeMapper: turns pgoutput's row changes of mapped tables into
// CapturedRows (captured_change.h in server-side/core): a relation is a
// mapped table when its id is the one capture follows for the table (the
// name alone would also take an older table of that name still in the
// stream), columns matched by name through the latest Relation message,
// values mapped from Postgres's text output to SQLite values (a row whose
// values do not map is a rejection), key changes split into a delete and
// an insert. Changes of unmapped tables cost a map lookup. Not
// thread-safe; one per replication stream.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "crbridge/connector/postgres/pgoutput_decoder.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/captured_change.h"
#include "crbridge/sqlite/status.h"

namespace crbridge::postgres {

class PgOutputChangeMapper {
 public:
  // The mapped tables by the relation id capture follows each by (their
  // tables must outlive the mapper).
  explicit PgOutputChangeMapper(std::map<uint32_t, const ResolvedTable*> followed) : followed_(std::move(followed)) {}

  // Remembers how a relation's columns map. Sets `*renamed` to the mapped
  // table when the relation is one capture follows, under another name
  // than the table's source (renamed since), else nullptr. InvalidArgument
  // when a mapped table no longer has a mapped column (its definition
  // changed under crbridge).
  Status OnRelation(const PgRelation& relation, const ResolvedTable** renamed);

  // Append the change's rows to `rows` (nothing for unmapped tables); a
  // row with a value that does not map as a rejection
  // (CapturedRow::rejection). Corruption for a relation never described,
  // or a tuple that does not fit it.
  Status OnInsert(const PgInsert& insert, std::vector<CapturedRow>* rows) const;
  Status OnUpdate(const PgUpdate& update, std::vector<CapturedRow>* rows) const;
  Status OnDelete(const PgDelete& del, std::vector<CapturedRow>* rows) const;
  Status OnTruncate(const PgTruncate& truncate, std::vector<CapturedRow>* rows) const;

 private:
  struct MappedRelation {
    const ResolvedTable* table = nullptr;  // nullptr: not mapped
    // Per column of the table's ResolvedTable: its position in the tuple.
    std::vector<size_t> tuple_position;
    size_t tuple_size = 0;
  };

  // The mapped relation `relid`, nullptr when it is not mapped.
  Status Find(uint32_t relid, const MappedRelation** relation) const;
  // The key and (unless `key_only`) values of a tuple; values unset where
  // the tuple says "unchanged".
  static Status Read(const MappedRelation& relation, const PgTuple& tuple, bool key_only, CapturedRow* row);

  const std::map<uint32_t, const ResolvedTable*> followed_;
  std::map<uint32_t, MappedRelation> relations_;
};

}  // namespace crbridge::postgres
