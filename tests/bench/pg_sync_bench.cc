// pg_sync_bench: merge and pull throughput of the Postgres sync store
// against a throwaway Postgres (dbfixture), next to the limits measured in
// the same run: COPY and multi-row upserts of the same rows. Prints a
// markdown table for docs/benchmarks.md.
//   pg_sync_bench [--changes N] [--changeset C] [--pull-rows R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "bench_result.h"
#include "crbridge/server/config_check.h"
#include "crbridge/server/postgres_shadow_store.h"
#include "crbridge/server/sync_store.h"
#include "crbridge/sqlite/packed_pk.h"
#include "test_databases.h"

namespace crbridge {
namespace {

using Clock = std::chrono::steady_clock;
using testing::DatabaseServer;
using testing::ServerKind;

constexpr const char* kColumns[] = {"a", "b", "c", "d"};

using Result = BenchResult;

void Print(const Result& r) {
  std::printf("| %-46s | %9zu | %11.0f | %8.2f | %8.2f |\n", r.what.c_str(), r.items,
              r.PerSecond(), Percentile(r.batch_ms, 0.5), Percentile(r.batch_ms, 0.99));
}

Blob Key(int64_t id) {
  const Value v = Value::Integer(id);
  Blob pk;
  EncodePackedPk(std::span(&v, 1), &pk);
  return pk;
}

Value ColumnValue(size_t column, int64_t n) {
  switch (column) {
    case 0: return Value::Text("title " + std::to_string(n));
    case 1: return Value::Integer(n);
    case 2: return Value::Float(static_cast<double>(n) + 0.5);
    default: return Value::Integer(n % 2);
  }
}

// COPY of `rows` rows, the fastest way in.
Result Copy(pqxx::connection& conn, int64_t rows) {
  pqxx::nontransaction(conn).exec0("CREATE TABLE copy_limit (id bigint PRIMARY KEY, a text, b bigint, c double precision, d boolean)");
  Result result{"limit: COPY (rows)", static_cast<size_t>(rows), 0, {}};
  const auto start = Clock::now();
  pqxx::work tx(conn);
  pqxx::stream_to copy(tx, "copy_limit", std::vector<std::string>{"id", "a", "b", "c", "d"});
  for (int64_t i = 1; i <= rows; ++i) {
    copy << std::make_tuple(i, "title " + std::to_string(i), i, static_cast<double>(i) + 0.5, i % 2 == 1);
  }
  copy.complete();
  tx.commit();
  result.seconds = MillisecondsSince(start) / 1000;
  return result;
}

// Multi-row upserts of 1,000 rows per statement.
Result Upserts(pqxx::connection& conn, int64_t rows, const std::string& what) {
  Result result{what, static_cast<size_t>(rows), 0, {}};
  const auto start = Clock::now();
  for (int64_t first = 1; first <= rows; first += 1000) {
    const auto t = Clock::now();
    std::string sql = "INSERT INTO copy_limit VALUES ";
    for (int64_t i = first; i < first + 1000 && i <= rows; ++i) {
      sql += (i > first ? ",(" : "(") + std::to_string(i) + ",'edit " + std::to_string(i) + "'," + std::to_string(i) + "," +
             std::to_string(i) + ".25," + (i % 2 ? "true" : "false") + ")";
    }
    sql += " ON CONFLICT (id) DO UPDATE SET a = excluded.a, b = excluded.b, c = excluded.c, d = excluded.d";
    pqxx::work tx(conn);
    tx.exec0(sql);
    tx.commit();
    result.batch_ms.push_back(MillisecondsSince(t));
  }
  result.seconds = MillisecondsSince(start) / 1000;
  return result;
}

Result Merge(SyncStore& store, const std::vector<Changeset>& changesets, const std::string& what) {
  SiteId client;
  client.fill(0x31);
  Result result{what, 0, 0, {}};
  const auto start = Clock::now();
  int64_t end = 0;
  for (const Changeset& changes : changesets) {
    const auto t = Clock::now();
    MergeReport report;
    const Status s = store.Merge(client, changes, PeerVersion{++end, 0}, &report);
    if (!s.ok()) {
      std::fprintf(stderr, "merge failed: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    result.batch_ms.push_back(MillisecondsSince(t));
    result.items += changes.size();
  }
  result.seconds = MillisecondsSince(start) / 1000;
  return result;
}

std::vector<Changeset> Split(const Changeset& all, size_t size) {
  std::vector<Changeset> out;
  for (size_t i = 0; i < all.size(); i += size) {
    out.emplace_back(all.begin() + static_cast<ptrdiff_t>(i), all.begin() + static_cast<ptrdiff_t>(std::min(all.size(), i + size)));
  }
  return out;
}

}  // namespace
}  // namespace crbridge

int main(int argc, char** argv) {
  using namespace crbridge;
  size_t changes = 100000;
  size_t changeset = 1000;
  int64_t pull_rows = 250000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--changes") changes = std::stoul(argv[i + 1]);
    if (flag == "--changeset") changeset = std::stoul(argv[i + 1]);
    if (flag == "--pull-rows") pull_rows = std::stoll(argv[i + 1]);
  }
  const auto rows = static_cast<int64_t>(changes / 4);

  DatabaseServer postgres(ServerKind::kPostgres);
  pqxx::connection conn(postgres.url());
  pqxx::nontransaction(conn).exec0("CREATE TABLE items (id bigint PRIMARY KEY, a text, b bigint, c double precision, d boolean)");
  Config config;
  if (!ParseConfig("source:\n  type: postgres\n  url: postgresql://x\nschema_name: bench\ntables:\n  - name: items\n",
                   "bench.yaml", &config).ok()) {
    return 1;
  }
  config.source.url = postgres.url();
  ConfigCheck check;
  auto database = NewSourceDatabase(config.source);
  if (!CheckConfig(config, *database, &check).ok() || !check.problems.empty()) return 1;
  std::unique_ptr<PostgresShadowStore> writer;
  if (!PostgresShadowStore::Open(postgres.url(), "crbridge", check.tables, ShadowStore::Marking::kCrbridge, &writer).ok()) {
    return 1;
  }
  auto store = std::make_unique<SyncStore>(config, check.tables, *writer);

  std::printf("%zu changes in changesets of %zu, items(id bigint, a text, b bigint, c double, d boolean), PostgreSQL 15, "
              "release build\n\n",
              changes, changeset);
  std::printf("| %-46s | %9s | %11s | %8s | %8s |\n", "workload", "items", "items/s", "p50 ms", "p99 ms");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(48, '-').c_str(), std::string(11, '-').c_str(), std::string(13, '-').c_str(),
              std::string(10, '-').c_str(), std::string(10, '-').c_str());
  Print(Copy(conn, rows));
  Print(Upserts(conn, rows, "limit: multi-row upsert, conflicting (rows)"));

  Changeset inserts;
  for (int64_t row = 1; row <= rows; ++row) {
    for (size_t c = 0; c < 4; ++c) {
      inserts.push_back(Change{"items", Key(row), kColumns[c], ColumnValue(c, row), 1, row, std::nullopt, 1, static_cast<int64_t>(c)});
    }
  }
  Print(Merge(*store, Split(inserts, changeset), "merge: row inserts (changes)"));

  std::mt19937 random(5);
  Changeset updates;
  std::vector<int64_t> versions(static_cast<size_t>(rows) * 4, 1);
  for (size_t i = 0; i < changes; ++i) {
    const auto row = static_cast<int64_t>(random() % static_cast<uint64_t>(rows)) + 1;
    const size_t c = random() % 4;
    updates.push_back(Change{"items", Key(row), kColumns[c], ColumnValue(c, row + 7),
                             ++versions[static_cast<size_t>(row - 1) * 4 + c], 0, std::nullopt, 1, 0});
  }
  Print(Merge(*store, Split(updates, changeset), "merge: single-column updates (changes)"));

  Changeset mixed;
  for (size_t i = 0; i < changes; ++i) {
    const auto row = static_cast<int64_t>(random() % static_cast<uint64_t>(rows)) + 1;
    const size_t c = random() % 4;
    int64_t& version = versions[static_cast<size_t>(row - 1) * 4 + c];
    // One in ten loses: it carries an older col_version than the server's.
    const int64_t sent = random() % 10 == 0 ? version - 1 : ++version;
    mixed.push_back(Change{"items", Key(row), kColumns[c], ColumnValue(c, row + 13), sent, 0, std::nullopt, 1, 0});
  }
  Print(Merge(*store, Split(mixed, changeset), "merge: updates, 10% losing conflicts (changes)"));

  // A cold pull of pull_rows rows of 4 columns, the clock filled in bulk.
  {
    pqxx::work tx(conn);
    tx.exec0("TRUNCATE items, crbridge.items__clock");
    tx.exec0("INSERT INTO items SELECT g, 'title ' || g, g, g + 0.5, g % 2 = 1 FROM generate_series(1, " +
             std::to_string(pull_rows) + ") g");
    tx.exec0("INSERT INTO crbridge.items__clock (id, __cl, __col_versions, __col_sites, __col_hashes, __lsn, __db_version, "
             "__seq, __room) SELECT g, 1, '{1,1,1,1}', '{0,0,0,0}', '{}', 0, 1000000 + g / 100, g % 100, NULL "
             "FROM generate_series(1, " + std::to_string(pull_rows) + ") g");
    tx.commit();
    pqxx::nontransaction(conn).exec0("ANALYZE crbridge.items__clock");
  }
  Result pull{"pull: cold, 1,000 rows a batch (changes)", 0, 0, {}};
  size_t largest = 0;
  int64_t through = 0;
  const auto start = Clock::now();
  PullBatch batch;
  do {
    const auto t = Clock::now();
    if (!store->Pull(through, std::nullopt, std::nullopt, 1000, &batch).ok()) return 1;
    pull.batch_ms.push_back(MillisecondsSince(t));
    pull.items += batch.changes.size();
    largest = std::max(largest, batch.changes.size());
    through = batch.through;
  } while (batch.more);
  pull.seconds = MillisecondsSince(start) / 1000;
  Print(pull);
  std::printf("\nlargest pull batch: %zu changes\n", largest);
  return 0;
}
