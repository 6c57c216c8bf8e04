#include "crbridge/sqlite/sync_client.h"

#include <algorithm>
#include <thread>

#include "crbridge/sqlite/backoff.h"
#include "sync_connection.h"

namespace crbridge {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool Before(const StreamPosition& a, const StreamPosition& b) {
  return a.version < b.version || (a.version == b.version && a.seq < b.seq);
}

// Sleeps for `delay`, waking early when `stop` is set.
void SleepUnlessStopped(milliseconds delay, const std::atomic<bool>& stop) {
  const Clock::time_point until = Clock::now() + delay;
  while (!stop && Clock::now() < until) {
    std::this_thread::sleep_for(std::min<Clock::duration>(milliseconds(50), until - Clock::now()));
  }
}

}  // namespace

// The state of one connection: where the outbound stream stands and what
// the server has said.
struct SyncClient::Session {
  ClientDatabase& db;
  const SyncOptions& options;
  SyncConnection connection;
  SiteId site{};
  std::optional<StreamPosition> server_since;  // the latest StartStreaming position
  std::optional<StreamPosition> last_sent;     // own changes sent through here
  int64_t data_version = 0;
  // After the server refuses a changeset, resends on its StartStreaming
  // would be refused again (and, split in several messages, would restart
  // the stream again): pushes wait for the next local write.
  bool paused_by_refusal = false;
  std::string last_error;  // the server's last Err

  // Sends own changes after last_sent, one bounded message at a time.
  Status Push() {
    if (!last_sent || paused_by_refusal) return Status::OK();
    for (;;) {
      Changeset batch;
      CRBRIDGE_RETURN_IF_ERROR(db.OwnChangesAfter(*last_sent, options.max_changes_per_message, &batch));
      if (batch.empty()) return Status::OK();
      const StreamPosition through{batch.back().db_version, batch.back().seq};
      CRBRIDGE_RETURN_IF_ERROR(connection.Send(ChangesMessage{site, *last_sent, std::move(batch)}));
      last_sent = through;
    }
  }

  // Changes from a peer: merged when they follow what this database has
  // seen from it, else rejected with what it has seen (the peer resends).
  Status Receive(ChangesMessage changes) {
    if (changes.changes.empty()) return Status::OK();
    StreamPosition seen;
    CRBRIDGE_RETURN_IF_ERROR(db.LastSeen(changes.sender, &seen));
    if (seen.version < changes.since.version) return connection.Send(RejectChanges{changes.sender, seen});
    const Status applied = db.ApplyFrom(changes.sender, std::move(changes.changes));
    if (!applied.ok()) return Status::Corruption("the server's changes cannot be applied: " + applied.message());
    return Status::OK();
  }
};

Status SyncClient::RunSession(const std::atomic<bool>& stop, bool* streamed, StartStreaming* started,
                              SessionEnd* end) {
  *streamed = false;
  *end = SessionEnd::kReconnect;
  SyncUrl url;
  CRBRIDGE_RETURN_IF_ERROR(ParseSyncUrl(options_.url, &url));
  ClientSchema schema;
  CRBRIDGE_RETURN_IF_ERROR(db_->GetSchema(&schema));
  Session session{*db_, options_, {}, db_->site_id(), {}, {}, 0, false, {}};
  CRBRIDGE_RETURN_IF_ERROR(db_->DataVersion(&session.data_version));

  SyncConnection::Refusal refusal;
  CRBRIDGE_RETURN_IF_ERROR(session.connection.Connect(url, SyncRequest{options_.room, options_.token},
                                                      options_.max_frame_bytes, options_.connect_timeout, &refusal));
  AnnouncePresence presence{session.site, {}, schema.name, schema.version};
  CRBRIDGE_RETURN_IF_ERROR(db_->LastSeens(&presence.last_seens));
  CRBRIDGE_RETURN_IF_ERROR(session.connection.Send(presence));

  Clock::time_point last_activity = Clock::now();
  Clock::time_point last_poll = Clock::now();
  while (!stop) {
    std::optional<Message> message;
    if (const Status r = session.connection.Receive(options_.poll_interval, &message); !r.ok()) {
      // An Err and a close before StartStreaming: the server refused the
      // announce (another schema); reconnecting cannot change that.
      if (!*streamed && !session.last_error.empty()) {
        return Status::InvalidArgument("the server refused this database: " + session.last_error);
      }
      return r;
    }
    if (message) {
      if (auto* start = std::get_if<StartStreaming>(&*message)) {
        int64_t db_version = 0;
        CRBRIDGE_RETURN_IF_ERROR(db_->DbVersion(&db_version));
        if (start->since.version > db_version) {
          // The server applied versions of this site that the file never
          // made: it is an older copy of itself (restored from a backup).
          // New writes would reuse those versions and be taken as seen,
          // and the server never sends a site back its own writes; under
          // a new site id the copy sends what it has and gets the rest.
          Notice("the server has this database's changes up to version " + std::to_string(start->since.version) +
                 " but the file only reaches " + std::to_string(db_version) +
                 ": it is an older copy of itself; it takes a new site id and syncs again");
          CRBRIDGE_RETURN_IF_ERROR(db_->RenewSiteId());
          session.connection.Close();
          return Status::OK();
        }
        *streamed = true;
        *started = *start;
        session.server_since = start->since;
        session.last_sent = start->since;  // a second StartStreaming restarts the stream from there
        last_activity = Clock::now();
        CRBRIDGE_RETURN_IF_ERROR(session.Push());
      } else if (auto* changes = std::get_if<ChangesMessage>(&*message)) {
        CRBRIDGE_RETURN_IF_ERROR(session.Receive(std::move(*changes)));
        last_activity = Clock::now();
      } else if (std::holds_alternative<Ping>(*message)) {
        CRBRIDGE_RETURN_IF_ERROR(session.connection.Send(Pong{}));
      } else if (const auto* err = std::get_if<ErrMessage>(&*message)) {
        Notice("the server says: " + err->message);
        session.last_error = err->message;
        session.paused_by_refusal = *streamed;
      } else if (const auto* reject = std::get_if<RejectChanges>(&*message)) {
        if (reject->whose == session.site && session.last_sent) {
          session.last_sent = reject->since;
          CRBRIDGE_RETURN_IF_ERROR(session.Push());
        }
      }
    }

    if (Clock::now() - last_poll >= options_.poll_interval) {
      last_poll = Clock::now();
      int64_t data_version = 0;
      CRBRIDGE_RETURN_IF_ERROR(db_->DataVersion(&data_version));
      if (data_version != session.data_version) {
        session.data_version = data_version;
        session.paused_by_refusal = false;
        CRBRIDGE_RETURN_IF_ERROR(session.Push());
      }
    }

    if (options_.mode == SyncOptions::Mode::kOnce && *streamed && Clock::now() - last_activity >= options_.idle) {
      Changeset unconfirmed;
      CRBRIDGE_RETURN_IF_ERROR(db_->OwnChangesAfter(*session.server_since, 1, &unconfirmed));
      if (unconfirmed.empty()) {
        *end = SessionEnd::kDone;
      } else if (!session.last_error.empty()) {
        session.connection.Close();
        return Status::InvalidArgument("the server refused this database's changes: " + session.last_error);
      }
      // Else what was pushed is confirmed, or not, by the next connection's
      // StartStreaming.
      session.connection.Close();
      return Status::OK();
    }
  }
  session.connection.Close();
  *end = SessionEnd::kStopped;
  return Status::OK();
}

Status SyncClient::Run(const std::atomic<bool>& stop) {
  ClientSchema schema;
  CRBRIDGE_RETURN_IF_ERROR(db_->GetSchema(&schema));
  SyncUrl url;
  CRBRIDGE_RETURN_IF_ERROR(ParseSyncUrl(options_.url, &url));

  const bool once = options_.mode == SyncOptions::Mode::kOnce;
  std::optional<StreamPosition> confirmed;  // once: the best StartStreaming position seen
  int stalled = 0;
  // Follow: 200 ms doubling to 10 s between failed attempts.
  Backoff backoff(milliseconds(200), milliseconds(10000));
  while (!stop) {
    bool streamed = false;
    StartStreaming started;
    SessionEnd end = SessionEnd::kReconnect;
    const Status s = RunSession(stop, &streamed, &started, &end);
    if (s.ok() && end != SessionEnd::kReconnect) return Status::OK();
    if (s.code() == Status::Code::kInvalidArgument) return s;
    if (once) {
      // Unreachable, or bad input from the server: report it.
      if (!s.ok() && (!streamed || s.code() != Status::Code::kUnavailable)) return s;
      if (!s.ok()) Notice("the connection ended (" + s.message() + "); connecting again");
      if (streamed) {
        stalled = confirmed && !Before(*confirmed, started.since) ? stalled + 1 : 0;
        confirmed = started.since;
      }
      if (stalled >= options_.max_stalled_attempts) {
        return Status::Unavailable("the server did not confirm this database's changes (its position stayed at version " +
                                   std::to_string(confirmed->version) + " over " + std::to_string(stalled + 1) +
                                   " connections)");
      }
      continue;
    }
    if (streamed) backoff.Reset();
    if (s.ok()) continue;  // a fresh start, as after a new site id
    const milliseconds wait = backoff.Next();
    Notice(s.message() + "; reconnecting in " + std::to_string(wait.count()) + " ms");
    SleepUnlessStopped(wait, stop);
  }
  return Status::OK();
}

}  // namespace crbridge
