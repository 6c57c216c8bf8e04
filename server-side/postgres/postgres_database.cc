#include "crbridge/server/postgres/postgres_database.h"

#include <libpq-fe.h>

#include <memory>
#include <pqxx/pqxx>
#include <string_view>

#include "crbridge/server/postgres/libpq_handles.h"
#include "postgres_batch.h"
#include "crbridge/server/postgres/postgres_errors.h"
#include "crbridge/server/postgres/postgres_shadow_store.h"
#include "crbridge/server/core/clock_columns.h"
#include "crbridge/server/core/socket_wait.h"
#include "crbridge/sqlite/sql_quote.h"

namespace crbridge::postgres {
namespace {


// libpq's messages span lines ("...failed: Connection refused\n\tIs the
// server running..."); logs want one line.
Status PgError(PGconn* conn) {
  std::string message;
  for (const char c : std::string_view(PQerrorMessage(conn))) {
    if (c == '\n' || c == '\t') {
      if (!message.empty() && message.back() != ' ') message += ' ';
    } else {
      message += c;
    }
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return Status::Unavailable("postgres: " + message);
}

// libpq reads connect_timeout from the url; add one unless it has its own.
std::string WithConnectTimeout(const std::string& url) {
  if (url.find("connect_timeout=") != std::string::npos) return url;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=10";
}

}  // namespace

bool PublicationPublishesExactly(pqxx::transaction_base& tx, const std::string& publication,
                                 const std::vector<std::string>& tables) {
  std::vector<std::string> relations;
  for (const std::string& table : tables) relations.push_back("to_regclass(" + QuoteLiteral(table) + ")");
  // Row filters and column lists (15+) are read through the row's JSON.
  return tx
      .exec_params1("SELECT COALESCE((SELECT NOT p.puballtables AND p.pubinsert AND p.pubupdate AND p.pubdelete AND "
                    "p.pubtruncate AND ARRAY(SELECT r.prrelid FROM pg_publication_rel r WHERE r.prpubid = p.oid "
                    "ORDER BY 1) = ARRAY(SELECT unnest(ARRAY[" + Join(relations, ", ") + "]::oid[]) ORDER BY 1) AND "
                    "NOT EXISTS (SELECT 1 FROM pg_publication_rel r WHERE r.prpubid = p.oid AND "
                    "(to_jsonb(r)->>'prqual' IS NOT NULL OR to_jsonb(r)->>'prattrs' IS NOT NULL)) "
                    "FROM pg_publication p WHERE p.pubname = $1), false)",
                    publication)[0]
      .as<bool>();
}

PostgresDatabase::PostgresDatabase(std::string url) : url_(std::move(url)) {}

PostgresDatabase::~PostgresDatabase() = default;

Status PostgresDatabase::Connection(pqxx::connection** conn) {
  const Status s = CatchErrors("connecting", [&] {
    if (!conn_ || !conn_->is_open()) conn_ = std::make_unique<pqxx::connection>(WithConnectTimeout(url_));
    *conn = conn_.get();
    return Status::OK();
  });
  if (!s.ok()) conn_.reset();
  return s;
}

Status PostgresDatabase::ReadTable(const std::string& schema, const std::string& table, ServerTable* out, bool* found) {
  pqxx::connection* conn = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Connection(&conn));
  return Forget(CatchErrors("reading the catalog", conn_, [&] {
    pqxx::work tx(*conn);
    // Domains map as their base type; enums are text.
    const pqxx::result rows = tx.exec_params(
        "SELECT a.attname, "
        "       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) "
        "            ELSE format_type(a.atttypid, a.atttypmod) END, "
        "       t.typtype = 'e', a.attnotnull, "
        "       a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', "
        "       COALESCE((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
        "                 WHERE k.attnum = a.attnum), 0), "
        "       COALESCE(pg_get_expr(d.adbin, d.adrelid), '') "
        "FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') "
        "  AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        schema, table);
    *found = !rows.empty();
    *out = ServerTable{schema, table, {}};
    for (const auto& row : rows) {
      out->columns.push_back(ServerColumn{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<bool>(),
                                          row[3].as<bool>(), row[4].as<bool>(), row[5].as<int>(),
                                          row[6].as<std::string>()});
    }
    return Status::OK();
  }));
}

Status PostgresDatabase::CheckSettings(std::vector<std::string>* problems) {
  pqxx::connection* conn = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Connection(&conn));
  return Forget(CatchErrors("reading settings", conn_, [&] {
    pqxx::nontransaction tx(*conn);
    const std::string wal_level = tx.exec1("SHOW wal_level")[0].as<std::string>();
    if (wal_level != "logical") {
      problems->push_back("wal_level is " + wal_level + "; logical replication needs wal_level = logical (and a restart)");
    }
    return Status::OK();
  }));
}

Status PostgresDatabase::CheckPrivileges(const Config& config, const std::vector<ResolvedTable>& tables,
                                         std::vector<Status>* problems) {
  pqxx::connection* conn = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Connection(&conn));
  return Forget(CatchErrors("reading privileges", conn_, [&] {
    pqxx::nontransaction tx(*conn);
    const pqxx::row role = tx.exec1(
        "SELECT current_user, rolsuper, rolreplication, current_database(), "
        "has_database_privilege(current_database(), 'CREATE'), current_setting('server_version_num')::int "
        "FROM pg_roles WHERE rolname = current_user");
    if (config.source.failover_slot && role[5].as<int>() < 170000) {
      problems->push_back(config.ErrorAt("source.failover_slot", "failover slots need Postgres 17 or newer; the server "
                                         "is " + std::to_string(role[5].as<int>() / 10000)));
    }
    if (role[1].as<bool>()) return Status::OK();  // a superuser may do all of it
    const std::string user = QuoteIdentifier(role[0].as<std::string>());
    const std::string database_name = role[3].as<std::string>();
    const std::string database = QuoteIdentifier(database_name);
    const bool creates = role[4].as<bool>();
    const auto missing = [&](const std::string& path, const std::string& what) {
      problems->push_back(config.ErrorAt(path, what));
    };
    if (!role[2].as<bool>()) {
      missing("source.url", "the role " + user + " may not stream logical replication (it has neither REPLICATION "
              "nor superuser): ALTER ROLE " + user + " WITH REPLICATION");
    }

    // The metadata schema: crbridge makes it, or makes its tables in it.
    const std::string schema = QuoteIdentifier(config.metadata_schema);
    const pqxx::result metadata = tx.exec_params(
        "SELECT pg_has_role(nspowner, 'USAGE') OR (has_schema_privilege(oid, 'USAGE') AND "
        "has_schema_privilege(oid, 'CREATE')) FROM pg_namespace WHERE nspname = $1",
        config.metadata_schema);
    if (metadata.empty() && !creates) {
      missing("metadata_schema", "the role " + user + " may not create the metadata schema " + schema +
              ": GRANT CREATE ON DATABASE " + database + " TO " + user);
    } else if (!metadata.empty() && !metadata[0][0].as<bool>()) {
      missing("metadata_schema", "the role " + user + " may not make its tables in the metadata schema " + schema +
              ", which belongs to another role: GRANT USAGE, CREATE ON SCHEMA " + schema + " TO " + user);
    }

    // The publication: left as it is when it publishes exactly the mapped
    // tables whole; otherwise crbridge makes it or sets its tables, which
    // Postgres allows the publication's owner owning every table named.
    const std::string publication = QuoteIdentifier(config.source.publication);
    std::vector<std::string> existing;
    for (const ResolvedTable& t : tables) {
      existing.push_back(QuoteIdentifier(t.mapping->source_schema) + "." + QuoteIdentifier(t.mapping->source_table));
    }
    const bool as_is = PublicationPublishesExactly(tx, config.source.publication, existing);
    const pqxx::result published = tx.exec_params(
        "SELECT pg_has_role(pubowner, 'USAGE') FROM pg_publication WHERE pubname = $1", config.source.publication);
    if (!as_is && published.empty() && !creates) {
      missing("source.publication", "the role " + user + " may not create the publication " + publication +
              ": GRANT CREATE ON DATABASE " + database + " TO " + user);
    } else if (!as_is && !published.empty() && !published[0][0].as<bool>()) {
      missing("source.publication", "the publication " + publication + " belongs to another role and does not "
              "publish exactly the mapped tables whole: ALTER PUBLICATION " + publication + " OWNER TO " + user);
    }
    for (const ResolvedTable& t : tables) {
      const std::string table = t.mapping->QualifiedSource();
      const pqxx::result rows = tx.exec_params(
          "SELECT has_schema_privilege(n.oid, 'USAGE'), has_table_privilege(c.oid, 'SELECT'), "
          "has_table_privilege(c.oid, 'INSERT'), has_table_privilege(c.oid, 'UPDATE'), "
          "has_table_privilege(c.oid, 'DELETE'), pg_has_role(c.relowner, 'USAGE'), "
          "c.relrowsecurity AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE')) AND "
          "NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user) "
          "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
          t.mapping->source_schema, t.mapping->source_table);
      if (rows.empty()) continue;  // ResolveTable says it does not exist
      const pqxx::row row = rows[0];
      const std::string where = t.mapping->path + ".source";
      if (!row[0].as<bool>()) {
        missing(where, "the role " + user + " may not use the schema " + QuoteIdentifier(t.mapping->source_schema) +
                ": GRANT USAGE ON SCHEMA " + QuoteIdentifier(t.mapping->source_schema) + " TO " + user);
      }
      if (!row[1].as<bool>()) missing(where, "the role " + user + " may not read " + table + ": GRANT SELECT ON " +
                                             table + " TO " + user);
      if (t.mapping->writable) {
        std::vector<std::string> writes;
        for (int i = 2; i <= 4; ++i) {
          if (!row[i].as<bool>()) writes.push_back(i == 2 ? "INSERT" : i == 3 ? "UPDATE" : "DELETE");
        }
        if (!writes.empty()) {
          missing(where, "the role " + user + " may not merge client writes into " + table + " (writable): GRANT " +
                  Join(writes, ", ") + " ON " + table + " TO " + user);
        }
      }
      if (!as_is && !row[5].as<bool>()) {
        missing(where, "the role " + user + " may not name " + table + " in the publication " + publication +
                " (only its owner may): ALTER TABLE " + table + " OWNER TO " + user + ", or have the owner make " +
                publication + " with exactly the mapped tables (CREATE PUBLICATION " + publication + " FOR TABLE ...)");
      }
      // Snapshots would see only the rows the policies show, and the rest
      // would die for clients.
      if (row[6].as<bool>()) {
        missing(where, "row-level security on " + table + " hides rows from the role " + user + ": ALTER ROLE " +
                user + " BYPASSRLS");
      }
    }

    // The replication origin that marks crbridge's own writes.
    if (role[5].as<int>() < 140000) {
      missing("source.url", "Postgres 13 lets only superusers use replication origins, which mark crbridge's own "
              "writes: ALTER ROLE " + user + " SUPERUSER (Postgres 14 and later take grants)");
      return Status::OK();
    }
    const std::string origin = PostgresShadowStore::OriginName(database_name, config.metadata_schema);
    const bool origin_exists =
        !tx.exec_params("SELECT 1 FROM pg_replication_origin WHERE roname = $1", origin).empty();
    for (const char* function : {"pg_replication_origin_create(text)", "pg_replication_origin_session_setup(text)"}) {
      if (origin_exists && std::string_view(function).starts_with("pg_replication_origin_create")) continue;
      if (!tx.exec_params1("SELECT has_function_privilege($1, 'EXECUTE')", function)[0].as<bool>()) {
        missing("source.url", "the role " + user + " may not use replication origins, which mark crbridge's own "
                "writes: GRANT EXECUTE ON FUNCTION " + function + " TO " + user);
      }
    }
    return Status::OK();
  }));
}

Status PostgresDatabase::RejectedRows(const std::string& metadata_schema, std::vector<RejectedRow>* rows) {
  pqxx::connection* conn = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Connection(&conn));
  return Forget(CatchErrors("reading the rejected rows", conn_, [&] {
    pqxx::nontransaction tx(*conn);
    return PostgresShadowStore::ReadRejectedRows(tx, metadata_schema, rows);
  }));
}

Status PostgresDatabase::RecordedTables(const std::string& metadata_schema, std::vector<RecordedTable>* tables) {
  tables->clear();
  pqxx::connection* conn = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Connection(&conn));
  return Forget(CatchErrors("reading the recorded tables", conn_, [&]() -> Status {
    pqxx::nontransaction tx(*conn);
    const std::string table = QuoteIdentifier(metadata_schema) + ".tables";
    if (tx.exec_params1("SELECT to_regclass($1) IS NULL", table)[0].as<bool>()) return Status::OK();
    // room_rule is read through the row's JSON: a schema older than it has none.
    for (const auto& row : tx.exec("SELECT name, array_to_json(pk_columns)::text, array_to_json(value_columns)::text, "
                                   "to_jsonb(t)->>'room_rule' FROM " + table + " t ORDER BY name")) {
      std::optional<std::string> rule;
      if (!row[3].is_null()) rule = row[3].as<std::string>();
      CRBRIDGE_RETURN_IF_ERROR(ParseRecordedTable(row[0].as<std::string>(), row[1].as<std::string>(),
                                                  row[2].as<std::string>(), std::move(rule), &tables->emplace_back()));
    }
    return Status::OK();
  }));
}

Status PostgresDatabase::Forget(Status s) {
  if (s.code() == Status::Code::kUnavailable) conn_.reset();
  return s;
}

Status PostgresDatabase::Probe(std::chrono::milliseconds timeout, std::stop_token stop, ServerInfo* info) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const char* keywords[] = {"dbname", nullptr};
  const char* values[] = {url_.c_str(), nullptr};
  PgConnPtr conn(PQconnectStartParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr) return Status::Internal("libpq could not allocate a connection");
  if (PQstatus(conn.get()) == CONNECTION_BAD) return PgError(conn.get());

  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  while (polling != PGRES_POLLING_OK) {
    if (polling == PGRES_POLLING_FAILED) return PgError(conn.get());
    const SocketReady want = polling == PGRES_POLLING_READING ? SocketReady::kRead : SocketReady::kWrite;
    if (Status s = WaitForSocket(PQsocket(conn.get()), want, deadline, stop, "postgres connect"); !s.ok()) return s;
    polling = PQconnectPoll(conn.get());
  }

  if (PQsendQuery(conn.get(), "SHOW server_version") != 1) return PgError(conn.get());
  while (PQisBusy(conn.get())) {
    if (Status s = WaitForSocket(PQsocket(conn.get()), SocketReady::kRead, deadline, stop, "postgres query");
        !s.ok()) {
      return s;
    }
    if (PQconsumeInput(conn.get()) != 1) return PgError(conn.get());
  }
  PgResultPtr result(PQgetResult(conn.get()));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1) return PgError(conn.get());
  info->product = "PostgreSQL";
  info->version = PQgetvalue(result.get(), 0, 0);
  return Status::OK();
}

}  // namespace crbridge::postgres
