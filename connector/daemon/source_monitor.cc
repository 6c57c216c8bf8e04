#include "crbridge/connector/daemon/source_monitor.h"

#include "crbridge/sqlite/backoff.h"
#include "crbridge/connector/ops/structured_log.h"

namespace crbridge {

namespace {
constexpr const char* kComponent = "source";
}

SourceMonitor::SourceMonitor(std::unique_ptr<SourceDatabase> database, Options options, Health& health,
                             Metrics& metrics)
    : database_(std::move(database)), options_(options), health_(health), metrics_(metrics) {
  health_.Register(kComponent, "not probed yet");
}

SourceMonitor::~SourceMonitor() { Stop(); }

void SourceMonitor::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void SourceMonitor::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

void SourceMonitor::Run(std::stop_token stop) {
  Backoff backoff(options_.initial_backoff, options_.max_backoff);
  bool was_up = false;
  bool first = true;
  while (!stop.stop_requested()) {
    ServerInfo info;
    const Status status = database_->Probe(options_.probe_timeout, stop, &info);
    if (status.code() == Status::Code::kCancelled) break;
    std::chrono::milliseconds wait = options_.interval;
    if (status.ok()) {
      const std::string detail = info.product + " " + info.version;
      if (!was_up) log::Info(kComponent, "source database reachable", {{"server", detail}});
      health_.Report(kComponent, true, detail);
      metrics_.source_up().Set(1);
      backoff.Reset();
    } else {
      if (was_up || first) log::Warn(kComponent, "source database unreachable", {{"error", status.ToString()}});
      health_.Report(kComponent, false, status.ToString());
      metrics_.source_up().Set(0);
      metrics_.source_probe_failures().Increment();
      wait = backoff.Next();
      log::Debug(kComponent, "retrying", {{"in_ms", wait.count()}});
    }
    if (options_.on_change && (first || was_up != status.ok())) options_.on_change(status.ok());
    was_up = status.ok();
    first = false;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, stop, wait, [] { return false; });
  }
}

}  // namespace crbridge
