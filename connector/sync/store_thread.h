// StoreThread: the database side of every sync connection. Merges and
// pulls run on one thread of its own, one at a time and in the order
// posted, on the connections it opens (again and again, with backoff, while
// the database is down; jobs posted meanwhile wait). Post and PostMerge may
// be called from any thread; jobs run on the store thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "crbridge/mappings/config.h"
#include "crbridge/server/core/config_check.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/server/core/sync_store.h"

namespace crbridge {

// The log component of the sync server's files (this one is the lowest).
inline constexpr const char* kSyncLogComponent = "sync";

class StoreThread {
 public:
  using Job = std::function<void(SyncStore& store, ShadowStore& writer)>;

  // `config` must outlive the thread. Client changesets waiting for the
  // database (it may be down, or slow) are `max_waiting_merges` at the most.
  StoreThread(const Config& config, size_t max_waiting_merges);
  ~StoreThread();
  StoreThread(const StoreThread&) = delete;
  StoreThread& operator=(const StoreThread&) = delete;

  void Post(Job job);

  // A merge, unless max_waiting_merges are waiting already: false then.
  bool PostMerge(Job job);

 private:
  void Run(std::stop_token stop);
  bool Connect();

  const Config& config_;
  const size_t max_waiting_merges_;
  ConfigCheck check_;
  std::unique_ptr<ShadowStore> writer_;
  std::unique_ptr<SyncStore> store_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<Job> jobs_;
  size_t waiting_merges_ = 0;
  std::jthread thread_;  // last: it starts running in the constructor
};

}  // namespace crbridge
