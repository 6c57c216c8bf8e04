// The change log of a Postgres metadata schema (postgres_change_log.h),
// read through libpqxx outside transactions: each statement sees what is
// committed, and the writers hand out db_versions in commit order.
#include <pqxx/pqxx>

#include <algorithm>
#include <cstdio>

#include "crbridge/server/postgres/postgres_change_log_reader.h"
#include "crbridge/server/postgres/postgres_errors.h"
#include "crbridge/sqlite/sql_quote.h"

namespace crbridge::postgres {
namespace {

void CopySiteId(const pqxx::field& field, SiteId* site) {
  const pqxx::binarystring id(field);
  std::copy_n(id.begin(), std::min(id.size(), site->size()), site->begin());
}

class PostgresChangeLogReader final : public ChangeLogReader {
 public:
  PostgresChangeLogReader(std::unique_ptr<pqxx::connection> db, const std::string& schema)
      : db_(std::move(db)), schema_(QuoteIdentifier(schema)) {}

  Status Open() {
    return CatchErrors("reading the site id", db_, [&] {
      pqxx::nontransaction tx(*db_);
      CopySiteId(tx.exec1("SELECT site_id FROM " + Table("site"))[0], &site_id_);
      return Status::OK();
    });
  }

  const SiteId& site_id() const override { return site_id_; }

  Status ReadAfter(const ChangeLogPosition& after, size_t limit, std::vector<ChangeLogEvent>* events) override {
    events->clear();
    return CatchErrors("reading the change log", db_, [&] {
      pqxx::nontransaction tx(*db_);
      const pqxx::result rows = tx.exec_params(
          "SELECT db_version, seq, table_name, pk, op, cl, key_json, columns_json, from_client, "
          "COALESCE(source_lsn, 0), COALESCE(client_ordinal, 0), source_time_us, recorded_time_us FROM " +
              Table("change_events") + " WHERE (db_version, seq) > ($1, $2) ORDER BY db_version, seq LIMIT $3",
          after.db_version, after.seq, static_cast<int64_t>(limit));
      for (const auto& row : rows) {
        ChangeLogEvent& event = events->emplace_back();
        event.position = {row[0].as<int64_t>(), row[1].as<int64_t>()};
        event.table = row[2].as<std::string>();
        const pqxx::binarystring pk(row[3]);
        event.pk.assign(pk.begin(), pk.end());
        event.op = row[4].as<std::string>();
        event.cl = row[5].as<int64_t>();
        event.key_json = row[6].as<std::string>();
        event.columns_json = row[7].as<std::string>();
        event.from_client = row[8].as<bool>();
        event.source_position = row[9].as<int64_t>();
        event.client_ordinal = row[10].as<int64_t>();
        event.source_time_us = row[11].as<int64_t>();
        event.recorded_time_us = row[12].as<int64_t>();
      }
      return Status::OK();
    });
  }

  Status DeleteThrough(const ChangeLogPosition& through) override {
    return CatchErrors("deleting from the change log", db_, [&] {
      pqxx::nontransaction(*db_).exec_params0(
          "DELETE FROM " + Table("change_events") + " WHERE (db_version, seq) <= ($1, $2)", through.db_version,
          through.seq);
      return Status::OK();
    });
  }

  Status CountBacklog(ChangeLogBacklog* backlog) override {
    return CatchErrors("counting the change log", db_, [&] {
      pqxx::nontransaction tx(*db_);
      const pqxx::row left = tx.exec1("SELECT count(*), COALESCE(min(source_lsn), 0) FROM " + Table("change_events"));
      *backlog = {left[0].as<int64_t>(), left[1].as<int64_t>()};
      return Status::OK();
    });
  }

  Status Sites(std::map<int64_t, SiteId>* sites) override {
    return CatchErrors("reading the sites", db_, [&] {
      pqxx::nontransaction tx(*db_);
      for (const auto& row : tx.exec("SELECT ordinal, site_id FROM " + Table("sites"))) {
        CopySiteId(row[1], &(*sites)[row[0].as<int64_t>()]);
      }
      return Status::OK();
    });
  }

  // A WAL position: "16/B374D848".
  std::string FormatSourcePosition(int64_t position) const override {
    const auto lsn = static_cast<uint64_t>(position);
    char text[32];
    std::snprintf(text, sizeof text, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn & 0xffffffff));
    return text;
  }

 private:
  std::string Table(const std::string& name) const { return schema_ + "." + QuoteIdentifier(name); }

  std::unique_ptr<pqxx::connection> db_;
  const std::string schema_;
  SiteId site_id_{};
};

}  // namespace

Status OpenChangeLogReader(const Config& config, std::unique_ptr<ChangeLogReader>* reader) {
  std::unique_ptr<pqxx::connection> db;
  CRBRIDGE_RETURN_IF_ERROR(CatchErrors("connecting", [&] {
    db = std::make_unique<pqxx::connection>(config.source.url);
    return Status::OK();
  }));
  auto opened = std::make_unique<PostgresChangeLogReader>(std::move(db), config.metadata_schema);
  CRBRIDGE_RETURN_IF_ERROR(opened->Open());
  *reader = std::move(opened);
  return Status::OK();
}

}  // namespace crbridge::postgres
