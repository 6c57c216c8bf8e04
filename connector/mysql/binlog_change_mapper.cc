#include "crbridge/connector/mysql/binlog_change_mapper.h"

#include <algorithm>
#include <cctype>

#include "binlog_value_text.h"
#include "crbridge/connector/capture/column_changes.h"
#include "crbridge/mappings/type_mapping.h"

namespace crbridge::mysql {
namespace {

bool HasBaseType(const ResolvedColumn& column, std::string_view base) {
  std::string type = column.server.type.substr(0, base.size() + 1);
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  return type == base || (type.starts_with(base) && (type.back() == '(' || type.back() == ' '));
}

// The text the server's SELECT gives for `value`, the decoded form of a
// column described by `column` and mapped as `mapped`.
Status ServerText(const BinlogColumn& column, const ResolvedColumn& mapped, const BinlogValue& value,
                  std::string* text) {
  if (const auto* n = std::get_if<int64_t>(&value)) {
    *text = std::to_string(*n);
  } else if (const auto* u = std::get_if<uint64_t>(&value)) {
    *text = std::to_string(*u);
  } else if (const auto* d = std::get_if<double>(&value)) {
    *text = column.type == MysqlType::kFloat ? FloatText(*d) : DoubleText(*d);
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    return ToUtf8(column.charset, *s, text);
  } else if (const auto* bytes = std::get_if<BinlogBytes>(&value)) {
    // MariaDB's UUID, INET6 and INET4 types arrive as fixed binary strings,
    // BIT as the bytes of its number.
    if (mapped.type.kind == ValueKind::kUuid) return UuidText(bytes->data, text);
    if (HasBaseType(mapped, "inet6")) return Inet6Text(bytes->data, text);
    if (HasBaseType(mapped, "inet4")) return Inet4Text(bytes->data, text);
    if (column.type == MysqlType::kBit) {
      // Big-endian bytes; a SELECT of the column as a number prints it in decimal.
      uint64_t number = 0;
      for (const char byte : bytes->data) number = number << 8 | static_cast<uint8_t>(byte);
      *text = std::to_string(number);
      return Status::OK();
    }
    *text = bytes->data;
  }
  return Status::OK();
}

}  // namespace

Status BinlogChangeMapper::OnTableMap(const BinlogTableMap& table) {
  MappedTable mapped;
  for (const ResolvedTable& t : tables_) {
    const TableMapping& mapping = *t.mapping;
    const std::string& database = mapping.source_schema.empty() ? default_database_ : mapping.source_schema;
    if (database == table.database && mapping.source_table == table.table) {
      mapped.table = &t;
    }
  }
  if (mapped.table != nullptr) {
    const std::string qualified = table.database + "." + table.table;
    if (!table.has_column_names) {
      return Status::InvalidArgument("table " + qualified +
                                     ": the binlog has no column names (set binlog_row_metadata = FULL)");
    }
    std::vector<std::string> names;
    for (const BinlogColumn& column : table.columns) names.push_back(column.name);
    CRBRIDGE_RETURN_IF_ERROR(CheckColumnsFollowed(*mapped.table, names));
    for (const ResolvedColumn& column : mapped.table->columns) {
      mapped.map_column.push_back(
          static_cast<uint32_t>(std::find(names.begin(), names.end(), column.server.name) - names.begin()));
    }
    mapped.map = table;
  }
  table_ids_[table.table_id] = std::move(mapped);
  return Status::OK();
}

Status BinlogChangeMapper::Read(const MappedTable& mapped, const BinlogRowImage& image, bool key_only,
                                CapturedRow* row) {
  const ResolvedTable& t = *mapped.table;
  row->table = &t;
  row->key.assign(t.pk_count, Value::Null());
  row->values.assign(t.columns.size() - t.pk_count, std::nullopt);
  for (size_t i = 0; i < (key_only ? t.pk_count : t.columns.size()); ++i) {
    const uint32_t index = mapped.map_column[i];
    // Images list their columns in table order.
    const auto entry = std::lower_bound(image.begin(), image.end(), index,
                                        [](const BinlogColumnValue& v, uint32_t column) { return v.column < column; });
    if (entry == image.end() || entry->column != index) {
      if (i < t.pk_count) {
        return Status::Corruption("binlog: a row image of " + t.mapping->QualifiedSource() +
                                  " without key column " + t.columns[i].server.name);
      }
      continue;
    }
    if (std::holds_alternative<BinlogNull>(entry->value)) {
      MapCapturedValue(i, std::nullopt, row);
      continue;
    }
    std::string text;
    if (const Status s = ServerText(mapped.map.columns[index], t.columns[i], entry->value, &text); !s.ok()) {
      const auto* raw = std::get_if<std::string>(&entry->value);
      RejectCapturedValue(i, raw != nullptr ? *raw : text, s, row);
      continue;
    }
    MapCapturedValue(i, text, row);
  }
  return Status::OK();
}

Status BinlogChangeMapper::OnRows(const BinlogRowsEvent& event, std::vector<CapturedRow>* rows) const {
  const auto found = table_ids_.find(event.table_id);
  if (found == table_ids_.end()) {
    return Status::Corruption("binlog: a ROWS event of table id " + std::to_string(event.table_id) +
                              " before its TABLE_MAP");
  }
  const MappedTable& mapped = found->second;
  if (mapped.table == nullptr) return Status::OK();
  std::vector<BinlogRowChange> changes;
  CRBRIDGE_RETURN_IF_ERROR(DecodeBinlogRows(mapped.map, event, &changes));
  for (const BinlogRowChange& change : changes) {
    CapturedRow row{CapturedRow::Kind::kInsert, nullptr, {}, {}};
    switch (event.kind) {
      case BinlogRowsKind::kWrite:
        CRBRIDGE_RETURN_IF_ERROR(Read(mapped, change.after, false, &row));
        break;
      case BinlogRowsKind::kDelete:
        row.kind = CapturedRow::Kind::kDelete;
        CRBRIDGE_RETURN_IF_ERROR(Read(mapped, change.before, true, &row));
        row.values.clear();
        break;
      case BinlogRowsKind::kUpdate: {
        row.kind = CapturedRow::Kind::kUpdate;
        CRBRIDGE_RETURN_IF_ERROR(Read(mapped, change.after, false, &row));
        CapturedRow old{CapturedRow::Kind::kDelete, nullptr, {}, {}};
        CRBRIDGE_RETURN_IF_ERROR(Read(mapped, change.before, true, &old));
        if (old.key != row.key) {
          // A new key is a new row: the old one dies, the new one is born whole.
          old.values.clear();
          rows->push_back(std::move(old));
          row.kind = CapturedRow::Kind::kInsert;
        }
        break;
      }
    }
    rows->push_back(std::move(row));
  }
  return Status::OK();
}

}  // namespace crbridge::mysql
