// sync_store_bench: merge and pull throughput of the sync store (SyncStore
// on the ShadowStore of the database, OpenShadowStore) against a throwaway
// Postgres, MariaDB or MySQL (dbfixture), next to the limits measured in the same
// run: multi-row upserts of as many rows per statement as a changeset
// carries (and, on Postgres, COPY). Merges run in changesets of 1,000
// changes and of a few rows. Prints a markdown table for docs/benchmarks.md.
// The small changesets are merged again `--together` at a time in one
// transaction (group commit), from as many clients, then from one.
//   sync_store_bench [--database postgres|mariadb|mysql] [--changes N] [--changeset C] [--small-changeset S]
//                    [--together T] [--pull-rows R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "bench_database.h"
#include "bench_result.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/server/core/sync_store.h"
#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/server/dialects.h"

namespace crbridge {
namespace {

using Clock = std::chrono::steady_clock;
using testing::ServerKind;

constexpr const char* kColumns[] = {"a", "b", "c", "d"};

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

// Multi-row upserts of `per_statement` rows each into `table`, which holds
// rows 1..rows already (every row conflicts), each its own transaction.
// Titles name the run: upserts of identical values change nothing, and
// MariaDB logs nothing for them.
BenchResult Upserts(testing::TodoAppDatabase& app, const std::string& table, int64_t rows, int64_t per_statement) {
  BenchResult result{"limit: upserts, " + std::to_string(per_statement) + " rows a statement (rows)",
                     static_cast<size_t>(rows), 0, {}};
  const std::string conflict = app.kind() == ServerKind::kPostgres
                                   ? " ON CONFLICT (id) DO UPDATE SET a = excluded.a, b = excluded.b, c = excluded.c, "
                                     "d = excluded.d"
                                   : " ON DUPLICATE KEY UPDATE a = VALUES(a), b = VALUES(b), c = VALUES(c), d = VALUES(d)";
  const std::string title = "edit " + std::to_string(per_statement);
  const auto start = Clock::now();
  for (int64_t first = 1; first <= rows; first += per_statement) {
    const auto t = Clock::now();
    app.Sql("INSERT INTO " + table + " VALUES " + ItemValues(first, std::min(per_statement, rows - first + 1), title) +
            conflict);
    result.batch_ms.push_back(MillisecondsSince(t));
  }
  result.seconds = MillisecondsSince(start) / 1000;
  return result;
}

// Whose changesets a merge of several takes: a client's each, or all of
// one client's.
enum class Senders { kOnePerChangeset, kOneClient };

// Merges `changesets`, `together` at a time in one transaction
// (SyncStore::MergeTogether, as the sync server merges changesets that
// wait for the database); each changeset's client version is
// `*client_version`, grown by one.
BenchResult Merge(SyncStore& store, const std::vector<Changeset>& changesets, size_t together, Senders senders,
                  int64_t* client_version, const std::string& what) {
  BenchResult result{what, 0, 0, {}};
  const auto start = Clock::now();
  for (size_t first = 0; first < changesets.size(); first += together) {
    const auto t = Clock::now();
    std::vector<ClientMerge> merges;
    for (size_t i = first; i < std::min(changesets.size(), first + together); ++i) {
      if (merges.empty() || senders == Senders::kOnePerChangeset) {
        merges.emplace_back().sender.fill(static_cast<uint8_t>(0x31 + merges.size()));
      }
      merges.back().changesets.push_back(&changesets[i]);
      merges.back().end = PeerVersion{++*client_version, 0};
      result.items += changesets[i].size();
    }
    if (const Status s = store.MergeTogether(merges); !s.ok()) {
      std::fprintf(stderr, "merge failed: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    result.batch_ms.push_back(MillisecondsSince(t));
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

// Merges `changes` changes in changesets of `changeset` changes: inserts of
// new rows first..first + changes / 4 - 1 (whole rows), then single-column
// updates of random ones of them, then updates of which one in ten loses.
void MergeWorkloads(SyncStore& store, int64_t first, size_t changes, size_t changeset, size_t together,
                    Senders senders, std::mt19937& random, int64_t* client_version) {
  const auto rows = static_cast<int64_t>(changes / 4);
  const std::string sets =
      ", changesets of " + std::to_string(changeset) +
      (together == 1 ? ""
                     : ", " + std::to_string(together) +
                           (senders == Senders::kOneClient ? " of one client" : " of as many clients") + " together");
  Changeset inserts;
  for (int64_t row = first; row < first + rows; ++row) {
    for (size_t c = 0; c < 4; ++c) {
      inserts.push_back(Change{"items", Key(row), kColumns[c], ColumnValue(c, row), 1, row, std::nullopt, 1, static_cast<int64_t>(c)});
    }
  }
  PrintWorkload(Merge(store, Split(inserts, changeset), together, senders, client_version, "merge: row inserts" + sets));

  std::vector<int64_t> versions(static_cast<size_t>(rows) * 4, 1);
  const auto pick = [&](size_t* c) {
    *c = random() % 4;
    return static_cast<int64_t>(random() % static_cast<uint64_t>(rows));
  };
  Changeset updates;
  for (size_t i = 0; i < changes; ++i) {
    size_t c = 0;
    const int64_t row = pick(&c);
    updates.push_back(Change{"items", Key(first + row), kColumns[c], ColumnValue(c, row + 7),
                             ++versions[static_cast<size_t>(row) * 4 + c], 0, std::nullopt, 1, 0});
  }
  PrintWorkload(Merge(store, Split(updates, changeset), together, senders, client_version, "merge: 1-column updates" + sets));

  Changeset mixed;
  for (size_t i = 0; i < changes; ++i) {
    size_t c = 0;
    const int64_t row = pick(&c);
    int64_t& version = versions[static_cast<size_t>(row) * 4 + c];
    // One in ten loses: it carries an older col_version than the server's.
    const int64_t sent = random() % 10 == 0 ? version - 1 : ++version;
    mixed.push_back(Change{"items", Key(first + row), kColumns[c], ColumnValue(c, row + 13), sent, 0, std::nullopt, 1, 0});
  }
  PrintWorkload(Merge(store, Split(mixed, changeset), together, senders, client_version, "merge: updates, 10% losing" + sets));
}

// Postgres: replaces the table and its clock by `rows` rows of 4 columns,
// filled in bulk, as a large table to pull cold.
void FillClock(const std::string& url, const std::string& metadata, int64_t rows) {
  pqxx::connection conn(url);
  pqxx::work tx(conn);
  tx.exec0("TRUNCATE items, " + metadata + ".items__clock");
  tx.exec0("INSERT INTO items SELECT g, 'title ' || g, g, g + 0.5, g % 2 = 1 FROM generate_series(1, " +
           std::to_string(rows) + ") g");
  tx.exec0("INSERT INTO " + metadata + ".items__clock (id, __cl, __col_versions, __col_sites, __col_hashes, __lsn, "
           "__db_version, __seq, __room) SELECT g, 1, '{1,1,1,1}', '{0,0,0,0}', '{}', 0, 1000000 + g / 100, g % 100, "
           "NULL FROM generate_series(1, " + std::to_string(rows) + ") g");
  tx.commit();
  pqxx::nontransaction(conn).exec0("ANALYZE " + metadata + ".items__clock");
}

// Pulls every change after version 0, 1,000 rows a batch.
void Pull(SyncStore& store) {
  BenchResult pull{"pull: cold, 1,000 rows a batch", 0, 0, {}};
  size_t largest = 0;
  PullPosition through;
  const auto start = Clock::now();
  PullBatch batch;
  do {
    const auto t = Clock::now();
    if (const Status s = store.Pull(through, std::nullopt, std::nullopt, 1000, &batch); !s.ok()) {
      std::fprintf(stderr, "pull failed: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    pull.batch_ms.push_back(MillisecondsSince(t));
    pull.items += batch.changes.size();
    largest = std::max(largest, batch.changes.size());
    through = batch.through;
  } while (batch.more);
  pull.seconds = MillisecondsSince(start) / 1000;
  PrintWorkload(pull);
  std::printf("\nlargest pull batch: %zu changes\n", largest);
}

}  // namespace
}  // namespace crbridge

int main(int argc, char** argv) {
  using namespace crbridge;
  const BenchFlags flags(argc, argv, 1);
  const auto changes = static_cast<size_t>(flags.Number("--changes", 100000));
  const auto changeset = static_cast<size_t>(flags.Number("--changeset", 1000));
  const auto small_changeset = static_cast<size_t>(flags.Number("--small-changeset", 40));
  const auto together = static_cast<size_t>(flags.Number("--together", 25));
  const int64_t pull_rows = flags.Number("--pull-rows", 250000);
  const ServerKind kind = BenchServerKind(flags.Text("--database", "postgres"));
  const auto rows = static_cast<int64_t>(changes / 4);
  {
    BenchDatabase db(kind);
    std::unique_ptr<ShadowStore> writer;
    if (const Status s = OpenShadowStore(db.config, db.check.tables, ShadowStore::Marking::kCrbridge, &writer); !s.ok()) {
      std::fprintf(stderr, "cannot open the shadow store: %s\n", s.ToString().c_str());
      return 1;
    }
    SyncStore store(db.config, db.check.tables, *writer);

    std::printf("%zu changes in changesets of %zu and of %zu, items(id bigint, a text, b bigint, c double, d boolean), "
                "%s, release build; items: rows for limits, changes for merges and pulls\n\n",
                changes, changeset, small_changeset, ServerName(kind));
    PrintWorkloadHeader();
    if (kind == ServerKind::kPostgres) {
      db.app.Sql("CREATE TABLE copy_limit (LIKE items INCLUDING ALL)");
      PrintWorkload(CopyItems(db.app.url, "copy_limit", rows));
    } else {
      db.app.Sql("CREATE TABLE copy_limit LIKE items");
      db.app.Sql("INSERT INTO copy_limit VALUES " + ItemValues(1, rows, "title"));
    }
    PrintWorkload(Upserts(db.app, "copy_limit", rows, static_cast<int64_t>(changeset)));
    PrintWorkload(Upserts(db.app, "copy_limit", rows, static_cast<int64_t>(small_changeset / 4)));

    std::mt19937 random(5);
    int64_t client_version = 0;
    MergeWorkloads(store, 1, changes, changeset, 1, Senders::kOnePerChangeset, random, &client_version);
    MergeWorkloads(store, rows + 1, changes, small_changeset, 1, Senders::kOnePerChangeset, random, &client_version);
    MergeWorkloads(store, 2 * rows + 1, changes, small_changeset, together, Senders::kOnePerChangeset, random,
                   &client_version);
    MergeWorkloads(store, 3 * rows + 1, changes, small_changeset, together, Senders::kOneClient, random,
                   &client_version);

    if (kind == ServerKind::kPostgres) FillClock(db.app.url, db.app.metadata(), pull_rows);
    Pull(store);
  }
  crbridge::testing::TestDatabases::Get().TearDown();
  return 0;
}
