#include "crbridge/connector/daemon/capture_service.h"

#include "crbridge/sqlite/backoff.h"
#include "crbridge/connector/capture/column_changes.h"
#include "crbridge/connector/daemon/capture_factory.h"
#include "crbridge/connector/ops/live_check.h"
#include "crbridge/connector/ops/structured_log.h"

namespace crbridge {
namespace {

constexpr const char* kComponent = "capture";
// Whether every mapped table's name names a table (captured_tables.h).
constexpr const char* kTablesComponent = "tables";
// A capture that ran this long before failing starts its backoff afresh.
constexpr std::chrono::seconds kHealthyRun{30};

}  // namespace

CaptureService::CaptureService(const Config& config, CaptureOptions options, Health& health, Metrics& metrics)
    : config_(config), options_(std::move(options)), health_(health), metrics_(metrics) {
  health_.Register(kComponent, "starting");
  health_.Register(kTablesComponent, "not checked yet");
}

CaptureService::~CaptureService() { Stop(); }

void CaptureService::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void CaptureService::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

void CaptureService::Wait(std::stop_token stop, std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, stop, delay, [] { return false; });
}

void CaptureService::Run(std::stop_token stop) {
  CaptureOptions options = options_;
  options.on_streaming = [this] { health_.Report(kComponent, true, "streaming"); };
  options.on_slot_lost = [this](const std::string& what) {
    health_.Report(kComponent, false, "the replication slot was " + what + "; reading every mapped table again");
  };
  options.on_tables_away = [this](const std::string& away) {
    health_.Report(kTablesComponent, away.empty(), away.empty() ? "every mapped table is captured" : away);
  };
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(30));
  bool reported_waiting = false;
  while (!stop.stop_requested()) {
    if (!check_) {
      ServerInfo server;
      ConfigCheck check;
      if (const Status s = LiveCheck(config_, std::chrono::seconds(5), &server, &check); !s.ok()) {
        health_.Report(kComponent, false, "waiting for the database: " + s.message());
        if (!reported_waiting) log::Warn(kComponent, "waiting for the database", {{"error", s.ToString()}});
        reported_waiting = true;
        Wait(stop, backoff.Next());
        continue;
      }
      if (!check.problems.empty()) {
        // Server settings are among them: each problem is named, in the
        // health detail too, so that /readyz says what to fix.
        std::string problems;
        for (const Status& problem : check.problems) {
          log::Error("config", "cannot capture", {{"error", problem.message()}});
          problems += (problems.empty() ? "" : "; ") + problem.message();
        }
        health_.Report(kComponent, false, "invalid config: " + problems);
        return;
      }
      check_ = std::move(check);
    }
    const auto started = std::chrono::steady_clock::now();
    const Status s = NewCapture(config_, check_->tables, options, metrics_)->Run(stop);
    if (stop.stop_requested()) break;
    if (std::chrono::steady_clock::now() - started > kHealthyRun) backoff.Reset();
    if (IsMappingsChanged(s)) {
      log::Warn(kComponent, "a mapped table changed under capture; checking the mappings again", {{"error", s.message()}});
      health_.Report(kComponent, false, "checking the mappings again: " + s.message());
      if (options.on_mapping_changed) options.on_mapping_changed(stop);
      check_.reset();
      // A mapping that still lacks the column would stop capture again at
      // once: it waits out a backoff each time.
      Wait(stop, backoff.Next());
      continue;
    }
    if (s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kAborted) {
      health_.Report(kComponent, false, "reconnecting: " + s.message());
      const auto delay = backoff.Next();
      // Aborted: the database ended what capture was doing (a race, a wait given up).
      const bool lost = s.code() == Status::Code::kUnavailable;
      log::Warn(kComponent, lost ? "lost the database; reconnecting" : "interrupted; starting again",
                {{"error", s.ToString()}, {"in_ms", delay.count()}});
      Wait(stop, delay);
      continue;
    }
    // Anything else needs a person: retrying would fail the same way.
    health_.Report(kComponent, false, s.ToString());
    log::Error(kComponent, "stopped", {{"error", s.ToString()}});
    return;
  }
}

}  // namespace crbridge
