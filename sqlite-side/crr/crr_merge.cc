// CrrContext's merge of incoming changes (crsql_changes INSERTs and
// CrrDatabase::ApplyChanges) by cr-sqlite's rules (MergeChange, change.h).
// Merge takes one change: it reads the row's and the column's clocks and
// writes what wins, three statements or more. MergeChanges writes a
// changeset with fewer, and the same result as Merge of each change in
// turn: in windows of changes to distinct rows (kMergeWindowChanges), with
// one read of their keys and clocks, one key insert and one INSERT per set
// of columns for the rows the database never had, one UPDATE per column
// for the rows it has, and one clock upsert. Same thread contract as
// crr_context.h.
#include <algorithm>
#include <map>
#include <set>

#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/sql_quote.h"
#include "crr_context.h"

namespace crbridge {
namespace {

// The changes one window holds (at least: see FillMergeWindow). Its
// statements have as many rows of parameters; rows left unbound (NULL)
// match and write nothing, so one statement serves every window.
constexpr size_t kMergeWindowChanges = 64;

// Sets the sync bit for the lifetime of the guard.
class SyncScope {
 public:
  explicit SyncScope(int& depth) : depth_(depth) { ++depth_; }
  ~SyncScope() { --depth_; }
  SyncScope(const SyncScope&) = delete;
  SyncScope& operator=(const SyncScope&) = delete;

 private:
  int& depth_;
};

// The end of the run of changes to the row that changes[begin] names.
size_t RowEnd(const Changeset& changes, size_t begin) {
  size_t end = begin + 1;
  while (end < changes.size() && changes[end].table == changes[begin].table && changes[end].pk == changes[begin].pk) {
    ++end;
  }
  return end;
}

// What a merge decides a change by, for `t`'s key row `p` (its pks
// table) and the clock `c` of the change's column, named by
// `column_name`: the row's key, its sentinel's causal length, whether it
// has any clock, and the column's col_version. Select it, then join the
// clock (MergeStateJoin) and read it (ReadMergeStateAt).
std::string MergeStateSelect(const CrrTable& t) {
  const std::string clock = QuoteIdentifier(t.clock_table());
  return "p.__crsql_key, (SELECT col_version FROM " + clock +
         " WHERE key = p.__crsql_key AND col_name = '-1'), c.col_version IS NOT NULL OR EXISTS (SELECT 1 FROM " +
         clock + " WHERE key = p.__crsql_key), c.col_version";
}

std::string MergeStateJoin(const CrrTable& t, const std::string& column_name) {
  return " LEFT JOIN " + QuoteIdentifier(t.clock_table()) +
         " c ON c.key = p.__crsql_key AND c.col_name = " + column_name;
}

// MergeStateSelect's columns, from result column `first` of a row of `s`.
void ReadMergeStateAt(const Statement& s, int first, int64_t* key, RowClock* row, ColumnClock* column) {
  *key = s.ColumnInt(first);
  row->has_sentinel = !s.ColumnIsNull(first + 1);
  row->cl = row->has_sentinel ? s.ColumnInt(first + 1) : (s.ColumnInt(first + 2) != 0 ? 1 : 0);
  column->exists = !s.ColumnIsNull(first + 3);
  column->col_version = column->exists ? s.ColumnInt(first + 3) : 0;
}

// An INSERT of rows of `t`, each its key and then `columns`, from `rows`
// (a VALUES list, or a SELECT with a WHERE, which SQLite's upsert needs
// after a SELECT) that writes the columns into a row already there.
std::string InsertOrWriteColumnsSql(const CrrTable& t, const std::vector<std::string>& columns,
                                    const std::string& rows) {
  std::string names;
  std::string updates;
  for (const std::string& column : columns) {
    const std::string quoted = QuoteIdentifier(column);
    names += ", " + quoted;
    updates += (updates.empty() ? "" : ", ") + quoted + " = excluded." + quoted;
  }
  return "INSERT INTO " + QuoteIdentifier(t.name) + " (" + t.PkColumnList() + names + ") " + rows +
         " ON CONFLICT DO UPDATE SET " + updates;
}

}  // namespace

// Runs of changes next to each other in a changeset, one run per row, to
// rows of one table: each row once and each of its columns once, no
// sentinels, keys without NULLs (the window's statements match keys
// with =).
struct CrrContext::MergeWindow {
  struct Row {
    size_t begin = 0;
    size_t end = 0;
    std::vector<Value> pk;
  };
  const CrrTable* table = nullptr;
  size_t capacity = 0;  // the changes it may hold: its statements' rows
  std::vector<Row> rows;
  size_t changes = 0;
};

// What a window has decided and not yet written: rows the database never
// had, and the winning changes (of those and of rows it has).
struct CrrContext::WindowWrites {
  struct Write {
    const Change* change = nullptr;
    const std::vector<Value>* pk = nullptr;
    std::optional<size_t> new_row;  // index in new_rows; else `key` is the row's
    int64_t key = 0;
    int64_t db_version = 0;
    int64_t site = 0;
  };
  // A row the database never had, and its writes: writes[first_write,
  // end_write), one per column of its run.
  struct NewRow {
    const MergeWindow::Row* row = nullptr;
    size_t first_write = 0;
    size_t end_write = 0;
  };
  std::vector<NewRow> new_rows;
  std::vector<Write> writes;
};

Status CrrContext::MergeChanges(const Changeset& changes) {
  // Site ordinals found or added by this call cannot be rolled back while
  // it runs (a failure fails the call), so they are looked up once.
  std::map<SiteId, int64_t> sites;
  call_site_ordinals_ = &sites;
  struct Forget {
    std::map<SiteId, int64_t>*& sites;
    ~Forget() { sites = nullptr; }
  } forget{call_site_ordinals_};
  for (size_t i = 0; i < changes.size();) {
    MergeWindow window;
    FillMergeWindow(changes, i, &window);
    if (window.changes >= 2) {
      CRBRIDGE_RETURN_IF_ERROR(MergeWindowed(changes, window));
      i = window.rows.back().end;
    } else {
      CRBRIDGE_RETURN_IF_ERROR(Merge(changes[i]));
      ++i;
    }
  }
  return Status::OK();
}

void CrrContext::FillMergeWindow(const Changeset& changes, size_t begin, MergeWindow* window) const {
  window->table = FindTable(changes[begin].table);
  if (window->table == nullptr) return;
  const CrrTable& t = *window->table;
  // Any row's run fits, however many columns the table has.
  window->capacity = std::max(kMergeWindowChanges, t.value_columns.size());
  for (size_t i = begin; i < changes.size();) {
    const size_t end = RowEnd(changes, i);
    const auto same_row = [&](const MergeWindow::Row& row) { return changes[row.begin].pk == changes[i].pk; };
    if (changes[i].table != t.name || window->changes + (end - i) > window->capacity ||
        std::any_of(window->rows.begin(), window->rows.end(), same_row)) {
      return;
    }
    std::set<std::string> columns;
    for (size_t k = i; k < end; ++k) {
      const Change& c = changes[k];
      if (c.is_sentinel() || t.ValueColumnIndex(c.cid) < 0 || !columns.insert(c.cid).second) return;
    }
    MergeWindow::Row row{i, end, {}};
    if (!DecodePackedPk(changes[i].pk, &row.pk).ok() || row.pk.size() != t.pk_columns.size() ||
        std::any_of(row.pk.begin(), row.pk.end(), [](const Value& v) { return v.is_null(); })) {
      return;
    }
    window->rows.push_back(std::move(row));
    window->changes += end - i;
    i = end;
  }
}

Status CrrContext::MergeWindowed(const Changeset& changes, const MergeWindow& window) {
  const CrrTable& t = *window.table;
  const size_t pk_size = t.pk_columns.size();

  // Each change's row key and clocks, by its position in the window, in
  // one statement (as ReadMergeState reads them for one change).
  struct State {
    std::optional<int64_t> key;
    RowClock row;
    ColumnClock column;
  };
  std::vector<State> states(window.changes);
  Statement* read = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, "",
      [&] {
        std::string names = "position";
        std::string match;
        for (size_t c = 1; c <= pk_size; ++c) {
          const std::string name = "k" + std::to_string(c);
          names += ", " + name;
          match += (c > 1 ? " AND p." : "p.") + QuoteIdentifier(t.pk_columns[c - 1]) + " = v." + name;
        }
        return "WITH v(" + names + ", column_name) AS (VALUES " + ParameterRows(window.capacity, pk_size + 2) +
               ") SELECT v.position, " + MergeStateSelect(t) + " FROM v JOIN " + QuoteIdentifier(t.pks_table()) +
               " p ON " + match + MergeStateJoin(t, "v.column_name");
      },
      &read));
  size_t position = 0;
  for (const MergeWindow::Row& row : window.rows) {
    for (size_t i = row.begin; i < row.end; ++i, ++position) {
      const int p = static_cast<int>(position * (pk_size + 2));
      read->BindInt(p + 1, static_cast<int64_t>(position));
      for (size_t c = 0; c < pk_size; ++c) read->Bind(p + 2 + static_cast<int>(c), row.pk[c]);
      read->BindText(p + static_cast<int>(pk_size) + 2, changes[i].cid);
    }
  }
  Status status;
  while (read->Step(&status)) {
    State& state = states[static_cast<size_t>(read->ColumnInt(0))];
    ReadMergeStateAt(*read, 1, &state.key.emplace(), &state.row, &state.column);
  }
  read->Reset();
  CRBRIDGE_RETURN_IF_ERROR(status);

  // A row the database never had, of first-life (cl 1) values, is created
  // with all of them; the winners of a row it has are written. Both wait
  // for WriteWindow, with the db_versions they get in the changes' order.
  // A row whose changes change its life or tie on clocks (decided by the
  // values) is merged as Merge does, after what the rows before it wrote.
  WindowWrites pending;
  std::vector<MergeOutcome> outcomes;
  // Every change of a new row's run wins (the row is created with all).
  const MergeOutcome created{RowAction::kCreate, /*write_sentinel=*/false, /*write_column=*/true};
  position = 0;
  for (const MergeWindow::Row& row : window.rows) {
    const size_t first = position;
    position += row.end - row.begin;
    const std::optional<int64_t> key = states[first].key;
    bool alone = false;
    outcomes.clear();
    for (size_t i = row.begin; i < row.end; ++i) {
      const State& state = states[first + (i - row.begin)];
      const Change& c = changes[i];
      outcomes.push_back(key ? MergeChange(state.row, state.column, c) : created);
      alone =
          alone || (key ? outcomes.back().row != RowAction::kNone || outcomes.back().write_sentinel ||
                              (state.column.exists && c.cl == state.row.cl && c.col_version == state.column.col_version)
                        : c.cl != 1);
    }
    if (alone) {
      CRBRIDGE_RETURN_IF_ERROR(WriteWindow(window, &pending));
      for (size_t i = row.begin; i < row.end; ++i) CRBRIDGE_RETURN_IF_ERROR(Merge(changes[i]));
      continue;
    }
    if (!key) pending.new_rows.push_back({&row, pending.writes.size(), 0});
    for (size_t i = row.begin; i < row.end; ++i) {
      if (!outcomes[i - row.begin].write_column) continue;
      WindowWrites::Write write;
      write.change = &changes[i];
      write.pk = &row.pk;
      if (key) {
        write.key = *key;
      } else {
        write.new_row = pending.new_rows.size() - 1;
      }
      CRBRIDGE_RETURN_IF_ERROR(MergeDbVersion(changes[i].db_version, &write.db_version));
      CRBRIDGE_RETURN_IF_ERROR(SiteOrdinal(changes[i].site_id, &write.site));
      pending.writes.push_back(write);
    }
    if (!key) pending.new_rows.back().end_write = pending.writes.size();
  }
  return WriteWindow(window, &pending);
}

Status CrrContext::WriteWindow(const MergeWindow& window, WindowWrites* pending) {
  if (pending->writes.empty()) return Status::OK();
  using Write = WindowWrites::Write;
  const CrrTable& t = *window.table;
  const size_t pk_size = t.pk_columns.size();
  SyncScope sync(sync_depth_);

  // New rows: their keys, numbered after the highest as InsertKey numbers
  // them one at a time, and the rows, one INSERT per set of columns.
  int64_t first_key = 0;
  if (!pending->new_rows.empty()) {
    Statement* highest = nullptr;
    CRBRIDGE_RETURN_IF_ERROR(Cached(
        t.name, "", [&] { return "SELECT coalesce(max(__crsql_key), 0) + 1 FROM " + QuoteIdentifier(t.pks_table()); },
        &highest));
    Status status;
    if (highest->Step(&status)) first_key = highest->ColumnInt(0);
    highest->Reset();
    CRBRIDGE_RETURN_IF_ERROR(status);
    Statement* keys = nullptr;
    CRBRIDGE_RETURN_IF_ERROR(Cached(
        t.name, "",
        [&] {
          return "INSERT INTO " + QuoteIdentifier(t.pks_table()) + " (__crsql_key, " + t.PkColumnList() +
                 ") SELECT * FROM (VALUES " + ParameterRows(window.capacity, pk_size + 1) +
                 ") WHERE column1 IS NOT NULL";
        },
        &keys));
    std::map<std::vector<int>, std::vector<size_t>> rows_by_columns;
    for (size_t r = 0; r < pending->new_rows.size(); ++r) {
      const WindowWrites::NewRow& row = pending->new_rows[r];
      const int p = static_cast<int>(r * (pk_size + 1));
      keys->BindInt(p + 1, first_key + static_cast<int64_t>(r));
      for (size_t c = 0; c < pk_size; ++c) keys->Bind(p + 2 + static_cast<int>(c), row.row->pk[c]);
      std::vector<int> columns;
      for (size_t w = row.first_write; w < row.end_write; ++w) {
        columns.push_back(t.ValueColumnIndex(pending->writes[w].change->cid));
      }
      std::sort(columns.begin(), columns.end());
      rows_by_columns[columns].push_back(r);
    }
    CRBRIDGE_RETURN_IF_ERROR(keys->Run());
    for (const auto& [columns, rows] : rows_by_columns) {
      std::vector<std::string> names;
      std::string column_list;  // names the statement
      for (const int c : columns) {
        names.push_back(t.value_columns[c]);
        column_list += (column_list.empty() ? "" : ", ") + QuoteIdentifier(t.value_columns[c]);
      }
      // As many rows as fit in the window's changes, each with the key
      // and the columns.
      const size_t width = pk_size + columns.size();
      Statement* insert = nullptr;
      CRBRIDGE_RETURN_IF_ERROR(Cached(
          t.name, column_list,
          [&] {
            return InsertOrWriteColumnsSql(t, names,
                                           "SELECT * FROM (VALUES " +
                                               ParameterRows(window.capacity / columns.size(), width) +
                                               ") WHERE column1 IS NOT NULL");
          },
          &insert));
      for (size_t n = 0; n < rows.size(); ++n) {
        const int p = static_cast<int>(n * width);
        const WindowWrites::NewRow& row = pending->new_rows[rows[n]];
        for (size_t c = 0; c < pk_size; ++c) insert->Bind(p + 1 + static_cast<int>(c), row.row->pk[c]);
        for (size_t w = row.first_write; w < row.end_write; ++w) {
          const Change& change = *pending->writes[w].change;
          const auto column = std::find(columns.begin(), columns.end(), t.ValueColumnIndex(change.cid));
          insert->Bind(p + static_cast<int>(pk_size + (column - columns.begin())) + 1, change.val);
        }
      }
      CRBRIDGE_RETURN_IF_ERROR(insert->Run());
    }
  }

  // The winners in rows the database has: one UPDATE per column.
  std::map<std::string, std::vector<const Write*>> updates_by_column;
  for (Write& write : pending->writes) {
    if (write.new_row) {
      write.key = first_key + static_cast<int64_t>(*write.new_row);
    } else {
      updates_by_column[write.change->cid].push_back(&write);
    }
  }
  for (const auto& [column, updates] : updates_by_column) {
    Statement* update = nullptr;
    CRBRIDGE_RETURN_IF_ERROR(Cached(
        t.name, column,
        [&] {
          std::string match;
          for (size_t c = 1; c <= pk_size; ++c) {
            match +=
                (c > 1 ? " AND x." : "x.") + QuoteIdentifier(t.pk_columns[c - 1]) + " = v.column" + std::to_string(c);
          }
          return "UPDATE " + QuoteIdentifier(t.name) + " AS x SET " + QuoteIdentifier(column) + " = v.column" +
                 std::to_string(pk_size + 1) + " FROM (VALUES " + ParameterRows(window.capacity, pk_size + 1) +
                 ") AS v WHERE " + match;
        },
        &update));
    for (size_t r = 0; r < updates.size(); ++r) {
      const int p = static_cast<int>(r * (pk_size + 1));
      for (size_t c = 0; c < pk_size; ++c) update->Bind(p + 1 + static_cast<int>(c), (*updates[r]->pk)[c]);
      update->Bind(p + static_cast<int>(pk_size) + 1, updates[r]->change->val);
    }
    CRBRIDGE_RETURN_IF_ERROR(update->Run());
  }

  // Every clock, in one statement.
  Statement* clocks = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, "", [&] { return t.ClockUpsertSql(window.capacity); }, &clocks));
  for (size_t r = 0; r < pending->writes.size(); ++r) {
    const Write& write = pending->writes[r];
    const int p = static_cast<int>(r * 6);
    clocks->BindInt(p + 1, write.key);
    clocks->BindText(p + 2, write.change->cid);
    clocks->BindInt(p + 3, write.change->col_version);
    clocks->BindInt(p + 4, write.db_version);
    clocks->BindInt(p + 5, write.site);
    clocks->BindInt(p + 6, write.change->seq);
  }
  CRBRIDGE_RETURN_IF_ERROR(clocks->Run());
  pending->new_rows.clear();
  pending->writes.clear();
  return Status::OK();
}

Status CrrContext::Merge(const Change& change) {
  const CrrTable* t = FindTable(change.table);
  if (t == nullptr) return Status::InvalidArgument("merge: not a CRR table: " + change.table);
  if (!change.is_sentinel() && t->ValueColumnIndex(change.cid) < 0) {
    return Status::InvalidArgument("merge: table " + change.table + " has no column " + change.cid);
  }
  std::vector<Value> pk;
  CRBRIDGE_RETURN_IF_ERROR(DecodePackedPk(change.pk, &pk));
  if (pk.size() != t->pk_columns.size()) {
    return Status::InvalidArgument("merge: the primary key of " + change.table + " has " +
                                   std::to_string(t->pk_columns.size()) + " columns, the change has " +
                                   std::to_string(pk.size()));
  }

  SyncScope sync(sync_depth_);
  std::optional<int64_t> existing_key;
  RowClock row;
  ColumnClock column;
  CRBRIDGE_RETURN_IF_ERROR(ReadMergeState(*t, pk, change, &existing_key, &row, &column));
  const MergeOutcome outcome = MergeChange(row, column, change);
  if (outcome.row == RowAction::kNone && !outcome.write_sentinel && !outcome.write_column) return Status::OK();

  int64_t key = 0;
  if (existing_key) {
    key = *existing_key;
  } else {
    CRBRIDGE_RETURN_IF_ERROR(InsertKey(*t, pk, &key));
  }
  int64_t db_version = 0;
  CRBRIDGE_RETURN_IF_ERROR(MergeDbVersion(change.db_version, &db_version));
  int64_t site = 0;
  CRBRIDGE_RETURN_IF_ERROR(SiteOrdinal(change.site_id, &site));

  // A created row's first column comes with it (one INSERT, not two writes).
  const bool creates_row = outcome.row == RowAction::kCreate || outcome.row == RowAction::kResurrect;
  switch (outcome.row) {
    case RowAction::kDelete:
      CRBRIDGE_RETURN_IF_ERROR(DeleteRow(*t, key, pk));
      break;
    case RowAction::kResurrect: {
      if (!outcome.write_column) CRBRIDGE_RETURN_IF_ERROR(EnsureRow(*t, pk));
      Statement* zero = nullptr;
      CRBRIDGE_RETURN_IF_ERROR(Cached(
          t->name, "",
          [&] {
            return std::string("UPDATE " + QuoteIdentifier(t->clock_table()) +
                               " SET col_version = 0, db_version = ?2 WHERE key = ?1 AND col_name != '-1'");
          },
          &zero));
      zero->BindInt(1, key);
      zero->BindInt(2, db_version);
      CRBRIDGE_RETURN_IF_ERROR(zero->Run());
      break;
    }
    case RowAction::kCreate:
      if (!outcome.write_column) CRBRIDGE_RETURN_IF_ERROR(EnsureRow(*t, pk));
      break;
    case RowAction::kNone:
      break;
  }
  if (outcome.write_sentinel) {
    CRBRIDGE_RETURN_IF_ERROR(WriteClock(*t, key, kSentinelColumn, change.cl, db_version, site, change.seq));
  }
  if (outcome.write_column) {
    CRBRIDGE_RETURN_IF_ERROR(WriteColumn(*t, pk, change.cid, change.val, creates_row));
    CRBRIDGE_RETURN_IF_ERROR(WriteClock(*t, key, change.cid, change.col_version, db_version, site, change.seq));
  }
  return Status::OK();
}

Status CrrContext::ReadMergeState(const CrrTable& t, const std::vector<Value>& pk, const Change& change,
                                  std::optional<int64_t>* key, RowClock* row, ColumnClock* column) {
  key->reset();
  *row = RowClock{};
  *column = ColumnClock{};
  // One step: the row's key, its sentinel, whether it has any clock, and
  // the column's clock.
  Statement* select = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, "",
      [&] {
        return "SELECT " + MergeStateSelect(t) + ", c.site_id FROM " + QuoteIdentifier(t.pks_table()) + " p" +
               MergeStateJoin(t, "?" + std::to_string(t.pk_columns.size() + 1)) + " WHERE " + PkWhere(t, "p.");
      },
      &select));
  for (size_t i = 0; i < pk.size(); ++i) select->Bind(static_cast<int>(i + 1), pk[i]);
  select->BindText(static_cast<int>(pk.size() + 1), change.cid);
  Status status;
  std::optional<int64_t> writer_ordinal;
  if (select->Step(&status)) {
    ReadMergeStateAt(*select, 0, &key->emplace(), row, column);
    // A sentinel's column clock is the sentinel itself, already the row's.
    if (change.is_sentinel()) *column = ColumnClock{};
    if (column->exists) writer_ordinal = select->ColumnInt(4);
  }
  select->Reset();
  CRBRIDGE_RETURN_IF_ERROR(status);
  // The value and its writer decide only a tie of clocks.
  if (!column->exists || change.cl != row->cl || change.col_version != column->col_version) return Status::OK();
  Statement* value = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, change.cid,
      [&] {
        return "SELECT " + QuoteIdentifier(change.cid) + " FROM " + QuoteIdentifier(t.name) + " WHERE " + PkWhere(t);
      },
      &value));
  for (size_t i = 0; i < pk.size(); ++i) value->Bind(static_cast<int>(i + 1), pk[i]);
  if (value->Step(&status)) column->value = value->Column(0);
  value->Reset();
  CRBRIDGE_RETURN_IF_ERROR(status);
  if (!merge_equal_values_) return Status::OK();
  Statement* writer = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      "", "", [&] { return std::string("SELECT site_id FROM crsql_site_id WHERE ordinal = ?1"); }, &writer));
  writer->BindInt(1, *writer_ordinal);
  if (writer->Step(&status)) column->writer = SiteIdFromValue(writer->Column(0));
  writer->Reset();
  return status;
}

Status CrrContext::DeleteRow(const CrrTable& t, int64_t key, const std::vector<Value>& pk) {
  Statement* remove = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, "", [&] { return std::string("DELETE FROM " + QuoteIdentifier(t.name) + " WHERE " + PkWhere(t)); },
      &remove));
  for (size_t i = 0; i < pk.size(); ++i) remove->Bind(static_cast<int>(i + 1), pk[i]);
  CRBRIDGE_RETURN_IF_ERROR(remove->Run());
  return DropColumnClocks(t, key);
}

Status CrrContext::EnsureRow(const CrrTable& t, const std::vector<Value>& pk) {
  Statement* insert = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, "",
      [&] {
        return "INSERT OR IGNORE INTO " + QuoteIdentifier(t.name) + " (" + t.PkColumnList() + ") VALUES (" +
               t.PkParameterList() + ")";
      },
      &insert));
  for (size_t i = 0; i < pk.size(); ++i) insert->Bind(static_cast<int>(i + 1), pk[i]);
  return insert->Run();
}

Status CrrContext::WriteColumn(const CrrTable& t, const std::vector<Value>& pk, const std::string& column,
                               const Value& value, bool create_row) {
  Statement* write = nullptr;
  const std::string value_param = "?" + std::to_string(pk.size() + 1);
  if (create_row) {
    CRBRIDGE_RETURN_IF_ERROR(Cached(
        t.name, column,
        [&] {
          return InsertOrWriteColumnsSql(t, {column}, "VALUES (" + t.PkParameterList() + ", " + value_param + ")");
        },
        &write));
  } else {
    CRBRIDGE_RETURN_IF_ERROR(Cached(
        t.name, column,
        [&] {
          return "UPDATE " + QuoteIdentifier(t.name) + " SET " + QuoteIdentifier(column) + " = " + value_param +
                 " WHERE " + PkWhere(t);
        },
        &write));
  }
  for (size_t i = 0; i < pk.size(); ++i) write->Bind(static_cast<int>(i + 1), pk[i]);
  write->Bind(static_cast<int>(pk.size() + 1), value);
  return write->Run();
}

}  // namespace crbridge
