// crr_merge_bench: merges N incoming changes (whole-row inserts, then
// single-column updates) into crbridge's native CRR layer and, in the same
// run, into the real cr-sqlite (crsqlite-wasm under Node.js), next to the
// raw SQLite insert rate as the limit (and the raw rate of the same
// updates on a plain table, the updates' own limit). Prints a markdown table for
// docs/benchmarks.md.
//   crr_merge_bench [--changes N] [--batch B] [--native-only 1]
// (--native-only skips cr-sqlite, for profiling the native layer alone).
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_result.h"
#include "crbridge/sqlite/crr.h"
#include "crbridge/sqlite/packed_pk.h"
#include "peers/crsqlite_peer.h"
#include "processes/subprocess.h"

namespace crbridge {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kSchema = "CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a, b, c, d)";
constexpr const char* kColumns[] = {"a", "b", "c", "d"};

using Result = BenchResult;

Blob Pk(int64_t id) {
  Blob pk;
  const Value v = Value::Integer(id);
  if (!EncodePackedPk(std::span(&v, 1), &pk).ok()) throw std::runtime_error("pack");
  return pk;
}

SiteId RemoteSite() {
  SiteId site;
  site.fill(0x5a);
  return site;
}

// Whole-row inserts: changes/4 rows of four columns, as a peer sends them.
Changeset Inserts(size_t changes) {
  Changeset out;
  for (size_t i = 0; i < changes; ++i) {
    const auto row = static_cast<int64_t>(i / 4 + 1);
    const Value value =
        i % 2 == 0 ? Value::Text("title " + std::to_string(i)) : Value::Integer(static_cast<int64_t>(i));
    out.push_back({"t", Pk(row), kColumns[i % 4], value, 1, row, RemoteSite(), 1, static_cast<int64_t>(i % 4)});
  }
  return out;
}

// Single-column updates over the rows of Inserts(rows * 4): each wins with
// the next col_version of its column.
Changeset Updates(size_t changes, size_t rows) {
  Changeset out;
  std::vector<int64_t> versions(rows * 4, 1);
  for (size_t i = 0; i < changes; ++i) {
    const size_t row = (i * 7919) % rows;
    const size_t column = (i / rows) % 4;
    const int64_t version = ++versions[row * 4 + column];
    out.push_back({"t", Pk(static_cast<int64_t>(row + 1)), kColumns[column], Value::Text("edit " + std::to_string(i)),
                   version, static_cast<int64_t>(rows + i + 1), RemoteSite(), 1, 0});
  }
  return out;
}

std::vector<Changeset> Batches(const Changeset& changes, size_t batch) {
  std::vector<Changeset> out;
  for (size_t i = 0; i < changes.size(); i += batch) {
    out.emplace_back(changes.begin() + static_cast<ptrdiff_t>(i),
                     changes.begin() + static_cast<ptrdiff_t>(std::min(changes.size(), i + batch)));
  }
  return out;
}

Result Native(const std::string& what, const Changeset& preload, const std::vector<Changeset>& batches) {
  std::unique_ptr<CrrDatabase> db;
  if (!CrrDatabase::Open(":memory:", &db).ok() || !db->Exec(kSchema).ok() || !db->MakeCrr("t").ok() ||
      !db->ApplyChanges(preload).ok()) {
    throw std::runtime_error("native setup failed");
  }
  Result result{what, 0, 0, {}};
  const auto started = Clock::now();
  for (const Changeset& batch : batches) {
    const auto t = Clock::now();
    if (Status s = db->ApplyChanges(batch); !s.ok()) throw std::runtime_error(s.ToString());
    result.batch_ms.push_back(MillisecondsSince(t));
    result.items += batch.size();
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

nlohmann::json ToJson(const Changeset& changes) {
  nlohmann::json list = nlohmann::json::array();
  for (const Change& c : changes) list.push_back(testing::ChangeToJson(c));
  return list;
}

Result CrSqliteWasm(const std::string& what, const Changeset& preload, const std::vector<Changeset>& batches) {
  nlohmann::json workload = {{"schema", std::string(kSchema) + "; SELECT crsql_as_crr('t');"},
                             {"preload", ToJson(preload)},
                             {"batches", nlohmann::json::array()}};
  for (const Changeset& batch : batches) workload["batches"].push_back(ToJson(batch));
  const std::string path = std::filesystem::temp_directory_path() / "crbridge_merge_bench.json";
  std::ofstream(path) << workload.dump();
  testing::Subprocess node({"node", std::string(CRBRIDGE_INTEROP_DIR) + "/merge_bench.mjs", path},
                           {.pipe_stdin = false, .separate_stderr = true});
  const nlohmann::json reply = nlohmann::json::parse(node.ReadLine(std::chrono::minutes(10)));
  std::filesystem::remove(path);
  return Result{what, reply["changes"].get<size_t>(), reply["seconds"].get<double>(),
                reply["batch_ms"].get<std::vector<double>>()};
}

// The limit: one plain row written per change, prepared statement, same
// batches, a connection opened as CrrDatabase opens its own.
// `batches` transactions on `db`, timed each and in all; `write(b)`
// writes batch b's items inside its transaction and returns how many.
Result TimedTransactions(sqlite3* db, const std::string& name, size_t batches,
                         const std::function<size_t(size_t b)>& write) {
  Result result{name, 0, 0, {}};
  const auto started = Clock::now();
  for (size_t b = 0; b < batches; ++b) {
    const auto t = Clock::now();
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    result.items += write(b);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    result.batch_ms.push_back(MillisecondsSince(t));
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

Result RawSqliteInserts(size_t rows, size_t batch) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite3_exec(db, "CREATE TABLE plain (id INTEGER PRIMARY KEY, value)", nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO plain VALUES (?, ?)", -1, &insert, nullptr);
  const Result result = TimedTransactions(db, "raw SQLite insert (limit)", (rows + batch - 1) / batch, [&](size_t b) {
    const size_t end = std::min(rows, (b + 1) * batch);
    for (size_t j = b * batch; j < end; ++j) {
      sqlite3_bind_int64(insert, 1, static_cast<int64_t>(j + 1));
      const std::string value = "title " + std::to_string(j);
      sqlite3_bind_text(insert, 2, value.c_str(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
      sqlite3_step(insert);
      sqlite3_reset(insert);
    }
    return end - b * batch;
  });
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return result;
}

// The second limit: the same single-column updates on a plain table of
// as many rows, one prepared UPDATE per change, same batches.
Result RawSqliteUpdates(size_t rows, const std::vector<Changeset>& batches) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, 'title', 1, 'title', 3)", -1, &insert, nullptr);
  for (size_t row = 1; row <= rows; ++row) {
    sqlite3_bind_int64(insert, 1, static_cast<int64_t>(row));
    sqlite3_step(insert);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  std::map<std::string, sqlite3_stmt*> updates;
  for (const char* column : kColumns) {
    const std::string sql = std::string("UPDATE t SET ") + column + " = ? WHERE id = ?";
    sqlite3_prepare_v2(db, sql.c_str(), -1, &updates[column], nullptr);
  }
  const Result result =
      TimedTransactions(db, "raw SQLite single-column update (limit 2)", batches.size(), [&](size_t b) {
        for (const Change& change : batches[b]) {
          std::vector<Value> pk;
          if (!DecodePackedPk(change.pk, &pk).ok()) throw std::runtime_error("unpack");
          sqlite3_stmt* update = updates.at(change.cid);
          sqlite3_bind_text(update, 1, change.val.text().data(), static_cast<int>(change.val.text().size()),
                            SQLITE_TRANSIENT);
          sqlite3_bind_int64(update, 2, pk[0].integer());
          sqlite3_step(update);
          sqlite3_reset(update);
        }
        return batches[b].size();
      });
  for (const auto& [column, update] : updates) sqlite3_finalize(update);
  sqlite3_close(db);
  return result;
}

void EnsureNodePackages() {
  if (std::filesystem::exists(std::string(CRBRIDGE_INTEROP_DIR) + "/node_modules")) return;
  const std::string command =
      "cd '" + std::string(CRBRIDGE_INTEROP_DIR) + "' && npm ci --no-audit --no-fund --loglevel=error";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("npm ci failed in " CRBRIDGE_INTEROP_DIR);
}

void Print(const Result& r) {
  std::printf("| %-44s | %9zu | %12.0f | %8.2f | %8.2f | %8.2f |\n", r.what.c_str(), r.items, r.PerSecond(),
              Percentile(r.batch_ms, 0.5), Percentile(r.batch_ms, 0.99), Percentile(r.batch_ms, 1.0));
}

}  // namespace
}  // namespace crbridge

int main(int argc, char** argv) {
  size_t changes = 100000;
  size_t batch = 1000;
  bool native_only = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--changes") changes = std::stoul(argv[i + 1]);
    if (flag == "--batch") batch = std::stoul(argv[i + 1]);
    if (flag == "--native-only") native_only = std::string(argv[i + 1]) != "0";
  }
  using namespace crbridge;
  try {
    if (!native_only) EnsureNodePackages();
    const Changeset inserts = Inserts(changes);
    const size_t rows = changes / 4;
    const Changeset updates = Updates(changes, rows);
    const auto insert_batches = Batches(inserts, batch);
    const auto update_batches = Batches(updates, batch);
    std::printf("%zu changes, %zu per transaction, :memory: databases, %s build\n\n", changes, batch,
#ifdef NDEBUG
                "optimized"
#else
                "debug (figures are not representative)"
#endif
    );
    std::printf("| %-44s | %9s | %12s | %8s | %8s | %8s |\n", "workload", "changes", "changes/s", "p50 ms", "p99 ms",
                "max ms");
    std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(46, '-').c_str(), std::string(11, '-').c_str(),
                std::string(14, '-').c_str(), std::string(10, '-').c_str(), std::string(10, '-').c_str(),
                std::string(10, '-').c_str());
    Print(RawSqliteInserts(changes, batch));
    Print(Native("native: whole-row inserts", {}, insert_batches));
    if (!native_only) Print(CrSqliteWasm("cr-sqlite wasm: whole-row inserts", {}, insert_batches));
    Print(RawSqliteUpdates(rows, update_batches));
    Print(Native("native: single-column updates", inserts, update_batches));
    if (!native_only) Print(CrSqliteWasm("cr-sqlite wasm: single-column updates", inserts, update_batches));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crr_merge_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
