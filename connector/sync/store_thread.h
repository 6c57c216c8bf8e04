// StoreThread: the database side of every sync connection. Merges and
// pulls run on one thread of its own, one at a time and in the order
// posted, on the connections it opens (again and again, with backoff, while
// the database is down; jobs posted meanwhile wait). A job that finds a
// connection lost (Unavailable) drops both connections, and runs again once
// the thread has connected afresh, so a database restart costs clients no
// error. While it has no working connections the thread's health component
// ("sync") is not ready. Client changesets that wait one behind the other
// are merged in one transaction (group commit, SyncStore::MergeTogether),
// each client's as one; when such a merge fails, each changeset is merged
// again on its own, so that each client gets its own outcome. Post,
// PostMerge and CheckConnections may be called from any thread; jobs run
// on the store thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <stop_token>
#include <thread>
#include <vector>

#include "crbridge/connector/ops/health.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/mappings/config.h"
#include "crbridge/server/core/config_check.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/server/core/sync_store.h"

namespace crbridge {

// The log component of the sync server's files (this one is the lowest),
// and the name of the store thread's health component.
inline constexpr const char* kSyncLogComponent = "sync";

class StoreThread {
 public:
  // A job's database work. It is attempted again on fresh connections when
  // it returns Unavailable (the connection was lost: what it did rolled
  // back, or, for a commit whose outcome is unknown, is done again
  // idempotently), kJobAttempts times at the most.
  using Attempt = std::function<Status(SyncStore& store, ShadowStore& writer)>;
  // Called once, on the store thread, with the status of the job's last
  // attempt.
  using Done = std::function<void(const Status& status)>;

  static constexpr int kJobAttempts = 3;
  // What one merge of waiting changesets takes at the most (a changeset
  // larger than this is merged alone).
  static constexpr size_t kMaxChangesMergedTogether = 10000;
  static constexpr size_t kMaxChangesetsMergedTogether = 200;

  // A client changeset to merge.
  struct ClientChangeset {
    SiteId sender;
    int64_t since = 0;  // the sender's version the changeset follows
    PeerVersion end;    // the sender's version after it
    std::shared_ptr<const Changeset> changes;
    std::optional<std::string> room;
    std::optional<std::string> owner;
    std::shared_ptr<const AddedColumns> gone;
    std::optional<std::chrono::system_clock::time_point> expiry;  // of the client's token
    // On the store thread, before the changeset is merged with others:
    // whether it is to be merged (false, with OK, ends the job). `applied`
    // is what the server has of the sender, when a changeset of the same
    // merge had it (nullptr: the database has it).
    std::function<Status(ShadowStore& writer, const PeerVersion* applied, bool* merge)> check;
    // On the store thread, once the merge it was part of committed.
    std::function<void(const MergeReport& report, std::chrono::duration<double> took)> merged;
    // The changeset merged on its own, with `check` and whatever a refusal
    // takes.
    Attempt alone;
  };

  // `config` must outlive the thread. Client changesets waiting for the
  // database (it may be down, or slow) are `max_waiting_merges` at the most.
  StoreThread(const Config& config, size_t max_waiting_merges, Health& health, Metrics& metrics);
  ~StoreThread();
  StoreThread(const StoreThread&) = delete;
  StoreThread& operator=(const StoreThread&) = delete;

  // Starts the thread. `on_connected` is called on it with the database's
  // db_version each time it has connected: a version committed while a
  // connection was being lost may have been told to nobody.
  // `on_mappings_changed` is called on it when it drops its store to take
  // new mappings (Reload, or a write refused by MappingsChanged), before
  // it opens the new one: clients must announce their schema again.
  void Start(std::function<void(int64_t db_version)> on_connected, std::function<void()> on_mappings_changed);

  void Post(Attempt attempt, Done done);

  // A merge, unless max_waiting_merges are waiting already: false then.
  bool PostMerge(ClientChangeset changeset, Done done);

  // The database was seen going away or coming back (the source monitor):
  // the thread checks its connections before its next job, at once when
  // idle, and connects again without waiting out its backoff.
  void CheckConnections();

  // The mappings changed (capture met a column the app added): before its
  // next job, the thread drops its store, checks the mappings again and
  // opens the store with them (migrating its clock tables first, unless
  // capture did). `reloaded` is called on the thread once it has.
  void Reload(std::function<void()> reloaded);

 private:
  struct Job {
    Attempt attempt;
    Done done;
    std::optional<ClientChangeset> merge;
    bool alone = false;  // a merge with others failed: merged on its own
    int attempts = 0;
  };

  // Takes the merges waiting behind `first` (a merge) that can be merged
  // with it, within the limits: up to the first job that is not a merge,
  // comes from another connection of a sender taken already, or comes
  // after `first` from its sender with a token that expires. `first` is
  // under way: it is merged even if its token expires while the merge
  // waits for the database; the changesets behind it are not (their
  // expiry is checked once the merge holds its locks), and a sender's
  // changesets merge as one.
  std::vector<Job> TakeMergesBehind(Job first);
  // Merges `group` in one transaction; what is not done (the merge
  // failed) goes back to the queue's front, to be merged one by one.
  void MergeTogether(std::vector<Job> group);
  void Finish(Job& job, const Status& s);
  void Run(std::stop_token stop);
  // Opens the connections (after checking the mappings); false, with the
  // health component saying why, when that fails.
  bool Connect();
  // Drops both connections after `why` (a lost connection).
  void Disconnect(const Status& why);
  // Drops the store to open it again with the mappings checked anew.
  void DropForNewMappings(const std::string& why);
  // Whether both connections still answer.
  Status Probe();

  const Config& config_;
  const size_t max_waiting_merges_;
  Health& health_;
  Metrics& metrics_;
  std::function<void(int64_t)> on_connected_;
  std::function<void()> on_mappings_changed_;
  ConfigCheck check_;
  std::unique_ptr<ShadowStore> writer_;
  std::unique_ptr<SyncStore> store_;
  std::atomic<bool> check_requested_ = false;
  std::atomic<bool> reload_requested_ = false;
  std::vector<std::function<void()>> on_reloaded_;  // guarded by mutex_
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<Job> jobs_;
  size_t waiting_merges_ = 0;
  std::jthread thread_;  // last
};

}  // namespace crbridge
