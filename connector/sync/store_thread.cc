#include "store_thread.h"

#include <chrono>
#include <map>
#include <optional>
#include <set>

#include "crbridge/connector/ops/live_check.h"
#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/sqlite/backoff.h"
#include "crbridge/sqlite/text_encoding.h"
#include "crbridge/server/core/clock_columns.h"
#include "crbridge/server/dialects.h"

namespace crbridge {

StoreThread::StoreThread(const Config& config, size_t max_waiting_merges, Health& health, Metrics& metrics)
    : config_(config), max_waiting_merges_(max_waiting_merges), health_(health), metrics_(metrics) {
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
    jobs_.push_back(Job{std::move(attempt), std::move(done), std::nullopt});
  }
  wake_.notify_all();
}

bool StoreThread::PostMerge(ClientChangeset changeset, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (waiting_merges_ >= max_waiting_merges_) return false;
    ++waiting_merges_;
    metrics_.sync_changesets_waiting().Set(static_cast<double>(waiting_merges_));
    Attempt alone = std::move(changeset.alone);
    jobs_.push_back(Job{std::move(alone), std::move(done), std::move(changeset)});
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
    if (current->merge && !current->alone) {
      std::vector<Job> group = TakeMergesBehind(std::move(*current));
      current.reset();
      if (group.size() > 1) {
        MergeTogether(std::move(group));
        continue;
      }
      current = std::move(group.front());
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
    Job finished = std::move(*current);
    current.reset();
    Finish(finished, s);
  }
}

std::vector<StoreThread::Job> StoreThread::TakeMergesBehind(Job first) {
  std::vector<Job> group;
  size_t changes = first.merge->changes->size();
  std::map<SiteId, size_t> last_of_sender{{first.merge->sender, 0}};  // index in `group`
  group.push_back(std::move(first));
  std::lock_guard lock(mutex_);
  while (!jobs_.empty() && group.size() < kMaxChangesetsMergedTogether) {
    Job& next = jobs_.front();
    if (!next.merge || next.alone || changes + next.merge->changes->size() > kMaxChangesMergedTogether) break;
    const ClientChangeset& changeset = *next.merge;
    if (const auto last = last_of_sender.find(changeset.sender); last != last_of_sender.end()) {
      // A client's changesets merge as one only when they come with the
      // same room, owner and schema (a client that connected again may
      // have another); whether each follows the one before is `check`'s.
      const ClientChangeset& before = *group[last->second].merge;
      if (changeset.room != before.room || changeset.owner != before.owner || changeset.gone != before.gone ||
          changeset.expiry != before.expiry || (changeset.expiry && last->second == 0)) {
        break;
      }
    }
    last_of_sender[changeset.sender] = group.size();
    changes += changeset.changes->size();
    group.push_back(std::move(next));
    jobs_.pop_front();
  }
  return group;
}

void StoreThread::MergeTogether(std::vector<Job> group) {
  std::vector<ClientMerge> clients;
  std::vector<std::vector<size_t>> jobs_of_client;  // indexes in `group`, in order
  std::map<SiteId, size_t> client_of_sender;
  std::set<SiteId> held_back;  // a changeset of theirs is not merged: their later ones wait
  std::vector<bool> finished(group.size(), false);
  Status s;
  for (size_t i = 0; i < group.size() && s.ok(); ++i) {
    const ClientChangeset& changeset = *group[i].merge;
    if (held_back.contains(changeset.sender)) continue;
    const auto known = client_of_sender.find(changeset.sender);
    bool merge = false;
    s = changeset.check(*writer_, known == client_of_sender.end() ? nullptr : &clients[known->second].end, &merge);
    if (!s.ok()) break;
    if (!merge) {
      held_back.insert(changeset.sender);
      // Told against the database, the client is answered now; told
      // against the group's changeset before it, which is not committed
      // yet, it is checked again on its own after the group.
      if (known == client_of_sender.end()) {
        finished[i] = true;
        Finish(group[i], Status::OK());
      }
      continue;
    }
    if (known == client_of_sender.end()) {
      client_of_sender.emplace(changeset.sender, clients.size());
      // The first changeset is under way; those behind it wait, and
      // are not merged once their token has expired.
      const bool under_way = changeset.sender == group.front().merge->sender;
      clients.push_back(ClientMerge{changeset.sender, {}, {}, changeset.room, changeset.owner, changeset.gone.get(),
                                    under_way ? std::nullopt : changeset.expiry, {}, false});
      jobs_of_client.emplace_back();
    }
    const size_t k = client_of_sender.at(changeset.sender);
    clients[k].changesets.push_back(changeset.changes.get());
    clients[k].end = changeset.end;
    jobs_of_client[k].push_back(i);
  }
  const auto started = std::chrono::steady_clock::now();
  if (s.ok() && !clients.empty()) s = store_->MergeTogether(clients);
  if (s.ok()) {
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    size_t merged = 0;
    for (size_t k = 0; k < clients.size(); ++k) merged += clients[k].expired ? 0 : jobs_of_client[k].size();
    if (merged > 1) metrics_.sync_changesets_merged_together().Increment(static_cast<double>(merged));
    for (size_t k = 0; k < clients.size(); ++k) {
      // An expired client's changesets go back to be checked on their
      // own, which tells the client.
      if (clients[k].expired) continue;
      for (const size_t i : jobs_of_client[k]) {
        // The report is the client's whole merge's: its last changeset
        // carries it, the others only the version they are under.
        const bool last = i == jobs_of_client[k].back();
        group[i].merge->merged(last ? clients[k].report : MergeReport{.db_version = clients[k].report.db_version},
                               took);
        finished[i] = true;
        Finish(group[i], Status::OK());
      }
    }
  } else if (IsMappingsChanged(s)) {
    DropForNewMappings(s.message());
  } else if (s.code() == Status::Code::kUnavailable) {
    Disconnect(s);
  }
  // What is left goes back to the front, in its order, to be merged alone.
  std::lock_guard lock(mutex_);
  for (size_t i = group.size(); i-- > 0;) {
    if (finished[i]) continue;
    group[i].alone = true;
    jobs_.push_front(std::move(group[i]));
  }
}

void StoreThread::Finish(Job& job, const Status& s) {
  if (job.merge) {
    std::lock_guard lock(mutex_);
    --waiting_merges_;
    metrics_.sync_changesets_waiting().Set(static_cast<double>(waiting_merges_));
  }
  job.done(s);
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
