// The statements a merge makes on an app table on MySQL/MariaDB: lock and
// read rows, delete, insert and update them in multi-row statements, and
// read back what the server stored (MySQL has no RETURNING: a SELECT by
// key in the same transaction, which holds the rows' locks).
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <numeric>

#include "crbridge/server/mysql/binlog_position.h"
#include "crbridge/sqlite/text_encoding.h"
#include "mysql_shadow_transaction.h"

namespace crbridge::mysql {
namespace {

// Rows per UPDATE: each assignment is a CASE over the batch's rows, so a
// statement's cost grows with the square of its rows.
constexpr size_t kUpdateRows = 100;

std::vector<const KeyParameters*> KeysOf(const std::vector<AppRowWrite>& rows) {
  std::vector<const KeyParameters*> keys;
  for (const AppRowWrite& row : rows) keys.push_back(row.key);
  return keys;
}

const ResolvedColumn& ValueColumn(const ResolvedTable& t, size_t i) { return t.columns[t.pk_count + i]; }

std::vector<size_t> EveryValueColumn(const ResolvedTable& t) {
  std::vector<size_t> columns(t.columns.size() - t.pk_count);
  std::iota(columns.begin(), columns.end(), 0);
  return columns;
}

// Runs a write of app rows of `t`. A value the server refuses (SQLSTATE
// class 22, and strict mode's "Data truncated" and "Incorrect ... value"
// for enums and character sets, and MySQL's "Conversion from collation
// ... impossible" for text a column's character set lacks) is
// InvalidArgument naming the table; other errors are thrown on.
Status WriteAppRows(const ResolvedTable& t, sql::PreparedStatement& statement) {
  try {
    statement.executeUpdate();
    return Status::OK();
  } catch (const sql::SQLException& e) {
    const std::string state = e.getSQLState();
    const int code = e.getErrorCode();
    if (!state.starts_with("22") && code != 1265 && code != 1366 && code != 3988) throw;
    return Status::InvalidArgument(t.mapping->name + ": the database refused a value: " + EscapeUnprintable(e.what()));
  }
}

}  // namespace

Status MysqlShadowTransaction::SelectAppRows(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                                             const std::vector<size_t>& columns, bool lock,
                                             const AppRowCallback& found) {
  std::vector<std::string> select;
  for (size_t i = 0; i < t.pk_count; ++i) select.push_back(ColumnText(t.columns[i], ""));
  for (const size_t i : columns) select.push_back(ColumnText(ValueColumn(t, i), ""));
  return ForEachBatch(keys.size(), t.pk_count, kBatchRows, [&](size_t first, size_t count) -> Status {
    sql::PreparedStatement& statement =
        session_.Prepare("SELECT " + Join(select, ", ") + " FROM " + AppTable(t) + " WHERE " +
                         KeyIn(t, count) + " ORDER BY " + KeyColumns(t, "") + (lock ? " FOR UPDATE" : ""));
    MysqlBinder(statement).Keys(Slice(keys, first, count));
    std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
    while (rows->next()) {
      Blob packed;
      CRBRIDGE_RETURN_IF_ERROR(ReadPackedKey(t, *rows, 1, &packed));
      std::vector<Value> values(columns.size());
      for (size_t k = 0; k < columns.size(); ++k) {
        if (const Status s = ReadField(ValueColumn(t, columns[k]).type, *rows,
                                       static_cast<uint32_t>(t.pk_count + k + 1), &values[k]);
            !s.ok()) {
          return RefuseUnmappedRow(t, t.pk_count + columns[k], packed, s);
        }
      }
      CRBRIDGE_RETURN_IF_ERROR(found(packed, std::move(values)));
    }
    return Status::OK();
  });
}

Status MysqlShadowTransaction::LockAppRows(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                                           const AppRowCallback& found) {
  return CatchErrors([&] { return SelectAppRows(t, keys, EveryValueColumn(t), true, found); });
}

// The end of the binary log: app transactions write their events there
// before they commit, so every app write this transaction's locks waited
// for, or that its reads see, is before it.
Status MysqlShadowTransaction::AppPosition(int64_t* offset) {
  BinlogPosition position;
  std::string gtid_set;
  CRBRIDGE_RETURN_IF_ERROR(session_.BinlogStatus(&position.file, &position.position, &gtid_set));
  return EncodeBinlogOffset(position, offset);
}

Status MysqlShadowTransaction::DeleteAppRows(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys) {
  return CatchErrors([&] {
    return ForEachBatch(keys.size(), t.pk_count, kBatchRows, [&](size_t first, size_t count) -> Status {
      sql::PreparedStatement& statement =
          session_.Prepare("DELETE FROM " + AppTable(t) + " WHERE " + KeyIn(t, count));
      MysqlBinder(statement).Keys(Slice(keys, first, count));
      statement.executeUpdate();
      return Status::OK();
    });
  });
}

// A key the app inserted meanwhile fails the insert with a duplicate key
// (Aborted): the merge runs again against it.
Status MysqlShadowTransaction::InsertAppRows(const ResolvedTable& t, const std::vector<size_t>& columns,
                                             const std::vector<AppRowWrite>& rows, const AppRowCallback& stored) {
  return CatchErrors([&]() -> Status {
    std::vector<std::string> names;
    for (size_t i = 0; i < t.pk_count; ++i) names.push_back(QuoteName(t.columns[i].server.name));
    for (const size_t i : columns) names.push_back(QuoteName(ValueColumn(t, i).server.name));
    const size_t width = names.size();
    CRBRIDGE_RETURN_IF_ERROR(ForEachBatch(rows.size(), width, kBatchRows, [&](size_t first, size_t count) {
      sql::PreparedStatement& insert = session_.Prepare("INSERT INTO " + AppTable(t) + " (" +
                                                        Join(names, ", ") + ") VALUES " + Placeholders(count, width));
      MysqlBinder bind(insert);
      for (size_t r = first; r < first + count; ++r) {
        bind.Keys({rows[r].key});
        for (const ServerParameter* value : rows[r].values) bind.Param(*value);
      }
      return WriteAppRows(t, insert);
    }));
    return SelectAppRows(t, KeysOf(rows), EveryValueColumn(t), false, stored);
  });
}

// One UPDATE per batch of rows, each written column assigned
// CASE WHEN <key of a row that writes it> THEN ? ... ELSE <column> END, and
// the rows matched by key. It only ever updates: the rows are locked and
// exist. An INSERT ... ON DUPLICATE KEY UPDATE would batch too, but it
// runs the app's insert triggers, fails on required columns the merge does
// not write (the insert half needs them), takes auto-increment values, and
// would insert a row that is not there.
Status MysqlShadowTransaction::UpdateAppRows(const ResolvedTable& t, const std::vector<size_t>& columns,
                                             const std::vector<AppRowWrite>& rows, const AppRowCallback& stored) {
  return CatchErrors([&]() -> Status {
    std::vector<std::string> key_match;
    for (size_t i = 0; i < t.pk_count; ++i) key_match.push_back(QuoteName(t.columns[i].server.name) + " = ?");
    const std::string match = Join(key_match, " AND ");
    const size_t width = t.pk_count * (columns.size() + 1) + columns.size();
    CRBRIDGE_RETURN_IF_ERROR(ForEachBatch(rows.size(), width, kUpdateRows, [&](size_t first, size_t count) {
      std::vector<std::string> assignments;
      for (size_t k = 0; k < columns.size(); ++k) {
        std::string cases;
        for (size_t r = first; r < first + count; ++r) {
          if (rows[r].values[k] != nullptr) cases += " WHEN " + match + " THEN ?";
        }
        if (cases.empty()) continue;
        const std::string name = QuoteName(ValueColumn(t, columns[k]).server.name);
        assignments.push_back(name + " = CASE" + cases + " ELSE " + name + " END");
      }
      if (assignments.empty()) return Status::OK();
      sql::PreparedStatement& update = session_.Prepare("UPDATE " + AppTable(t) + " SET " +
                                                        Join(assignments, ", ") + " WHERE " + KeyIn(t, count));
      MysqlBinder bind(update);
      for (size_t k = 0; k < columns.size(); ++k) {
        for (size_t r = first; r < first + count; ++r) {
          if (rows[r].values[k] != nullptr) bind.Keys({rows[r].key}).Param(*rows[r].values[k]);
        }
      }
      bind.Keys(Slice(KeysOf(rows), first, count));
      return WriteAppRows(t, update);
    }));
    return SelectAppRows(t, KeysOf(rows), columns, false, stored);
  });
}

}  // namespace crbridge::mysql
