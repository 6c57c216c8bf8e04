// pg_capture_bench: Postgres capture against a throwaway Postgres
// (dbfixture), next to the limits measured in the same run: the initial
// snapshot of a table next to COPY of the same rows, and catching up on
// streamed app writes next to reading and decoding the same WAL from a
// slot without recording anything. Also the latency from an app commit to
// its clock, and the snapshot's peak memory. Prints a markdown table for
// docs/benchmarks.md.
//   pg_capture_bench [--rows N] [--stream-rows M]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "bench_result.h"
#include "crbridge/connector/metrics.h"
#include "crbridge/connector/pgoutput_decoder.h"
#include "crbridge/connector/postgres_capture.h"
#include "crbridge/connector/replication_connection.h"
#include "crbridge/connector/structured_log.h"
#include "crbridge/server/config_check.h"
#include "test_databases.h"

namespace crbridge {
namespace {

using Clock = std::chrono::steady_clock;
using testing::DatabaseServer;
using testing::ServerKind;

void Print(const BenchResult& r) {
  std::printf("| %-46s | %9zu | %11.0f | %8.2f | %8.2f |\n", r.what.c_str(), r.items, r.PerSecond(),
              Percentile(r.batch_ms, 0.5), Percentile(r.batch_ms, 0.99));
}

// The process's peak resident memory so far, in MB.
double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  }
  return 0;
}

int64_t QueryInt(pqxx::connection& conn, const std::string& sql) {
  return pqxx::nontransaction(conn).exec1(sql)[0].as<int64_t>();
}

void WaitFor(const std::function<bool()>& done) {
  while (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

// Reads and decodes the slot's stream up to `target`, recording nothing:
// the rate capture cannot beat.
BenchResult DecodeOnly(const std::string& url, const std::string& slot, uint64_t target) {
  BenchResult result{"limit: read and decode pgoutput (rows)", 0, 0, {}};
  std::unique_ptr<ReplicationConnection> stream;
  if (!ReplicationConnection::Open(url, std::stop_token(), &stream).ok() ||
      !stream->StartReplication(slot, 0, "crbridge", 1).ok()) {
    std::fprintf(stderr, "cannot stream from %s\n", slot.c_str());
    std::exit(1);
  }
  PgOutputDecoder decoder;
  const auto start = Clock::now();
  for (bool done = false; !done;) {
    std::string data;
    bool got = false;
    if (!stream->ReadCopyData(std::chrono::seconds(5), &data, &got).ok() || !got) break;
    CopyDataMessage message;
    if (!DecodeCopyData(data, &message).ok() || !std::holds_alternative<XLogData>(message)) continue;
    PgMessage decoded;
    if (!decoder.Decode(std::get<XLogData>(message).payload, &decoded).ok()) std::exit(1);
    if (std::holds_alternative<PgUpdate>(decoded) || std::holds_alternative<PgInsert>(decoded)) ++result.items;
    if (const auto* commit = std::get_if<PgCommit>(&decoded)) done = commit->end_lsn >= target;
  }
  result.seconds = MillisecondsSince(start) / 1000;
  return result;
}

}  // namespace
}  // namespace crbridge

int main(int argc, char** argv) {
  using namespace crbridge;
  int64_t rows = 1000000;
  int64_t stream_rows = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows") rows = std::stoll(argv[i + 1]);
    if (flag == "--stream-rows") stream_rows = std::stoll(argv[i + 1]);
  }
  log::SetLevel(LogLevel::kWarn);
  DatabaseServer postgres(ServerKind::kPostgres);
  pqxx::connection conn(postgres.url());
  pqxx::nontransaction(conn).exec0("CREATE TABLE items (id bigint PRIMARY KEY, a text, b bigint, c double precision, d boolean)");

  std::printf("items(id bigint, a text, b bigint, c double, d boolean), PostgreSQL 15, release build\n\n");
  std::printf("| %-46s | %9s | %11s | %8s | %8s |\n", "workload", "items", "items/s", "p50 ms", "p99 ms");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(48, '-').c_str(), std::string(11, '-').c_str(),
              std::string(13, '-').c_str(), std::string(10, '-').c_str(), std::string(10, '-').c_str());

  // The snapshot's source, loaded by COPY: the limit of getting rows in.
  {
    BenchResult copy{"limit: COPY (rows)", static_cast<size_t>(rows), 0, {}};
    const auto start = Clock::now();
    pqxx::work tx(conn);
    pqxx::stream_to out(tx, "items", std::vector<std::string>{"id", "a", "b", "c", "d"});
    for (int64_t i = 1; i <= rows; ++i) {
      out << std::make_tuple(i, "title " + std::to_string(i), i, static_cast<double>(i) + 0.5, i % 2 == 1);
    }
    out.complete();
    tx.commit();
    copy.seconds = MillisecondsSince(start) / 1000;
    Print(copy);
  }

  Config config;
  if (!ParseConfig("source:\n  type: postgres\n  url: postgresql://x\n  slot: bench\nschema_name: bench\ntables:\n"
                   "  - name: items\n",
                   "bench.yaml", &config)
           .ok()) {
    return 1;
  }
  config.source.url = postgres.url();
  ConfigCheck check;
  auto database = NewSourceDatabase(config.source);
  if (!CheckConfig(config, *database, &check).ok() || !check.problems.empty()) return 1;

  Metrics metrics;
  const double rss_before = PeakRssMb();
  double snapshot_rss = 0;
  {
    BenchResult snapshot{"capture: initial snapshot (rows)", static_cast<size_t>(rows), 0, {}};
    const auto start = Clock::now();
    PostgresCapture capture(config, check.tables, CaptureOptions{}, metrics);
    std::jthread running([&](std::stop_token stop) { capture.Run(stop); });
    WaitFor([&] { return metrics.SnapshotRowsDone("items").Value() >= static_cast<double>(rows); });
    snapshot.seconds = MillisecondsSince(start) / 1000;
    snapshot_rss = PeakRssMb() - rss_before;
    Print(snapshot);
  }

  // App writes made while capture is stopped: capture then catches up on
  // them, and a second slot reads the same WAL without recording.
  {
    std::unique_ptr<ReplicationConnection> raw;
    CreatedSlot created;
    if (!ReplicationConnection::Open(postgres.url(), std::stop_token(), &raw).ok() ||
        !raw->CreateSlot("decode_only", &created).ok()) {
      return 1;
    }
  }
  for (int64_t first = 1; first <= stream_rows; first += 1000) {
    pqxx::work tx(conn);
    tx.exec0("UPDATE items SET a = a || '+', b = b + 1 WHERE id BETWEEN " + std::to_string(first) + " AND " +
             std::to_string(std::min(first + 999, stream_rows)));
    tx.commit();
  }
  const auto target = static_cast<uint64_t>(QueryInt(conn, "SELECT pg_current_wal_lsn() - '0/0'"));
  Print(DecodeOnly(postgres.url(), "decode_only", target));

  BenchResult catch_up{"capture: catch up on updates (rows)", static_cast<size_t>(stream_rows), 0, {}};
  BenchResult latency{"capture: app commit to clock, one row (commits)", 300, 0, {}};
  {
    const auto start = Clock::now();
    PostgresCapture capture(config, check.tables, CaptureOptions{}, metrics);
    std::jthread running([&](std::stop_token stop) { capture.Run(stop); });
    pqxx::connection watcher(postgres.url());
    WaitFor([&] {
      return static_cast<uint64_t>(QueryInt(watcher, "SELECT lsn FROM crbridge.capture")) + 4096 >= target &&
             QueryInt(watcher, "SELECT count(*) FROM crbridge.items__clock WHERE __col_versions[2] = 2") == stream_rows;
    });
    catch_up.seconds = MillisecondsSince(start) / 1000;

    const auto latency_start = Clock::now();
    for (int i = 0; i < 300; ++i) {
      const int64_t id = stream_rows + 1 + i;
      const auto t = Clock::now();
      pqxx::nontransaction(conn).exec0("UPDATE items SET b = b + 1 WHERE id = " + std::to_string(id));
      WaitFor([&] {
        return QueryInt(watcher, "SELECT __col_versions[2] FROM crbridge.items__clock WHERE id = " + std::to_string(id)) == 2;
      });
      latency.batch_ms.push_back(MillisecondsSince(t));
    }
    latency.seconds = MillisecondsSince(latency_start) / 1000;
  }
  Print(catch_up);
  Print(latency);
  std::printf("\nsnapshot of %lld rows: peak memory grew by %.1f MB\n", static_cast<long long>(rows), snapshot_rss);
  return 0;
}
