// capture_bench: capture of app writes (NewCapture: PostgresCapture or
// MysqlCapture) against a throwaway Postgres, MariaDB or MySQL (dbfixture), next to
// the limits measured in the same run:
//  - the initial snapshot of a table next to loading its rows (Postgres:
//    COPY; MariaDB and MySQL: multi-row INSERTs of 1,000 rows);
//  - app writes made while capture is stopped (multi-row and one-row
//    transactions of inserts, updates and deletes), caught up by capture,
//    next to reading and decoding the same change stream without recording
//    anything (Postgres: a second slot; MariaDB and MySQL: a replica connection from
//    capture's resume point) and next to the app's own write rate;
//  - the latency from an app's one-row commit to its clock, and the
//    snapshot's peak memory.
// Prints markdown tables for docs/benchmarks.md.
//   capture_bench [--database postgres|mariadb|mysql] [--rows N] [--write-rows M] [--single-rows S]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_database.h"
#include "bench_result.h"
#include "crbridge/connector/mysql/binlog_rows.h"
#include "crbridge/connector/mysql/binlog_stream.h"
#include "crbridge/connector/daemon/capture_factory.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/connector/postgres/pgoutput_decoder.h"
#include "crbridge/connector/postgres/replication_connection.h"
#include "crbridge/connector/ops/structured_log.h"
#include "process_stats.h"

namespace crbridge {
using namespace crbridge::mysql;  // the dialect under test
using namespace crbridge::postgres;  // the dialect under test
namespace {

using Clock = std::chrono::steady_clock;
using testing::ServerKind;

constexpr int64_t kRowsPerStatement = 1000;

void WaitFor(const std::function<bool()>& done) {
  while (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

void Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

// Reads the database's change stream without recording anything: what
// capture reads for the app writes made since the last call, at the rate
// capture cannot beat.
class StreamReader {
 public:
  virtual ~StreamReader() = default;
  // Called with capture stopped, before the app writes of a workload.
  virtual void BeforeWrites() = 0;
  // Reads and decodes the stream up to the database's current end.
  virtual BenchResult ReadWrites(const std::string& what, size_t rows) = 0;
};

// Postgres: a slot streamed with capture's publication and decoded by
// PgOutputDecoder; either a copy of capture's slot or a fresh one, made
// before the writes. A copy starts where capture's slot does: the
// walsender decodes again the WAL from the slot's restart_lsn (up to the
// last running-transactions record, which a quiet server logs every 15 s)
// and skips what was confirmed, for capture and for the copy alike. A fresh
// slot starts at the writes: it shows what reading them alone costs.
class PgOutputReader : public StreamReader {
 public:
  // A copy of `capture_slot`, or a fresh slot without it.
  PgOutputReader(testing::TodoAppDatabase& app, std::optional<std::string> capture_slot)
      : app_(app), capture_slot_(std::move(capture_slot)) {}

  void BeforeWrites() override {
    slot_ = "decode_only_" + std::to_string(++slots_) + (capture_slot_ ? "_copy" : "_fresh");
    if (capture_slot_) {
      app_.One("SELECT slot_name FROM pg_copy_logical_replication_slot('" + *capture_slot_ + "', '" + slot_ + "')");
      return;
    }
    std::unique_ptr<ReplicationConnection> connection;
    CreatedSlot created;
    if (const Status s = ReplicationConnection::Open(app_.url, std::stop_token(), &connection); !s.ok()) Fail("open", s);
    if (const Status s = connection->CreateSlot(slot_, &created); !s.ok()) Fail("create slot", s);
  }

  BenchResult ReadWrites(const std::string& what, size_t rows) override {
    const auto target = static_cast<uint64_t>(std::stoll(app_.One("SELECT pg_current_wal_lsn() - '0/0'")));
    BenchResult result{what, rows, 0, {}};
    std::unique_ptr<ReplicationConnection> stream;
    const auto start = Clock::now();
    if (const Status s = ReplicationConnection::Open(app_.url, std::stop_token(), &stream); !s.ok()) Fail("open", s);
    if (const Status s = stream->StartReplication(slot_, 0, "crbridge", 1); !s.ok()) Fail("stream " + slot_, s);
    PgOutputDecoder decoder;
    size_t decoded = 0;
    for (bool done = false; !done;) {
      std::string data;
      bool got = false;
      if (!stream->ReadCopyData(std::chrono::seconds(5), &data, &got).ok() || !got) break;
      CopyDataMessage message;
      if (!DecodeCopyData(data, &message).ok() || !std::holds_alternative<XLogData>(message)) continue;
      PgMessage message_decoded;
      if (const Status s = decoder.Decode(std::get<XLogData>(message).payload, &message_decoded); !s.ok()) Fail("decode", s);
      if (std::holds_alternative<PgInsert>(message_decoded) || std::holds_alternative<PgUpdate>(message_decoded) ||
          std::holds_alternative<PgDelete>(message_decoded)) {
        ++decoded;
      }
      if (const auto* commit = std::get_if<PgCommit>(&message_decoded)) done = commit->end_lsn >= target;
    }
    result.seconds = MillisecondsSince(start) / 1000;
    stream.reset();
    // The server lets go of the slot when its walsender has exited, a
    // moment after the connection closes: DROP_REPLICATION_SLOT ... WAIT
    // waits for that (pg_drop_replication_slot fails with "is active").
    std::unique_ptr<ReplicationConnection> dropper;
    if (const Status s = ReplicationConnection::Open(app_.url, std::stop_token(), &dropper); !s.ok()) Fail("open", s);
    if (const Status s = dropper->DropSlot(slot_); !s.ok()) Fail("drop " + slot_, s);
    if (decoded != rows) std::fprintf(stderr, "%s: decoded %zu rows of %zu\n", what.c_str(), decoded, rows);
    return result;
  }

 private:
  testing::TodoAppDatabase& app_;
  const std::optional<std::string> capture_slot_;
  std::string slot_;
  int slots_ = 0;
};

// MariaDB and MySQL: a replica connection (BinlogStream) from where capture resumes
// (the GTID state it stored) to the server's current binlog position,
// decoding the rows of every ROWS event (DecodeBinlogRows) with its table
// map. Capture reads the same range, crbridge's clock writes for the
// previous app writes included.
class BinlogReader : public StreamReader {
 public:
  explicit BinlogReader(testing::TodoAppDatabase& app) : app_(app) {}

  void BeforeWrites() override { resume_ = app_.One("SELECT resume FROM " + app_.metadata() + ".capture"); }

  BenchResult ReadWrites(const std::string& what, size_t rows) override {
    const auto status = app_.Rows(testing::BinlogStatusSql(app_.kind()));
    const std::string file = *status.at(0).at(0);
    const uint64_t end = std::stoull(*status.at(0).at(1));
    BenchResult result{what, rows, 0, {}};
    BinlogStreamOptions options;
    options.server_id = 4243;
    options.start = BinlogStart::AtGtid(resume_);
    const auto start = Clock::now();
    std::unique_ptr<BinlogStream> stream;
    if (const Status s = BinlogStream::Open(app_.url, options, std::stop_token(), &stream); !s.ok()) Fail("open", s);
    std::map<uint64_t, BinlogTableMap> tables;
    std::vector<BinlogRowChange> changes;
    size_t decoded = 0;
    while (stream->file_name() != file || stream->position() < end) {
      BinlogEvent event;
      if (const Status s = stream->Next(&event); !s.ok()) Fail("read binlog", s);
      if (auto* table = std::get_if<BinlogTableMap>(&event.data)) {
        tables[table->table_id] = std::move(*table);
      } else if (const auto* rows_event = std::get_if<BinlogRowsEvent>(&event.data)) {
        changes.clear();
        if (const Status s = DecodeBinlogRows(tables[rows_event->table_id], *rows_event, &changes); !s.ok()) {
          Fail("decode rows", s);
        }
        decoded += changes.size();
      }
    }
    result.seconds = MillisecondsSince(start) / 1000;
    std::fprintf(stderr, "%s: %zu binlog rows decoded for %zu app rows\n", what.c_str(), decoded, rows);
    return result;
  }

 private:
  testing::TodoAppDatabase& app_;
  std::string resume_;
};

// Runs capture until it has recorded `rows` more rows; the time from its
// start (connecting and resuming included), and in `cpu_seconds` the CPU
// this process (capture) used meanwhile. Then, untimed, one app write
// to row `marker` and its recording: capture's stored position moves past
// its own clock writes, so that the next workload's stream holds only its
// app writes (the binlog holds crbridge's writes too).
BenchResult CatchUp(BenchDatabase& db, Metrics& metrics, const std::string& what, size_t rows, int64_t marker,
                    double* cpu_seconds) {
  const double before = metrics.captured_rows().Value();
  const double cpu_before = CpuSeconds(getpid());
  BenchResult result{what, rows, 0, {}};
  const auto start = Clock::now();
  std::unique_ptr<Capture> capture = NewCapture(db.config, db.check.tables, CaptureOptions{}, metrics);
  std::atomic<bool> ended{false};
  Status outcome;
  std::jthread running([&](std::stop_token stop) {
    outcome = capture->Run(stop);
    ended = true;
  });
  const auto recorded = [&](size_t count) {
    WaitFor([&] {
      if (ended) Fail("capture ended", outcome);
      return metrics.captured_rows().Value() >= before + static_cast<double>(count);
    });
  };
  recorded(rows);
  result.seconds = MillisecondsSince(start) / 1000;
  *cpu_seconds = CpuSeconds(getpid()) - cpu_before;
  db.app.Sql("UPDATE items SET b = b + 1 WHERE id = " + std::to_string(marker));
  recorded(rows + 1);
  return result;
}

// One kind of app write, `rows` of them from id `first` on, in
// transactions of kRowsPerStatement rows or of one row.
struct Workload {
  std::string name;
  bool multi_row;
  std::function<std::string(int64_t first, int64_t rows)> sql;
};

std::vector<Workload> Workloads() {
  const auto insert = [](int64_t first, int64_t rows) {
    return "INSERT INTO items (id, a, b, c, d) VALUES " + ItemValues(first, rows, "title");
  };
  const auto update = [](int64_t first, int64_t rows) {
    return "UPDATE items SET b = b + 1, c = c + 1 WHERE id BETWEEN " + std::to_string(first) + " AND " +
           std::to_string(first + rows - 1);
  };
  const auto remove = [](int64_t first, int64_t rows) {
    return "DELETE FROM items WHERE id BETWEEN " + std::to_string(first) + " AND " + std::to_string(first + rows - 1);
  };
  return {{"inserts, 1,000 rows a transaction", true, insert},  {"updates, 1,000 rows a transaction", true, update},
          {"deletes, 1,000 rows a transaction", true, remove},  {"inserts, one row a transaction", false, insert},
          {"updates, one row a transaction", false, update},    {"deletes, one row a transaction", false, remove}};
}

BenchResult Write(testing::TodoAppDatabase& app, const Workload& workload, int64_t first, int64_t rows) {
  BenchResult result{"", static_cast<size_t>(rows), 0, {}};
  const int64_t step = workload.multi_row ? kRowsPerStatement : 1;
  const auto start = Clock::now();
  for (int64_t id = first; id < first + rows; id += step) app.Sql(workload.sql(id, std::min(step, first + rows - id)));
  result.seconds = MillisecondsSince(start) / 1000;
  return result;
}

// Loads `rows` rows into the empty table, the fastest way the database
// offers: the snapshot's limit.
BenchResult Load(BenchDatabase& db, int64_t rows) {
  if (testing::IsMysqlFamily(db.kind())) {
    BenchResult insert = Write(db.app, Workloads().front(), 1, rows);
    insert.what = "limit: multi-row INSERTs (rows)";
    return insert;
  }
  return CopyItems(db.app.url, "items", rows);
}

}  // namespace
}  // namespace crbridge

int main(int argc, char** argv) {
  using namespace crbridge;
  const BenchFlags flags(argc, argv, 1);
  const int64_t rows = flags.Number("--rows", 1000000);
  const int64_t write_rows = flags.Number("--write-rows", 200000);
  const int64_t single_rows = flags.Number("--single-rows", 20000);
  log::SetLevel(LogLevel::kWarn);
  const ServerKind kind = BenchServerKind(flags.Text("--database", "postgres"));
  {
    BenchDatabase db(kind);
    std::printf("items(id bigint, a text, b bigint, c double, d boolean), %s, release build\n\n", ServerName(kind));
    PrintWorkloadHeader();
    PrintWorkload(Load(db, rows));

    std::unique_ptr<StreamReader> reader;
    std::unique_ptr<StreamReader> fresh_reader;  // Postgres: the writes alone
    if (kind == ServerKind::kPostgres) {
      reader = std::make_unique<PgOutputReader>(db.app, db.config.source.slot);
      fresh_reader = std::make_unique<PgOutputReader>(db.app, std::nullopt);
    } else {
      reader = std::make_unique<BinlogReader>(db.app);
    }
    Metrics metrics;
    const double rss_before = PeakRssMb(getpid());
    {
      BenchResult snapshot{"capture: initial snapshot (rows)", static_cast<size_t>(rows), 0, {}};
      const auto start = Clock::now();
      auto capture = NewCapture(db.config, db.check.tables, CaptureOptions{}, metrics);
      std::jthread running([&](std::stop_token stop) { capture->Run(stop); });
      WaitFor([&] { return metrics.SnapshotRowsDone("items").Value() >= static_cast<double>(rows); });
      snapshot.seconds = MillisecondsSince(start) / 1000;
      PrintWorkload(snapshot);
    }
    const double snapshot_rss = PeakRssMb(getpid()) - rss_before;

    // The latency of one-row commits, on rows the workloads below leave alone.
    BenchResult latency{"capture: app commit to clock, one row (commits)", 300, 0, {}};
    {
      auto capture = NewCapture(db.config, db.check.tables, CaptureOptions{}, metrics);
      std::jthread running([&](std::stop_token stop) { capture->Run(stop); });
      const auto start = Clock::now();
      for (int64_t id = 1; id <= 300; ++id) {
        const auto t = Clock::now();
        db.app.Sql("UPDATE items SET b = b + 1 WHERE id = " + std::to_string(id));
        WaitFor([&] { return db.app.ColumnVersion("items", std::to_string(id), 2) == "2"; });
        latency.batch_ms.push_back(MillisecondsSince(t));
      }
      latency.seconds = MillisecondsSince(start) / 1000;
    }
    PrintWorkload(latency);
    std::printf("\nsnapshot of %lld rows: peak memory grew by %.1f MB\n\n", static_cast<long long>(rows), snapshot_rss);

    std::printf("app writes made while capture was stopped, then caught up; read: the same change stream read and "
                "decoded without recording (%s), same run\n\n",
                kind == ServerKind::kPostgres
                    ? "a copy of capture's slot, pgoutput; fresh slot: one made before the writes, which starts at them"
                    : "BinlogStream + DecodeBinlogRows");
    std::printf("| %-36s | %7s | %11s | %11s | %17s | %14s | %14s | %13s |\n", "app writes", "rows", "app rows/s",
                "read rows/s", "fresh slot rows/s", "capture rows/s", "capture / read", "capture CPU %");
    std::printf("|--------------------------------------|---------|-------------|-------------|-------------------|"
                "----------------|----------------|---------------|\n");
    int64_t first = rows + 1;
    for (const Workload& workload : Workloads()) {
      const int64_t count = workload.multi_row ? write_rows : single_rows;
      reader->BeforeWrites();
      if (fresh_reader) fresh_reader->BeforeWrites();
      const BenchResult written = Write(db.app, workload, first, count);
      const BenchResult read = reader->ReadWrites(workload.name, static_cast<size_t>(count));
      std::string fresh = "-";
      if (fresh_reader) {
        const BenchResult fresh_read = fresh_reader->ReadWrites(workload.name, static_cast<size_t>(count));
        fresh = std::to_string(std::lround(fresh_read.PerSecond()));
      }
      double cpu_seconds = 0;
      const BenchResult captured = CatchUp(db, metrics, workload.name, static_cast<size_t>(count), rows, &cpu_seconds);
      std::printf("| %-36s | %7lld | %11.0f | %11.0f | %17s | %14.0f | %14.2f | %13.0f |\n", workload.name.c_str(),
                  static_cast<long long>(count), written.PerSecond(), read.PerSecond(), fresh.c_str(),
                  captured.PerSecond(), captured.PerSecond() / read.PerSecond(), 100 * cpu_seconds / captured.seconds);
      std::fflush(stdout);
      // Deletes end a kind of transaction: the next inserts take new ids.
      if (workload.name.starts_with("deletes")) first += count;
    }
  }
  crbridge::testing::TestDatabases::Get().TearDown();
  return 0;
}
