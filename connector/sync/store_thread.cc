#include "store_thread.h"

#include <chrono>
#include <optional>

#include "crbridge/connector/ops/live_check.h"
#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/sqlite/backoff.h"
#include "crbridge/sqlite/text_encoding.h"
#include "crbridge/server/core/clock_columns.h"
#include "crbridge/server/dialects.h"

namespace crbridge {

StoreThread::StoreThread(const Config& config, size_t max_waiting_merges, Health& health)
    : config_(config), max_waiting_merges_(max_waiting_merges), health_(health) {
  health_.Register(kSyncLogComponent, "connecting to the database");
}

void StoreThread::Start(std::function<void(int64_t db_version)> on_connected,
                        std::function<void()> on_mappings_changed) {
  on_connected_ = std::move(on_connected);
  on_mappings_changed_ = std::move(on_mappings_changed);
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

StoreThread::~StoreThread() {
  thread_.request_stop();
  wake_.notify_all();
}

void StoreThread::Post(Attempt attempt, Done done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(Job{std::move(attempt), std::move(done)});
  }
  wake_.notify_all();
}

bool StoreThread::PostMerge(Attempt attempt, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (waiting_merges_ >= max_waiting_merges_) return false;
    ++waiting_merges_;
    jobs_.push_back(Job{std::move(attempt), std::move(done), true});
  }
  wake_.notify_all();
  return true;
}

void StoreThread::CheckConnections() {
  {
    std::lock_guard lock(mutex_);
    check_requested_ = true;
  }
  wake_.notify_all();
}

void StoreThread::Reload(std::function<void()> reloaded) {
  {
    std::lock_guard lock(mutex_);
    on_reloaded_.push_back(std::move(reloaded));
    reload_requested_ = true;
  }
  wake_.notify_all();
}

void StoreThread::Run(std::stop_token stop) {
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(30));
  std::optional<Job> current;  // taken from the queue, attempted again after a lost connection
  while (!stop.stop_requested()) {
    if (reload_requested_.exchange(false) && store_) DropForNewMappings("capture met a column the app added");
    if (!store_) {
      if (Connect()) {
        backoff.Reset();
        continue;
      }
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, backoff.Next(), [this] { return check_requested_ || reload_requested_; });
      check_requested_ = false;
      continue;
    }
    if (check_requested_.exchange(false)) {
      if (const Status s = Probe(); s.code() == Status::Code::kUnavailable) Disconnect(s);
      continue;
    }
    if (!current) {
      std::unique_lock lock(mutex_);
      if (!wake_.wait(lock, stop, [this] { return !jobs_.empty() || check_requested_ || reload_requested_; })) return;
      if (jobs_.empty()) continue;
      current = std::move(jobs_.front());
      jobs_.pop_front();
    }
    const Status s = current->attempt(*store_, *writer_);
    if (IsMappingsChanged(s)) {
      // Capture, or a store of another crbridge, took new mappings first.
      DropForNewMappings(s.message());
      if (++current->attempts < kJobAttempts) continue;
    }
    if (s.code() == Status::Code::kUnavailable) {
      Disconnect(s);
      if (++current->attempts < kJobAttempts) continue;
    }
    if (current->merge) {
      std::lock_guard lock(mutex_);
      --waiting_merges_;
    }
    const Job finished = std::move(*current);
    current.reset();
    finished.done(s);
  }
}

bool StoreThread::Connect() {
  ServerInfo server;
  ConfigCheck check;
  if (const Status s = LiveCheck(config_, std::chrono::seconds(5), &server, &check); !s.ok() || !check.problems.empty()) {
    const std::string error = s.ok() ? "invalid mappings" : s.ToString();
    log::Warn(kSyncLogComponent, "waiting for the database", {{"error", error}});
    health_.Report(kSyncLogComponent, false, "waiting for the database: " + error);
    return false;
  }
  check_ = std::move(check);
  int64_t version = 0;
  Status s = OpenShadowStore(config_, check_.tables, ShadowStore::Marking::kCrbridge, &writer_);
  if (s.ok()) s = writer_->DbVersion(&version);
  if (!s.ok()) {
    writer_.reset();
    log::Warn(kSyncLogComponent, "cannot open the shadow store", {{"error", s.ToString()}});
    health_.Report(kSyncLogComponent, false, "cannot open the shadow store: " + s.ToString());
    return false;
  }
  writer_->set_logs_changes(config_.kafka.has_value());
  store_ = std::make_unique<SyncStore>(config_, check_.tables, *writer_);
  log::Info(kSyncLogComponent, "ready", {{"site_id", EncodeHex(writer_->site_id())}});
  health_.Report(kSyncLogComponent, true, "connected");
  if (on_connected_) on_connected_(version);
  std::vector<std::function<void()>> reloaded;
  {
    std::lock_guard lock(mutex_);
    reloaded.swap(on_reloaded_);
  }
  for (const auto& done : reloaded) done();
  return true;
}

void StoreThread::Disconnect(const Status& why) {
  log::Warn(kSyncLogComponent, "lost the database; reconnecting", {{"error", why.ToString()}});
  health_.Report(kSyncLogComponent, false, "lost the database: " + why.ToString());
  store_.reset();
  writer_.reset();
}

void StoreThread::DropForNewMappings(const std::string& why) {
  log::Info(kSyncLogComponent, "the mappings changed; checking them again", {{"reason", why}});
  store_.reset();
  writer_.reset();
  if (on_mappings_changed_) on_mappings_changed_();
}

Status StoreThread::Probe() {
  int64_t version = 0;
  CRBRIDGE_RETURN_IF_ERROR(writer_->DbVersion(&version));
  return writer_->Read([](ShadowSnapshot&) { return Status::OK(); });
}

}  // namespace crbridge
