#include "crbridge/connector/postgres/pgoutput_change_mapper.h"

#include <algorithm>

#include "crbridge/connector/capture/column_changes.h"

namespace crbridge::postgres {

Status PgOutputChangeMapper::OnRelation(const PgRelation& relation, const ResolvedTable** renamed) {
  MappedRelation mapped;
  mapped.tuple_size = relation.columns.size();
  *renamed = nullptr;
  if (const auto followed = followed_.find(relation.relid); followed != followed_.end()) {
    mapped.table = followed->second;
    const TableMapping& m = *mapped.table->mapping;
    if (m.source_schema != relation.namespace_name || m.source_table != relation.name) *renamed = mapped.table;
  }
  if (mapped.table != nullptr) {
    std::vector<std::string> names;
    for (const PgRelationColumn& column : relation.columns) names.push_back(column.name);
    CRBRIDGE_RETURN_IF_ERROR(CheckColumnsFollowed(*mapped.table, names));
    for (const ResolvedColumn& column : mapped.table->columns) {
      mapped.tuple_position.push_back(static_cast<size_t>(
          std::find(names.begin(), names.end(), column.server.name) - names.begin()));
    }
  }
  relations_[relation.relid] = std::move(mapped);
  return Status::OK();
}

Status PgOutputChangeMapper::Find(uint32_t relid, const MappedRelation** relation) const {
  const auto found = relations_.find(relid);
  if (found == relations_.end()) {
    return Status::Corruption("pgoutput: a change to relation " + std::to_string(relid) + " before its Relation message");
  }
  *relation = found->second.table != nullptr ? &found->second : nullptr;
  return Status::OK();
}

Status PgOutputChangeMapper::Read(const MappedRelation& relation, const PgTuple& tuple, bool key_only,
                                  CapturedRow* row) {
  const ResolvedTable& t = *relation.table;
  if (tuple.size() != relation.tuple_size) {
    return Status::Corruption("pgoutput: a row of " + t.mapping->QualifiedSource() + " has " + std::to_string(tuple.size()) +
                              " columns, its Relation message " + std::to_string(relation.tuple_size));
  }
  row->table = &t;
  row->key.assign(t.pk_count, Value::Null());
  row->values.assign(t.columns.size() - t.pk_count, std::nullopt);
  for (size_t i = 0; i < (key_only ? t.pk_count : t.columns.size()); ++i) {
    const PgTupleValue& field = tuple[relation.tuple_position[i]];
    switch (field.kind) {
      case PgTupleValueKind::kNull: MapCapturedValue(i, std::nullopt, row); break;
      case PgTupleValueKind::kUnchangedToast:
        if (i < t.pk_count) return Status::Corruption("pgoutput: a key column of " + t.mapping->QualifiedSource() + " was not sent");
        break;
      case PgTupleValueKind::kText: MapCapturedValue(i, field.data, row); break;
      case PgTupleValueKind::kBinary:
        return Status::Corruption("pgoutput: a binary value, though the stream was started in text mode");
    }
  }
  return Status::OK();
}

Status PgOutputChangeMapper::OnInsert(const PgInsert& insert, std::vector<CapturedRow>* rows) const {
  const MappedRelation* relation = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Find(insert.relid, &relation));
  if (relation == nullptr) return Status::OK();
  CapturedRow row{CapturedRow::Kind::kInsert, nullptr, {}, {}};
  CRBRIDGE_RETURN_IF_ERROR(Read(*relation, insert.new_tuple, false, &row));
  rows->push_back(std::move(row));
  return Status::OK();
}

Status PgOutputChangeMapper::OnUpdate(const PgUpdate& update, std::vector<CapturedRow>* rows) const {
  const MappedRelation* relation = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Find(update.relid, &relation));
  if (relation == nullptr) return Status::OK();
  CapturedRow row{CapturedRow::Kind::kUpdate, nullptr, {}, {}};
  CRBRIDGE_RETURN_IF_ERROR(Read(*relation, update.new_tuple, false, &row));
  if (update.old_tuple) {
    CapturedRow old{CapturedRow::Kind::kDelete, nullptr, {}, {}};
    CRBRIDGE_RETURN_IF_ERROR(Read(*relation, update.old_tuple->values, true, &old));
    if (old.key != row.key) {
      // A new key is a new row: the old one dies, the new one is born whole.
      old.values.clear();
      rows->push_back(std::move(old));
      row.kind = CapturedRow::Kind::kInsert;
    }
  }
  rows->push_back(std::move(row));
  return Status::OK();
}

Status PgOutputChangeMapper::OnDelete(const PgDelete& del, std::vector<CapturedRow>* rows) const {
  const MappedRelation* relation = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Find(del.relid, &relation));
  if (relation == nullptr) return Status::OK();
  CapturedRow row{CapturedRow::Kind::kDelete, nullptr, {}, {}};
  CRBRIDGE_RETURN_IF_ERROR(Read(*relation, del.old_tuple.values, true, &row));
  row.values.clear();
  rows->push_back(std::move(row));
  return Status::OK();
}

Status PgOutputChangeMapper::OnTruncate(const PgTruncate& truncate, std::vector<CapturedRow>* rows) const {
  for (const uint32_t relid : truncate.relids) {
    const MappedRelation* relation = nullptr;
    CRBRIDGE_RETURN_IF_ERROR(Find(relid, &relation));
    if (relation != nullptr) rows->push_back(CapturedRow{CapturedRow::Kind::kTruncate, relation->table, {}, {}});
  }
  return Status::OK();
}

}  // namespace crbridge::postgres
