#include "postgres_batch.h"

#include <algorithm>
#include <charconv>

#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/sql_quote.h"
#include "crbridge/sqlite/text_encoding.h"

namespace crbridge::postgres {

std::string Qualified(const TableMapping& m) { return QuoteIdentifier(m.source_schema) + "." + QuoteIdentifier(m.source_table); }

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i > 0 ? separator : "") + items[i];
  return out;
}

std::string ClockArrayText(const std::vector<std::optional<int64_t>>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i > 0 ? "," : "") + (items[i] ? std::to_string(*items[i]) : std::string("NULL"));
  }
  return out + "}";
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
