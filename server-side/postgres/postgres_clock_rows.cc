#include "postgres_clock_rows.h"

#include <algorithm>
#include <array>

#include "crbridge/sqlite/sql_quote.h"
#include "postgres_batch.h"

namespace crbridge::postgres {

Status ReadClockRows(pqxx::work& tx, const std::string& clock_table, const ResolvedTable& t,
                     const std::vector<const std::vector<ServerParameter>*>& keys,
                     const std::function<Status(const Blob& key, ClockRow clock)>& found) {
  if (keys.empty()) return Status::OK();
  std::vector<ServerParameter> params;
  const std::string where = KeySet(t, keys, &params);
  return ReadClockRowsWhere(tx, clock_table, t, where, params, found);
}

Status ReadClockRowsWhere(pqxx::work& tx, const std::string& clock_table, const ResolvedTable& t,
                          const std::string& where, const std::vector<ServerParameter>& params,
                          const std::function<Status(const Blob& key, ClockRow clock)>& found) {
  const size_t n = t.columns.size() - t.pk_count;
  std::vector<std::string> select;
  for (size_t i = 0; i < t.pk_count; ++i) select.push_back(QuoteIdentifier(t.columns[i].server.name) + "::text");
  const pqxx::result rows = tx.exec_params("SELECT " + Join(select, ", ") +
                                               ", __cl, __col_versions::text, __col_sites::text, __col_hashes::text, __lsn, __room FROM " +
                                               clock_table + " WHERE " + where,
                                           CRBRIDGE_PARAMS(params));
  for (const auto& row : rows) {
    Blob key;
    CRBRIDGE_RETURN_IF_ERROR(ReadPackedKey(t, row, &key));
    const int base = static_cast<int>(t.pk_count);
    ClockRow clock(n);
    clock.stored = true;
    clock.cl = row[base].as<int64_t>();
    clock.versions = ParseClockArray(row[base + 1].c_str(), n);
    clock.sites = ParseClockArray(row[base + 2].c_str(), n);
    clock.hashes = ParseClockArray(row[base + 3].c_str(), n);
    clock.lsn = row[base + 4].as<int64_t>();
    if (!row[base + 5].is_null()) clock.stored_room = row[base + 5].as<std::string>();
    clock.stored_cl = clock.cl;
    CRBRIDGE_RETURN_IF_ERROR(found(key, std::move(clock)));
  }
  return Status::OK();
}

void WriteClockRows(pqxx::work& tx, const std::string& clock_table, const ResolvedTable& t,
                    const std::vector<ClockWrite>& writes) {
  // Many stored clocks are replaced, deleted and appended again with the
  // new ones, rather than updated: per row, UPDATE ... FROM unnest costs
  // Postgres about 1.5 times what DELETE and COPY do together. Writers
  // take turns (the version counter's row lock), so no other writer waits
  // on a replaced row; readers see the old clock or the new one.
  const size_t stored = std::count_if(writes.begin(), writes.end(), [](const ClockWrite& w) { return w.clock->stored; });
  const bool replace = stored >= kCopyMinRows;
  constexpr size_t kFields = 8;
  std::vector<std::array<ServerParameter, kFields>> values;
  values.reserve(writes.size());  // pointers into it are taken below
  BatchColumns existing, created;
  for (BatchColumns* columns : {&existing, &created}) {
    for (size_t i = 0; i < t.pk_count; ++i) columns->Add(t.columns[i].server.type);
    for (const char* type : {"bigint", "bigint[]", "int[]", "bigint[]", "bigint", "bigint", "int", "text"}) {
      columns->Add(type);
    }
  }
  std::vector<const KeyParameters*> replaced;
  for (const ClockWrite& write : writes) {
    const ClockRow& c = *write.clock;
    // A write without a room keeps the stored one.
    const std::optional<std::string>& room = c.room ? c.room : c.stored_room;
    values.push_back({ServerParameter{false, std::to_string(c.cl)}, ServerParameter{false, ClockArrayText(c.versions)},
                      ServerParameter{false, ClockArrayText(c.sites)}, ServerParameter{false, ClockArrayText(c.hashes)},
                      ServerParameter{false, std::to_string(c.lsn)},
                      ServerParameter{false, std::to_string(write.db_version)},
                      ServerParameter{false, std::to_string(write.seq)},
                      room ? ServerParameter{false, *room} : ServerParameter{true, ""}});
    if (c.stored && replace) replaced.push_back(write.key);
    BatchColumns& columns = c.stored && !replace ? existing : created;
    for (size_t i = 0; i < t.pk_count; ++i) columns.values[i].push_back(&(*write.key)[i]);
    for (size_t k = 0; k < kFields; ++k) columns.values[t.pk_count + k].push_back(&values.back()[k]);
  }
  std::vector<std::string> key_names;
  for (size_t i = 0; i < t.pk_count; ++i) key_names.push_back(QuoteIdentifier(t.columns[i].server.name));
  if (!replaced.empty()) {
    std::vector<ServerParameter> params;
    const std::string where = KeySet(t, replaced, &params);  // fills params: not in the same expression
    tx.exec_params0("DELETE FROM " + clock_table + " WHERE " + where, CRBRIDGE_PARAMS(params));
  }
  std::vector<std::string> names = key_names;
  for (const char* name : {"__cl", "__col_versions", "__col_sites", "__col_hashes", "__lsn", "__db_version", "__seq",
                           "__room"}) {
    names.push_back(name);
  }
  InsertRows(tx, clock_table, names, created);
  if (!existing.values[0].empty()) {
    std::vector<std::string> match;
    for (size_t i = 0; i < t.pk_count; ++i) match.push_back("k." + key_names[i] + " = " + existing.casts[i]);
    const auto cast = [&](size_t k) { return existing.casts[t.pk_count + k]; };
    std::vector<ServerParameter> params;
    const std::string from = existing.From(&params);
    tx.exec_params0("UPDATE " + clock_table + " AS k SET __cl = " + cast(0) + ", __col_versions = " + cast(1) +
                        ", __col_sites = " + cast(2) + ", __col_hashes = " + cast(3) + ", __lsn = " + cast(4) +
                        ", __db_version = " + cast(5) + ", __seq = " + cast(6) + ", __room = COALESCE(" + cast(7) +
                        ", k.__room) FROM " + from + " WHERE " + Join(match, " AND "),
                    CRBRIDGE_PARAMS(params));
  }
}

}  // namespace crbridge::postgres
