// kafka_bench: events/s published end to end (an app commit captured,
// recorded with its change event, and acknowledged by Kafka) next to
// capture without Kafka, in the same run. The release `crbridge run`
// serves a throwaway Postgres (dbfixture) and publishes to librdkafka's
// mock cluster (three brokers on localhost, in this process). The app
// inserts rows in transactions of a thousand while crbridge streams; each
// workload gets a database and crbridge of its own. Prints a markdown table
// for docs/benchmarks.md.
//   kafka_bench CRBRIDGE_BINARY [--rows N]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "kafka/mock_kafka.h"
#include "process_stats.h"
#include "processes/running_daemon.h"
#include "databases/test_databases.h"

namespace crbridge {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRowsPerTransaction = 1000;

struct Run {
  double recorded_seconds = 0;   // until capture recorded every row
  double published_seconds = 0;  // until Kafka acknowledged every event (with Kafka)
  double cpu_seconds = 0;
  double peak_mb = 0;
};

// Inserts `rows` todos while crbridge streams, and times capture (and Kafka).
Run Measure(const std::string& binary, const crbridge::testing::DatabaseServer& postgres, int ordinal, int rows,
            const std::optional<std::string>& brokers) {
  const std::string url = crbridge::testing::CreateDatabase(postgres, ordinal, "todo_app.postgres.sql");
  pqxx::connection app(url);
  pqxx::nontransaction(app).exec0("INSERT INTO todo_lists (id) VALUES ('l1')");
  const std::string config =
      crbridge::testing::PostgresConfigWithSlot(CRBRIDGE_SOURCE_DIR, "kafka_bench_" + std::to_string(ordinal));
  if (brokers) std::ofstream(config, std::ios::app) << "\nkafka:\n  brokers: " << *brokers << "\n  topic: bench\n";
  crbridge::testing::RunningDaemon daemon(binary, config, url);
  if (daemon.WaitForStatus("/readyz", 200).status != 200) throw std::runtime_error("crbridge did not get ready");
  // The list of the snapshot, published before the measured rows.
  const auto metric = [&](const std::string& series) { return MetricValue(daemon.Get("/metrics").body, series); };
  while (brokers && metric("crbridge_kafka_events_published_total") < 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double recorded_before = metric("crbridge_capture_rows_total");
  const double cpu_before = CpuSeconds(daemon.process().pid());

  const auto start = Clock::now();
  for (int first = 0; first < rows; first += kRowsPerTransaction) {
    pqxx::nontransaction(app).exec0("INSERT INTO todos (id, list_id, title) SELECT 'r' || i, 'l1', 'title ' || i "
                                    "FROM generate_series(" + std::to_string(first) + ", " +
                                    std::to_string(first + kRowsPerTransaction - 1) + ") i");
  }
  Run run;
  const auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  while (run.recorded_seconds == 0 || (brokers && run.published_seconds == 0)) {
    const std::string body = daemon.Get("/metrics").body;
    if (run.recorded_seconds == 0 && MetricValue(body, "crbridge_capture_rows_total") - recorded_before >= rows) {
      run.recorded_seconds = seconds();
    }
    if (brokers && run.published_seconds == 0 && MetricValue(body, "crbridge_kafka_events_published_total") >= rows + 1) {
      run.published_seconds = seconds();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  run.cpu_seconds = CpuSeconds(daemon.process().pid()) - cpu_before;
  run.peak_mb = PeakRssMb(daemon.process().pid());
  return run;
}

}  // namespace
}  // namespace crbridge

int main(int argc, char** argv) {
  using namespace crbridge;
  if (argc < 2) return 2;
  const std::string binary = argv[1];
  int rows = 100000;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--rows") rows = std::stoi(argv[i + 1]);
  }
  crbridge::testing::DatabaseServer postgres(crbridge::testing::ServerKind::kPostgres);
  crbridge::testing::MockKafka kafka;
  const Run without = Measure(binary, postgres, 1, rows, std::nullopt);
  const Run with = Measure(binary, postgres, 2, rows, kafka.Bootstraps());

  std::printf("%d app rows inserted in transactions of %d while crbridge streams; release build; Kafka: librdkafka's "
              "mock cluster (3 brokers, localhost)\n\n",
              rows, kRowsPerTransaction);
  std::printf("| %-44s | %8s | %10s | %14s | %15s |\n", "workload", "seconds", "rows/s", "crbridge CPU s",
              "crbridge peak MB");
  std::printf("|----------------------------------------------|----------|------------|----------------|-----------------|\n");
  const auto row = [&](const char* what, double seconds, const Run& run) {
    std::printf("| %-44s | %8.2f | %10.0f | %14.2f | %15.1f |\n", what, seconds, rows / seconds, run.cpu_seconds,
                run.peak_mb);
  };
  row("capture without Kafka: recorded", without.recorded_seconds, without);
  row("capture with Kafka: recorded (with events)", with.recorded_seconds, with);
  row("capture with Kafka: acknowledged by Kafka", with.published_seconds, with);
  std::printf("\nevents acknowledged by Kafka / capture without Kafka, same run: %.2f\n",
              without.recorded_seconds / with.published_seconds);
  return 0;
}
