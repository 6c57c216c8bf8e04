#include "postgres_batch.h"

#include <algorithm>
#include <charconv>
#include <pqxx/tablewriter>

#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/sql_quote.h"
#include "crbridge/sqlite/text_encoding.h"

namespace crbridge::postgres {
namespace {

// A field of COPY's text format.
void AppendCopyField(const ServerParameter& value, std::string* line) {
  if (value.is_null) {
    *line += "\\N";
    return;
  }
  for (const char c : value.text) {
    switch (c) {
      case '\\':
        *line += "\\\\";
        break;
      case '\t':
        *line += "\\t";
        break;
      case '\n':
        *line += "\\n";
        break;
      case '\r':
        *line += "\\r";
        break;
      default:
        *line += c;
    }
  }
}

}  // namespace

std::string Qualified(const TableMapping& m) { return QuoteIdentifier(m.source_schema) + "." + QuoteIdentifier(m.source_table); }

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i > 0 ? separator : "") + items[i];
  return out;
}

std::string ClockArrayText(const std::vector<std::optional<int64_t>>& items) {
  std::string out;
  out.reserve(2 + items.size() * 21);  // "-9223372036854775808,"
  out += '{';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    if (!items[i]) {
      out += "NULL";
      continue;
    }
    char digits[20];
    const auto end = std::to_chars(digits, digits + sizeof(digits), *items[i]).ptr;
    out.append(digits, end);
  }
  out += '}';
  return out;
}

std::vector<std::optional<int64_t>> ParseClockArray(std::string_view text, size_t size) {
  std::vector<std::optional<int64_t>> out(size);
  size_t i = 0;
  for (size_t pos = 1; pos < text.size() && i < size; ++i) {
    const size_t comma = std::min(text.find(',', pos), text.size() - 1);
    const std::string_view element = text.substr(pos, comma - pos);
    if (!element.empty() && element != "NULL") {
      int64_t value = 0;
      std::from_chars(element.data(), element.data() + element.size(), value);
      out[i] = value;
    }
    pos = comma + 1;
  }
  return out;
}

std::vector<const char*> ParameterPointers(const std::vector<ServerParameter>& values) {
  std::vector<const char*> pointers;
  for (const ServerParameter& v : values) pointers.push_back(v.is_null ? nullptr : v.text.c_str());
  return pointers;
}

std::string Bytea(const SiteId& site) { return "\\x" + EncodeHex(site); }

std::string ByteaText(const Blob& bytes) { return "\\x" + EncodeHex(bytes); }

Blob ReadBytea(const pqxx::field& field) {
  const pqxx::binarystring bytes(field);
  return Blob(bytes.begin(), bytes.end());
}

Status ReadField(const ColumnType& type, const pqxx::field& field, Value* value) {
  if (field.is_null()) {
    *value = Value::Null();
    return Status::OK();
  }
  return FromServerText(type, field.c_str(), value);
}

std::string TextArray(const std::vector<const ServerParameter*>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    if (values[i]->is_null) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (const char c : values[i]->text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

void BatchColumns::Add(const std::string& type) {
  casts.push_back("u.c" + std::to_string(casts.size()) + "::" + type);
  values.emplace_back();
}

std::string BatchColumns::From(std::vector<ServerParameter>* params) const {
  std::string args, names;
  for (size_t i = 0; i < casts.size(); ++i) {
    params->push_back({false, TextArray(values[i])});
    args += (i > 0 ? ", $" : "$") + std::to_string(params->size()) + "::text[]";
    names += (i > 0 ? ", c" : "c") + std::to_string(i);
  }
  return "unnest(" + args + ") AS u(" + names + ")";
}

void InsertRows(pqxx::work& tx, const std::string& table, const std::vector<std::string>& names,
                const BatchColumns& batch) {
  const size_t rows = batch.values.empty() ? 0 : batch.values[0].size();
  if (rows == 0) return;
  if (rows < kCopyMinRows) {
    std::vector<ServerParameter> params;
    const std::string from = batch.From(&params);
    tx.exec_params0("INSERT INTO " + table + " (" + Join(names, ", ") + ") SELECT " + Join(batch.casts, ", ") +
                        " FROM " + from,
                    CRBRIDGE_PARAMS(params));
    return;
  }
  // libpqxx 6.4's stream_to writes rows of a width fixed when compiled;
  // tablewriter, deprecated for it, takes lines.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter copy(tx, table, names.begin(), names.end());
#pragma GCC diagnostic pop
  std::string line;
  for (size_t r = 0; r < rows; ++r) {
    line.clear();
    for (size_t c = 0; c < batch.values.size(); ++c) {
      if (c > 0) line += '\t';
      AppendCopyField(*batch.values[c][r], &line);
    }
    copy.write_raw_line(line);
  }
  copy.complete();
}

Status ReadPackedKey(const ResolvedTable& t, const pqxx::row& row, Blob* key) {
  std::vector<Value> values(t.pk_count);
  for (size_t i = 0; i < t.pk_count; ++i) {
    CRBRIDGE_RETURN_IF_ERROR(ReadField(t.columns[i].type, row[static_cast<int>(i)], &values[i]));
  }
  return EncodePackedPk(values, key);
}

std::string KeySet(const ResolvedTable& t, const std::vector<const std::vector<ServerParameter>*>& keys,
                   std::vector<ServerParameter>* params, const std::string& prefix) {
  std::vector<std::string> names;
  BatchColumns columns;
  for (size_t i = 0; i < t.pk_count; ++i) {
    names.push_back(prefix + QuoteIdentifier(t.columns[i].server.name));
    columns.Add(t.columns[i].server.type);
  }
  for (const std::vector<ServerParameter>* key : keys) {
    for (size_t i = 0; i < t.pk_count; ++i) columns.values[i].push_back(&(*key)[i]);
  }
  if (t.pk_count == 1) {
    params->push_back({false, TextArray(columns.values[0])});
    return names[0] + " = ANY($" + std::to_string(params->size()) + "::text[]::" + t.columns[0].server.type + "[])";
  }
  return "(" + Join(names, ", ") + ") IN (SELECT " + Join(columns.casts, ", ") + " FROM " + columns.From(params) + ")";
}

}  // namespace crbridge::postgres
