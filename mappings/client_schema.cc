#include "crbridge/mappings/client_schema.h"

#include "crbridge/sqlite/sql_quote.h"

namespace crbridge {
namespace {

// The part of a catalog default before a trailing "::type" cast.
std::string WithoutCast(const std::string& expression) {
  bool quoted = false;
  for (size_t i = 0; i + 1 < expression.size(); ++i) {
    if (expression[i] == '\'') quoted = !quoted;
    if (!quoted && expression[i] == ':' && expression[i + 1] == ':') return expression.substr(0, i);
  }
  return expression;
}

}  // namespace

std::string SqliteDefault(const ColumnType& type, const std::string& server_default) {
  std::string text = WithoutCast(server_default);
  if (text.size() >= 2 && text.front() == '(' && text.back() == ')') text = text.substr(1, text.size() - 2);
  if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
    std::string unquoted;
    for (size_t i = 1; i + 1 < text.size(); ++i) {
      unquoted += text[i];
      if (text[i] == '\'' && text[i + 1] == '\'') ++i;
    }
    text = unquoted;
  } else if (text.empty() || text == "NULL" || text.find('(') != std::string::npos) {
    return "";
  }
  Value value;
  if (!FromServerText(type, text, &value).ok()) return "";
  return value.ToSql();
}

std::string ClientSchemaSql(const std::vector<ResolvedTable>& tables) {
  std::string sql;
  for (const ResolvedTable& table : tables) {
    sql += "CREATE TABLE IF NOT EXISTS " + QuoteIdentifier(table.mapping->name) + " (\n";
    std::string key;
    for (size_t i = 0; i < table.columns.size(); ++i) {
      const ResolvedColumn& column = table.columns[i];
      sql += "  " + QuoteIdentifier(column.name) + " " + std::string(column.type.SqliteType());
      if (i < table.pk_count) {
        sql += " NOT NULL";
        key += (key.empty() ? "" : ", ") + QuoteIdentifier(column.name);
      } else if (const std::string literal = SqliteDefault(column.type, column.server.default_expression);
                 !literal.empty()) {
        // cr-sqlite can restore a NOT NULL column on merge only when it has a default.
        sql += (column.server.not_null ? " NOT NULL DEFAULT " : " DEFAULT ") + literal;
      }
      sql += ",\n";
    }
    sql += "  PRIMARY KEY (" + key + ")\n);\n";
    sql += "SELECT crsql_as_crr(" + QuoteLiteral(table.mapping->name) + ");\n";
  }
  return sql;
}

}  // namespace crbridge
