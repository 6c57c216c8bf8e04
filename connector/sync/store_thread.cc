#include "store_thread.h"

#include <chrono>

#include "crbridge/connector/ops/live_check.h"
#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/sqlite/backoff.h"
#include "crbridge/sqlite/text_encoding.h"
#include "crbridge/server/dialects.h"

namespace crbridge {

StoreThread::StoreThread(const Config& config, size_t max_waiting_merges)
    : config_(config), max_waiting_merges_(max_waiting_merges), thread_([this](std::stop_token stop) { Run(stop); }) {}

StoreThread::~StoreThread() {
  thread_.request_stop();
  wake_.notify_all();
}

void StoreThread::Post(Job job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_all();
}

bool StoreThread::PostMerge(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (waiting_merges_ >= max_waiting_merges_) return false;
    ++waiting_merges_;
    jobs_.push_back([this, job = std::move(job)](SyncStore& store, ShadowStore& writer) {
      {
        std::lock_guard done(mutex_);
        --waiting_merges_;
      }
      job(store, writer);
    });
  }
  wake_.notify_all();
  return true;
}

void StoreThread::Run(std::stop_token stop) {
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(30));
  while (!stop.stop_requested() && !Connect()) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, stop, backoff.Next(), [] { return false; });
  }
  while (!stop.stop_requested()) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      if (!wake_.wait(lock, stop, [this] { return !jobs_.empty(); })) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job(*store_, *writer_);
  }
}

bool StoreThread::Connect() {
  ServerInfo server;
  ConfigCheck check;
  if (const Status s = LiveCheck(config_, std::chrono::seconds(5), &server, &check); !s.ok() || !check.problems.empty()) {
    log::Warn(kSyncLogComponent, "waiting for the database", {{"error", s.ok() ? "invalid mappings" : s.ToString()}});
    return false;
  }
  check_ = std::move(check);
  if (const Status s = OpenShadowStore(config_, check_.tables, ShadowStore::Marking::kCrbridge, &writer_); !s.ok()) {
    log::Warn(kSyncLogComponent, "cannot open the shadow store", {{"error", s.ToString()}});
    return false;
  }
  writer_->set_logs_changes(config_.kafka.has_value());
  store_ = std::make_unique<SyncStore>(config_, check_.tables, *writer_);
  log::Info(kSyncLogComponent, "ready", {{"site_id", EncodeHex(writer_->site_id())}});
  return true;
}

}  // namespace crbridge
