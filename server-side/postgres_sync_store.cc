#include "crbridge/server/postgres_sync_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "crbridge/mappings/type_mapping.h"
#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/sql_quote.h"

namespace crbridge {
namespace {

// The session settings that the type mapping's text forms assume.
constexpr const char* kSessionSettings =
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; SET bytea_output = 'hex'; "
    "SET IntervalStyle = 'postgres'";

std::string Qualified(const TableMapping& m) { return QuoteIdentifier(m.source_schema) + "." + QuoteIdentifier(m.source_table); }

// "a" = $1::type AND "b" = $2::type, numbering parameters from `first`.
std::string KeyMatch(const ResolvedTable& t, const std::string& prefix, int first) {
  std::string out;
  for (size_t i = 0; i < t.pk_count; ++i) {
    out += (i > 0 ? " AND " : "") + prefix + QuoteIdentifier(t.columns[i].server.name) + " = $" +
           std::to_string(first + static_cast<int>(i)) + "::" + t.columns[i].server.type;
  }
  return out;
}

std::string PgArray(const std::vector<std::optional<int64_t>>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i > 0 ? "," : "") + (items[i] ? std::to_string(*items[i]) : std::string("NULL"));
  }
  return out + "}";
}

std::vector<std::optional<int64_t>> ParseArray(const std::string& json, size_t size) {
  std::vector<std::optional<int64_t>> out(size);
  const nlohmann::json parsed = nlohmann::json::parse(json);
  for (size_t i = 0; i < size && i < parsed.size(); ++i) {
    if (!parsed[i].is_null()) out[i] = parsed[i].get<int64_t>();
  }
  return out;
}

// Statement parameters for libpqxx: text, or a null pointer for NULL. The
// pointers point into `values`, which must outlive the statement.
std::vector<const char*> ParameterPointers(const std::vector<ServerParameter>& values) {
  std::vector<const char*> pointers;
  for (const ServerParameter& v : values) pointers.push_back(v.is_null ? nullptr : v.text.c_str());
  return pointers;
}

#define CRBRIDGE_PARAMS(values) pqxx::prepare::make_dynamic_params(ParameterPointers(values))

// The canonical SQLite value of a server text field (NULL stays NULL).
Status ReadField(const ColumnType& type, const pqxx::field& field, Value* value) {
  if (field.is_null()) {
    *value = Value::Null();
    return Status::OK();
  }
  return FromServerText(type, field.c_str(), value);
}

std::string RoomText(const Value& value) {
  switch (value.storage_class()) {
    case StorageClass::kText: return value.text();
    case StorageClass::kInteger: return std::to_string(value.integer());
    default: return value.ToSql();
  }
}

// One row a changeset touches, and its changes in arrival order.
struct RowChanges {
  const ResolvedTable* table = nullptr;
  Blob pk;
  std::vector<Value> pk_values;
  std::vector<ServerParameter> pk_params;
  std::vector<std::pair<const Change*, size_t>> changes;  // with the column index (0 for the sentinel)
};

}  // namespace

PostgresSyncStore::PostgresSyncStore(std::string url, const Config& config, PostgresClockStore& writer,
                                     std::unique_ptr<pqxx::connection> reader)
    : url_(std::move(url)), config_(config), writer_(writer), reader_(std::move(reader)) {}

Status PostgresSyncStore::Reader(pqxx::connection** reader) {
  if (!reader_ || !reader_->is_open()) {
    try {
      reader_ = std::make_unique<pqxx::connection>(url_);
      pqxx::nontransaction(*reader_).exec0(kSessionSettings);
    } catch (const std::exception& e) {
      reader_.reset();
      return Status::Unavailable(std::string("postgres: ") + e.what());
    }
  }
  *reader = reader_.get();
  return Status::OK();
}

Status PostgresSyncStore::Open(const std::string& url, const Config& config, const std::vector<ResolvedTable>& tables,
                               PostgresClockStore& writer, std::unique_ptr<PostgresSyncStore>* store) {
  std::unique_ptr<pqxx::connection> reader;
  try {
    reader = std::make_unique<pqxx::connection>(url);
    pqxx::nontransaction(*reader).exec0(kSessionSettings);
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("postgres: ") + e.what());
  }
  std::unique_ptr<PostgresSyncStore> result(new PostgresSyncStore(url, config, writer, std::move(reader)));
  for (const ResolvedTable& table : tables) result->tables_[table.mapping->name] = &table;
  *store = std::move(result);
  return Status::OK();
}

Status PostgresSyncStore::Merge(const SiteId& sender, const Changeset& changes, const PeerVersion& end,
                                MergeReport* report) {
  *report = MergeReport{};
  // Everything is checked before anything is written: a bad change refuses
  // the whole changeset.
  std::map<std::pair<std::string, Blob>, RowChanges> rows;
  for (const Change& change : changes) {
    const auto found = tables_.find(change.table);
    if (found == tables_.end()) return Status::InvalidArgument("unknown table \"" + change.table + "\"");
    const ResolvedTable& t = *found->second;
    if (!t.mapping->writable) return Status::InvalidArgument("table " + change.table + " is read-only for clients");
    size_t column = 0;
    if (!change.is_sentinel()) {
      for (size_t i = t.pk_count; i < t.columns.size(); ++i) {
        if (t.columns[i].name == change.cid) column = i;
      }
      if (column == 0) return Status::InvalidArgument("table " + change.table + " has no column \"" + change.cid + "\"");
      const ResolvedColumn& c = t.columns[column];
      ServerParameter parameter;
      CRBRIDGE_RETURN_IF_ERROR(
          ToServerParameter(config_.source.type, c.type, change.val, change.table + "." + c.name, &parameter));
      // NULL in a NOT NULL column with a default stands for the default when
      // it creates the row (clients cannot express now() and the like); it is
      // checked again at write time, when it is known whether the row exists.
      if (parameter.is_null && c.server.not_null && !c.server.has_default) {
        return Status::InvalidArgument(change.table + "." + c.name + ": cannot store NULL in a NOT NULL column");
      }
    }
    if (change.cl < 1 || change.col_version < 0) {
      return Status::InvalidArgument("a change to " + change.table + " has an invalid clock (cl " +
                                     std::to_string(change.cl) + ", col_version " + std::to_string(change.col_version) + ")");
    }
    RowChanges& row = rows[{change.table, change.pk}];
    if (row.table == nullptr) {
      row.table = &t;
      row.pk = change.pk;
      if (Status s = DecodePackedPk(change.pk, &row.pk_values); !s.ok()) {
        return Status::InvalidArgument("a change to " + change.table + " has a malformed key: " + s.message());
      }
      if (row.pk_values.size() != t.pk_count) {
        return Status::InvalidArgument("a change to " + change.table + " has a key of " +
                                       std::to_string(row.pk_values.size()) + " columns; the table's has " +
                                       std::to_string(t.pk_count));
      }
      // The key must be in its canonical form, or client and server would
      // name the same row differently.
      std::vector<Value> canonical;
      for (size_t i = 0; i < t.pk_count; ++i) {
        ServerParameter p;
        CRBRIDGE_RETURN_IF_ERROR(ToServerParameter(config_.source.type, t.columns[i].type, row.pk_values[i],
                                                   change.table + "." + t.columns[i].name, &p));
        if (p.is_null) return Status::InvalidArgument(change.table + "." + t.columns[i].name + ": a key cannot be NULL");
        Value v;
        CRBRIDGE_RETURN_IF_ERROR(FromServerText(t.columns[i].type, p.text, &v));
        canonical.push_back(v);
        row.pk_params.push_back(std::move(p));
      }
      Blob packed;
      CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(canonical, &packed));
      if (packed != change.pk) {
        return Status::InvalidArgument("a change to " + change.table + " names its row by a key that is not in the "
                                       "server's canonical form");
      }
    }
    row.changes.emplace_back(&change, column);
  }

  return writer_.Write([&](pqxx::work& tx, int64_t version) -> Status {
    tx.exec0(kSessionSettings);
    const std::string schema = QuoteIdentifier(config_.metadata_schema);
    tx.exec_params0("INSERT INTO " + schema + ".sites (site_id) VALUES ($1::bytea) ON CONFLICT DO NOTHING",
                    pqxx::binarystring(sender.data(), sender.size()));
    const int sender_ordinal = tx.exec_params1("SELECT ordinal FROM " + schema + ".sites WHERE site_id = $1::bytea",
                                               pqxx::binarystring(sender.data(), sender.size()))[0]
                                   .as<int>();
    int seq = 0;
    bool changed_any = false;
    for (auto& [key, row] : rows) {  // in table, key order: locks are taken in one order
      const ResolvedTable& t = *row.table;
      const size_t n = t.columns.size() - t.pk_count;
      const std::string clock = writer_.ClockTable(t.mapping->name);

      // The row's clock and the app row, locked until commit.
      const pqxx::result clock_row = tx.exec_params(
          "SELECT __cl, COALESCE(array_to_json(__col_versions)::text, '[]'), COALESCE(array_to_json(__col_sites)::text, '[]'), "
          "__room FROM " + clock + " WHERE " + KeyMatch(t, "", 1) + " FOR UPDATE",
          CRBRIDGE_PARAMS(row.pk_params));
      std::string value_list;
      for (size_t i = t.pk_count; i < t.columns.size(); ++i) {
        value_list += (i > t.pk_count ? ", " : "") + QuoteIdentifier(t.columns[i].server.name) + "::text";
      }
      const pqxx::result app_row = tx.exec_params(
          "SELECT true" + (value_list.empty() ? std::string() : ", " + value_list) + " FROM " + Qualified(*t.mapping) +
              " WHERE " + KeyMatch(t, "", 1) + " FOR UPDATE",
          CRBRIDGE_PARAMS(row.pk_params));
      const bool app_existed = !app_row.empty();
      std::vector<Value> values(n);
      if (app_existed) {
        for (size_t i = 0; i < n; ++i) CRBRIDGE_RETURN_IF_ERROR(ReadField(t.columns[t.pk_count + i].type, app_row[0][static_cast<int>(i + 1)], &values[i]));
      }
      RowClock state{clock_row.empty() ? (app_existed ? 1 : 0) : clock_row[0][0].as<int64_t>(), false};
      std::vector<std::optional<int64_t>> versions =
          clock_row.empty() ? std::vector<std::optional<int64_t>>(n) : ParseArray(clock_row[0][1].as<std::string>(), n);
      std::vector<std::optional<int64_t>> sites =
          clock_row.empty() ? std::vector<std::optional<int64_t>>(n) : ParseArray(clock_row[0][2].as<std::string>(), n);
      bool exists = app_existed;
      std::vector<bool> written(n, false);
      bool changed = false;

      for (const auto& [change, column] : row.changes) {
        ColumnClock current;
        if (!change->is_sentinel()) {
          const size_t i = column - t.pk_count;
          current = ColumnClock{versions[i].has_value(), versions[i].value_or(0), values[i]};
        }
        const MergeOutcome outcome = MergeChange(state, current, *change);
        switch (outcome.row) {
          case RowAction::kDelete:
            exists = false;
            std::fill(versions.begin(), versions.end(), std::nullopt);
            std::fill(written.begin(), written.end(), false);
            break;
          case RowAction::kResurrect:
            exists = true;
            for (auto& v : versions) {
              if (v) v = 0;
            }
            break;
          case RowAction::kCreate:
            exists = true;
            break;
          case RowAction::kNone:
            break;
        }
        if (outcome.write_sentinel) state.cl = change->cl;
        if (outcome.row == RowAction::kCreate) state.cl = 1;
        if (outcome.write_column) {
          const size_t i = column - t.pk_count;
          values[i] = change->val;
          versions[i] = change->col_version;
          sites[i] = sender_ordinal;
          written[i] = true;
          ++report->applied;
        } else if (outcome.row != RowAction::kNone) {
          ++report->applied;
        }
        changed = changed || outcome.row != RowAction::kNone || outcome.write_column;
      }
      if (!changed) continue;
      changed_any = true;

      // The app row, written with the winners only.
      std::vector<ServerParameter> params = row.pk_params;
      std::vector<size_t> columns;
      for (size_t i = 0; i < n; ++i) {
        if (!written[i]) continue;
        ServerParameter p;
        const ResolvedColumn& c = t.columns[t.pk_count + i];
        CRBRIDGE_RETURN_IF_ERROR(ToServerParameter(config_.source.type, c.type, values[i], t.mapping->name + "." + c.name, &p));
        params.push_back(std::move(p));
        columns.push_back(i);
      }
      pqxx::result stored;
      std::string returning;
      for (size_t k = 0; k < columns.size(); ++k) {
        returning += (k > 0 ? ", " : "") + QuoteIdentifier(t.columns[t.pk_count + columns[k]].server.name) + "::text";
      }
      if (!exists) {
        if (app_existed) tx.exec_params0("DELETE FROM " + Qualified(*t.mapping) + " WHERE " + KeyMatch(t, "", 1), CRBRIDGE_PARAMS(row.pk_params));
      } else if (!app_existed) {
        // A NULL for a NOT NULL column with a default leaves it to the default.
        std::string names, placeholders;
        std::vector<ServerParameter> insert_params = row.pk_params;
        for (size_t i = 0; i < t.pk_count; ++i) {
          names += (i > 0 ? ", " : "") + QuoteIdentifier(t.columns[i].server.name);
          placeholders += (i > 0 ? ", $" : "$") + std::to_string(i + 1) + "::" + t.columns[i].server.type;
        }
        for (size_t k = 0; k < columns.size(); ++k) {
          const ResolvedColumn& c = t.columns[t.pk_count + columns[k]];
          const ServerParameter& value = params[t.pk_count + k];
          if (value.is_null && c.server.not_null) continue;
          insert_params.push_back(value);
          names += ", " + QuoteIdentifier(c.server.name);
          placeholders += ", $" + std::to_string(insert_params.size()) + "::" + c.server.type;
        }
        stored = tx.exec_params("INSERT INTO " + Qualified(*t.mapping) + " (" + names + ") VALUES (" + placeholders + ")" +
                                    (returning.empty() ? "" : " RETURNING " + returning),
                                CRBRIDGE_PARAMS(insert_params));
      } else if (!columns.empty()) {
        for (size_t k = 0; k < columns.size(); ++k) {
          const ResolvedColumn& c = t.columns[t.pk_count + columns[k]];
          if (params[t.pk_count + k].is_null && c.server.not_null) {
            return Status::InvalidArgument(t.mapping->name + "." + c.name + ": cannot store NULL in a NOT NULL column");
          }
        }
        std::string assignments;
        for (size_t k = 0; k < columns.size(); ++k) {
          const ResolvedColumn& c = t.columns[t.pk_count + columns[k]];
          assignments += (k > 0 ? ", " : "") + QuoteIdentifier(c.server.name) + " = $" +
                         std::to_string(t.pk_count + k + 1) + "::" + c.server.type;
        }
        stored = tx.exec_params("UPDATE " + Qualified(*t.mapping) + " SET " + assignments + " WHERE " + KeyMatch(t, "", 1) +
                                    " RETURNING " + returning,
                                CRBRIDGE_PARAMS(params));
      }

      // What the server stored wins everywhere: a value it stores in another
      // form becomes a server change, one version above the client's.
      for (size_t k = 0; k < columns.size() && !stored.empty(); ++k) {
        const size_t i = columns[k];
        Value canonical;
        CRBRIDGE_RETURN_IF_ERROR(ReadField(t.columns[t.pk_count + i].type, stored[0][static_cast<int>(k)], &canonical));
        if (canonical != values[i]) {
          values[i] = canonical;
          versions[i] = *versions[i] + 1;
          sites[i] = 0;
          ++report->canonicalized;
        }
      }

      std::optional<std::string> room;
      if (t.room_column && exists) {
        const Value& value =
            *t.room_column < t.pk_count ? row.pk_values[*t.room_column] : values[*t.room_column - t.pk_count];
        if (!value.is_null()) room = RoomText(value);
      }
      std::string key_names, key_values;
      for (size_t i = 0; i < t.pk_count; ++i) {
        key_names += QuoteIdentifier(t.columns[i].server.name) + ", ";
        key_values += "$" + std::to_string(i + 1) + "::" + t.columns[i].server.type + ", ";
      }
      std::vector<ServerParameter> clock_params = row.pk_params;
      const int next = static_cast<int>(t.pk_count) + 1;
      clock_params.push_back({false, std::to_string(state.cl)});
      clock_params.push_back({false, PgArray(versions)});
      clock_params.push_back({false, PgArray(sites)});
      clock_params.push_back({false, std::to_string(version)});
      clock_params.push_back({false, std::to_string(seq++)});
      clock_params.push_back(room ? ServerParameter{false, *room} : ServerParameter{true, ""});
      const auto p = [&](int offset) { return "$" + std::to_string(next + offset); };
      tx.exec_params0("INSERT INTO " + clock + " (" + key_names +
                          "__cl, __col_versions, __col_sites, __db_version, __seq, __room) VALUES (" + key_values + p(0) +
                          "::bigint, " + p(1) + "::bigint[], " + p(2) + "::int[], " + p(3) + "::bigint, " + p(4) +
                          "::int, " + p(5) + "::text) ON CONFLICT (" + key_names.substr(0, key_names.size() - 2) +
                          ") DO UPDATE SET __cl = excluded.__cl, __col_versions = excluded.__col_versions, "
                          "__col_sites = excluded.__col_sites, __db_version = excluded.__db_version, "
                          "__seq = excluded.__seq, __room = COALESCE(excluded.__room, " + clock + ".__room)",
                      CRBRIDGE_PARAMS(clock_params));
    }
    if (changed_any) report->db_version = version;
    writer_.SetPeerVersion(tx, sender, end);
    return Status::OK();
  });
}

Status PostgresSyncStore::Pull(int64_t after, const std::optional<std::string>& room, const std::optional<SiteId>& exclude,
                               size_t limit, PullBatch* batch) {
  *batch = PullBatch{{}, after, false};
  pqxx::connection* reader = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Reader(&reader));
  try {
    pqxx::read_transaction tx(*reader);
    const std::string room_filter = room ? " AND c.__room = $3" : "";
    const auto params = [&](int64_t bound) {
      std::vector<ServerParameter> p = {{false, std::to_string(after)}, {false, std::to_string(bound)}};
      if (room) p.push_back({false, *room});
      return p;
    };

    // The batch ends on a version boundary: at the lowest last version of a
    // table that has more than `limit` rows to send, or at the highest
    // version there is. Rows of that last version all go in the batch.
    int64_t through = 0;
    std::optional<int64_t> cut;
    for (const auto& [name, t] : tables_) {
      const pqxx::result versions = tx.exec_params(
          "SELECT c.__db_version FROM " + writer_.ClockTable(t->mapping->name) + " c WHERE c.__db_version > $1 AND $2::bigint >= 0" +
              room_filter + " ORDER BY c.__db_version LIMIT " + std::to_string(limit + 1),
          CRBRIDGE_PARAMS(params(0)));
      if (versions.empty()) continue;
      if (versions.size() > limit) {
        const int64_t last = versions[static_cast<int>(limit - 1)][0].as<int64_t>();
        cut = cut ? std::min(*cut, last) : last;
      }
      through = std::max(through, versions[static_cast<int>(std::min(limit, versions.size()) - 1)][0].as<int64_t>());
    }
    if (through == 0) return Status::OK();
    batch->more = cut.has_value();
    batch->through = cut ? *cut : through;

    std::map<int64_t, SiteId> sites{{0, writer_.site_id()}};
    for (const auto& row : tx.exec("SELECT ordinal, site_id FROM " + QuoteIdentifier(config_.metadata_schema) + ".sites")) {
      const pqxx::binarystring id(row[1]);
      SiteId site{};
      std::copy(id.begin(), id.end(), site.begin());
      sites[row[0].as<int64_t>()] = site;
    }

    struct Pending {
      int64_t version;
      int seq;
      Changeset changes;
    };
    std::vector<Pending> pending;
    for (const auto& [name, t] : tables_) {
      const size_t n = t->columns.size() - t->pk_count;
      std::string select, join;
      for (size_t i = 0; i < t->pk_count; ++i) {
        const std::string column = QuoteIdentifier(t->columns[i].server.name);
        select += "c." + column + "::text, ";
        join += (i > 0 ? " AND " : "") + ("t." + column + " = c." + column);
      }
      select += "c.__cl, COALESCE(array_to_json(c.__col_versions)::text, '[]'), "
                "COALESCE(array_to_json(c.__col_sites)::text, '[]'), c.__db_version, c.__seq";
      for (size_t i = t->pk_count; i < t->columns.size(); ++i) {
        select += ", t." + QuoteIdentifier(t->columns[i].server.name) + "::text";
      }
      const pqxx::result rows = tx.exec_params(
          "SELECT " + select + " FROM " + writer_.ClockTable(t->mapping->name) + " c LEFT JOIN " + Qualified(*t->mapping) +
              " t ON " + join + " WHERE c.__db_version > $1 AND c.__db_version <= $2" + room_filter,
          CRBRIDGE_PARAMS(params(batch->through)));
      for (const auto& row : rows) {
        std::vector<Value> key(t->pk_count);
        for (size_t i = 0; i < t->pk_count; ++i) {
          CRBRIDGE_RETURN_IF_ERROR(ReadField(t->columns[i].type, row[static_cast<int>(i)], &key[i]));
        }
        Blob pk;
        CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(key, &pk));
        const int base = static_cast<int>(t->pk_count);
        const int64_t cl = row[base].as<int64_t>();
        const auto versions = ParseArray(row[base + 1].as<std::string>(), n);
        const auto column_sites = ParseArray(row[base + 2].as<std::string>(), n);
        Pending unit{row[base + 3].as<int64_t>(), row[base + 4].as<int>(), {}};
        // A sentinel when the row is dead, came back from the dead, or has
        // nothing else to carry its existence (as cr-sqlite records one).
        const bool no_columns = std::none_of(versions.begin(), versions.end(), [](const auto& v) { return v.has_value(); });
        if (cl != 1 || no_columns) {
          unit.changes.push_back(Change{name, pk, kSentinelColumn, Value::Null(), cl, unit.version, writer_.site_id(), cl, 0});
        }
        for (size_t i = 0; cl % 2 == 1 && i < n; ++i) {
          if (!versions[i]) continue;
          const auto site = sites.find(column_sites[i].value_or(0));
          if (site == sites.end()) return Status::Corruption("clock of " + name + " names an unknown site");
          if (exclude && site->second == *exclude) continue;
          Value value;
          CRBRIDGE_RETURN_IF_ERROR(ReadField(t->columns[t->pk_count + i].type, row[base + 5 + static_cast<int>(i)], &value));
          unit.changes.push_back(
              Change{name, pk, t->columns[t->pk_count + i].name, value, *versions[i], unit.version, site->second, cl, 0});
        }
        if (!unit.changes.empty()) pending.push_back(std::move(unit));
      }
    }
    std::sort(pending.begin(), pending.end(),
              [](const Pending& a, const Pending& b) { return std::tie(a.version, a.seq) < std::tie(b.version, b.seq); });
    int64_t version = -1;
    int64_t seq = 0;
    for (Pending& unit : pending) {
      if (unit.version != version) {
        version = unit.version;
        seq = 0;
      }
      for (Change& change : unit.changes) {
        change.seq = seq++;
        batch->changes.push_back(std::move(change));
      }
    }
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("postgres: ") + e.what());
  }
}

}  // namespace crbridge
