#include "sync_session.h"

#include <boost/asio/post.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <variant>

#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/server/core/sync_store.h"
#include "crbridge/sqlite/text_encoding.h"

namespace crbridge {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

namespace {

// Said to a client whose token expired: ws-client's app must connect again
// with a fresh one (docs/sync-server.md).
constexpr const char* kTokenExpired = "the token has expired; reconnect with a fresh token";

// What the server keeps of `site`, for a client whose site id must be
// bound to `owner` or to nobody yet: PermissionDenied, with nothing read,
// for the server's own site id, and for one bound to another owner.
Status ReadOwnPeer(ShadowStore& writer, const SiteId& site, const std::string& owner, PeerRecord* peer) {
  if (site == writer.site_id()) return ServerSiteRefused(site);
  CRBRIDGE_RETURN_IF_ERROR(writer.GetPeer(site, peer));
  if (peer->owner && *peer->owner != owner) return SiteBoundElsewhere(site);
  return Status::OK();
}

}  // namespace

SyncSession::SyncSession(tcp::socket socket, SyncServer::Impl& server, std::string room, SyncAuth::Grant grant)
    : ws_(std::move(socket)),
      server_(server),
      room_(std::move(room)),
      owner_(SiteOwner(grant.subject, room_)),
      token_expiry_(grant.expiry),
      expiry_timer_(server.io_),
      pull_retry_(server.io_),
      pull_backoff_(sync_limits::kPullRetryInitial, sync_limits::kPullRetryMax) {
  beast::error_code ignored;
  address_ = beast::get_lowest_layer(ws_).socket().remote_endpoint(ignored).address().to_string();
  ++server_.connections_per_address_[address_];
}

void SyncSession::Start(http::request<http::string_body> request, const std::string& subprotocol) {
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  // Browsers drop a connection whose answer lacks their subprotocol.
  ws_.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& response) {
    response.set(http::field::sec_websocket_protocol, subprotocol);
    response.set(http::field::server, "crbridge");
  }));
  ws_.read_message_max(static_cast<size_t>(server_.config_.server.max_message_bytes));
  ws_.binary(true);
  ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
    if (ec) return self->Closed("upgrade failed: " + ec.message());
    log::Info(kSyncLogComponent, "client connected", {{"address", self->address_}, {"room", self->room_}});
    self->connected_ = true;
    self->server_.metrics_.sync_clients().Increment();
    if (self->token_expiry_) {
      self->expiry_timer_.expires_at(*self->token_expiry_);
      self->expiry_timer_.async_wait([weak = std::weak_ptr<SyncSession>(self)](beast::error_code cancelled) {
        const auto session = weak.lock();
        if (!cancelled && session) session->Refuse(kTokenExpired);
      });
    }
    self->Read();
  });
}

bool SyncSession::TokenExpired() const {
  return token_expiry_ && std::chrono::system_clock::now() >= *token_expiry_;
}

void SyncSession::OnNewVersion(int64_t version) {
  known_version_ = std::max(known_version_, version);
  MaybePull();
}

void SyncSession::MaybePull() {
  while (streaming_ && !pulling_ && !closing_ && !close_reason_ && !writing_ &&
         PullPosition(known_version_) > sent_through_) {
    EncodedChanges changes;
    PullPosition through;
    switch (feed_->Next(sent_through_, *site_, Filter(), server_.MaxOutgoingMessageBytes(), &changes, &through)) {
      case RoomFeed::Read::kServed: Deliver(changes, through); break;
      case RoomFeed::Read::kAhead: return server_.PullFeeds();
      case RoomFeed::Read::kBehind: return PullAlone();
    }
  }
}

void SyncSession::Close(websocket::close_code code, const std::string& reason) {
  if (closing_) return;
  closing_ = true;
  ws_.async_close(websocket::close_reason(code, reason), [self = shared_from_this()](beast::error_code) {
    self->Closed("closed by the server");
  });
}

void SyncSession::Read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec == websocket::error::message_too_big) {
      self->Refuse("a message larger than " + std::to_string(self->server_.config_.server.max_message_bytes) + " bytes");
      return;
    }
    if (ec) return self->Closed(ec.message());
    const auto data = self->buffer_.cdata();
    Message message;
    const Status decoded =
        DecodeMessage(std::span(static_cast<const uint8_t*>(data.data()), data.size()), &message);
    self->buffer_.consume(self->buffer_.size());
    if (!decoded.ok()) return self->Refuse("malformed message: " + decoded.message());
    self->OnMessage(std::move(message));
    if (!self->closing_ && !self->close_reason_) self->Read();
  });
}

void SyncSession::OnMessage(Message message) {
  // Whatever the expiry timer has not closed yet.
  if (TokenExpired()) return Refuse(kTokenExpired);
  if (auto* presence = std::get_if<AnnouncePresence>(&message)) return OnAnnounce(std::move(*presence));
  if (auto* changes = std::get_if<ChangesMessage>(&message)) return OnChanges(std::move(*changes));
  if (const auto* reject = std::get_if<RejectChanges>(&message)) {
    // The client missed something: resend from what it has.
    if (server_site_ && reject->whose == *server_site_) {
      client_seen_ = reject->since;
      sent_through_ = ResumeAt(reject->since);
      MaybePull();
    }
    return;
  }
  if (std::holds_alternative<Ping>(message)) return SendPong();
  if (const auto* err = std::get_if<ErrMessage>(&message)) {
    log::Warn(kSyncLogComponent, "client reported an error", {{"address", address_}, {"error", err->message}});
  }
}

void SyncSession::OnAnnounce(AnnouncePresence presence) {
  if (presence.schema_name != server_.config_.schema_name) {
    return Refuse("schema \"" + presence.schema_name + "\" is not served here; this server serves \"" +
                  server_.config_.schema_name + "\"");
  }
  site_ = presence.sender;
  std::weak_ptr<SyncSession> weak = shared_from_this();
  auto& io = server_.io_;
  struct Found {
    PeerRecord peer;
    int64_t version = 0;
    SiteId server_site{};
    std::vector<ServedSchema> served;
    ServedSchema current;
  };
  auto found = std::make_shared<Found>();
  const SiteId sender = presence.sender;
  const int64_t schema_version = presence.schema_version;
  server_.store_.Post(
      [found, sender, owner = owner_, schema_version](SyncStore& store, ShadowStore& writer) {
        found->server_site = writer.site_id();
        found->current = store.served_schema();
        CRBRIDGE_RETURN_IF_ERROR(ReadOwnPeer(writer, sender, owner, &found->peer));
        CRBRIDGE_RETURN_IF_ERROR(writer.ServedSchemas(&found->served));
        // Recorded once per version the site announces, not per connection.
        for (const ServedSchema& served : found->served) {
          if (served.version == schema_version && found->peer.schema_version != schema_version) {
            CRBRIDGE_RETURN_IF_ERROR(writer.SetPeerSchema(sender, schema_version));
          }
        }
        return writer.DbVersion(&found->version);
      },
      [weak, &io, presence = std::move(presence), found](const Status& v) {
        boost::asio::post(io, [weak, presence, found, v] {
          const auto self = weak.lock();
          if (!self) return;
          if (v.code() == Status::Code::kPermissionDenied) return self->RefuseSite(v.message());
          if (!v.ok()) return self->Refuse("the database is unavailable: " + v.message());
          const auto served = [&](std::optional<int64_t> version) -> const ServedSchema* {
            for (const ServedSchema& schema : found->served) {
              if (version == schema.version) return &schema;
            }
            return nullptr;
          };
          const ServedSchema* announced = served(presence.schema_version);
          if (!announced) {
            std::string versions;
            for (const ServedSchema& schema : found->served) {
              versions += (versions.empty() ? "" : ", ") + std::to_string(schema.version);
            }
            return self->Refuse("schema version " + std::to_string(presence.schema_version) + " of \"" +
                                presence.schema_name + "\" was never served here; this server serves versions " +
                                versions + " (the current one is " + std::to_string(found->current.version) +
                                "): apply the schema `crbridge schema` prints (automigrateTo) and connect again");
          }
          const SiteId server_site = found->server_site;
          self->server_site_ = server_site;
          for (const LastSeen& seen : presence.last_seens) {
            if (seen.site == server_site) self->client_seen_ = seen.position;
          }
          self->sent_through_ = ResumeAt(self->client_seen_);
          // A site first seen by this crbridge had the first schema served.
          const ServedSchema* previous = served(found->peer.schema_version);
          if (!previous && !found->served.empty()) previous = &found->served.front();
          self->FollowSchema(*announced, previous, found->current);
          const PeerVersion applied = found->peer.applied;
          self->Send(EncodeMessage(StartStreaming{{applied.version, applied.seq}, {server_site}, false}));
          if (!self->feed_) self->feed_ = &self->server_.JoinRoom(self->room_, self.get());
          self->streaming_ = true;
          self->server_.latest_version_ = std::max(self->server_.latest_version_, found->version);
          self->OnNewVersion(self->server_.latest_version_);
        });
      });
}

void SyncSession::FollowSchema(const ServedSchema& announced, const ServedSchema* previous,
                               const ServedSchema& current) {
  schema_columns_.reset();
  upgrade_.reset();
  gone_.reset();
  if (announced.columns != current.columns) {
    schema_columns_ = announced.columns;
    if (AddedColumns gone = ColumnsAdded(current.columns, announced.columns); !gone.empty()) {
      gone_ = std::make_shared<const AddedColumns>(std::move(gone));
    }
  }
  if (!previous || client_seen_.version == 0) return;
  AddedColumns added = ColumnsAdded(previous->columns, announced.columns);
  if (added.empty()) return;
  // The client has every change up to where it stands, but for the
  // columns it lacked: it is sent theirs from the start, in order, so
  // that what it records as seen never passes what it has.
  log::Info(kSyncLogComponent, "a client upgraded its schema; it is sent the values of what it lacked",
            {{"address", address_}, {"site", EncodeHex(*site_)}, {"from_version", previous->version},
             {"to_version", announced.version}, {"through_version", sent_through_.version}});
  upgrade_ = std::move(added);
  upgrade_through_ = sent_through_;
  sent_through_ = PullPosition(0);
}

ChangeFilter SyncSession::Filter() const {
  if (!schema_columns_ && !upgrade_) return {};
  return [this](const Change& change) {
    if (upgrade_ && PositionOf(change) <= upgrade_through_) return AddedHas(*upgrade_, change);
    return !schema_columns_ || SchemaHas(*schema_columns_, change);
  };
}

void SyncSession::OnChanges(ChangesMessage changes) {
  if (!site_ || changes.sender != *site_) return Refuse("Changes before AnnouncePresence, or from another site");
  if (changes.changes.size() > static_cast<size_t>(server_.config_.server.max_changes_per_message)) {
    return Refuse("a message of " + std::to_string(changes.changes.size()) + " changes; the limit is " +
                  std::to_string(static_cast<size_t>(server_.config_.server.max_changes_per_message)));
  }
  if (changes.changes.empty()) return;
  std::weak_ptr<SyncSession> weak = shared_from_this();
  SyncServer::Impl* server = &server_;
  auto& io = server_.io_;
  struct Outcome {
    bool expired = false;            // the token expired before the merge
    std::optional<PeerVersion> gap;  // the server's position, when the client sent from further
    SiteId server_site{};
    MergeReport report;
    std::chrono::duration<double> took{};
  };
  auto outcome = std::make_shared<Outcome>();
  const SiteId sender = changes.sender;
  const size_t count = changes.changes.size();
  StoreThread::ClientChangeset changeset;
  changeset.sender = sender;
  changeset.since = changes.since.version;
  changeset.end = {changes.changes.back().db_version, changes.changes.back().seq};
  changeset.changes = std::make_shared<const Changeset>(std::move(changes.changes));
  changeset.room = room_;
  changeset.owner = owner_;
  changeset.gone = gone_;
  changeset.expiry = token_expiry_;
  changeset.check = [outcome, sender, owner = owner_, expiry = token_expiry_, since = changeset.since](
                        ShadowStore& writer, const PeerVersion* applied, bool* merge) {
    *outcome = Outcome{};
    *merge = false;
    // Nothing is merged after the token's expiry, even a changeset that
    // waited for the database since before it; the client sends it again
    // once it has connected with a fresh token.
    if (expiry && std::chrono::system_clock::now() >= *expiry) {
      outcome->expired = true;
      return Status::OK();
    }
    // A gap: the client sent from further than the server has applied (a
    // changeset refused, or lost with a connection). The server restarts
    // the client's stream from what it has, with StartStreaming again, as
    // the published server does: ws-client takes a second StartStreaming
    // as a reset, and does not accept RejectChanges from a server.
    PeerRecord peer;
    if (applied) {
      peer.applied = *applied;
    } else {
      CRBRIDGE_RETURN_IF_ERROR(ReadOwnPeer(writer, sender, owner, &peer));
    }
    if (peer.applied.version < since) {
      outcome->gap = peer.applied;
      outcome->server_site = writer.site_id();
      return Status::OK();
    }
    *merge = true;
    return Status::OK();
  };
  changeset.merged = [outcome](const MergeReport& report, std::chrono::duration<double> took) {
    outcome->report = report;
    outcome->took = took;
  };
  changeset.alone = [outcome, sender, check = changeset.check, changes = changeset.changes, end = changeset.end,
                     room = room_, owner = owner_, gone = gone_](SyncStore& store, ShadowStore& writer) {
    bool merge = false;
    CRBRIDGE_RETURN_IF_ERROR(check(writer, nullptr, &merge));
    if (!merge) return Status::OK();
    const auto started = std::chrono::steady_clock::now();
    const Status s = store.Merge(sender, *changes, end, &outcome->report, room, owner, gone.get());
    // A refused changeset can never be applied. It is acknowledged with
    // nothing applied, as upload queues expect of an error that retrying
    // cannot fix; otherwise ws-client, which resends from the
    // acknowledged position, would send it again before every later write.
    if (s.code() == Status::Code::kInvalidArgument) {
      const Status acknowledged =
          writer.Write([&](ShadowTransaction& tx, int64_t) { return tx.SetPeerVersion(sender, end, owner); });
      // On fresh connections the refusal is decided again, then acknowledged.
      if (acknowledged.code() == Status::Code::kUnavailable) return acknowledged;
      if (!acknowledged.ok()) log::Warn(kSyncLogComponent, "cannot acknowledge a refused changeset", {{"error", acknowledged.ToString()}});
    }
    outcome->took = std::chrono::steady_clock::now() - started;
    return s;
  };
  const auto done = [weak, server, &io, address = address_, outcome, sender, count](const Status& s) {
    boost::asio::post(io, [weak, server, s, outcome, address, sender, count] {
      if (s.ok() && outcome->expired) {
        if (const auto self = weak.lock()) self->Refuse(kTokenExpired);
        return;
      }
      if (s.ok() && outcome->gap) {
        if (const auto self = weak.lock()) {
          self->Send(EncodeMessage(StartStreaming{{outcome->gap->version, outcome->gap->seq}, {outcome->server_site}, false}));
        }
        return;
      }
      if (s.code() == Status::Code::kPermissionDenied) {
        if (const auto self = weak.lock()) self->RefuseSite(s.message());
        return;
      }
      if (!s.ok()) {
        server->metrics_.sync_refusals().Increment();
        log::Warn(kSyncLogComponent, "changes refused", {{"address", address}, {"site", EncodeHex(sender)}, {"error", s.ToString()}});
        const auto self = weak.lock();
        if (!self) return;
        // A changeset that failed for a reason retrying can fix (the
        // database away) must come again: ws-client resends only what the
        // server lacks when it reconnects, so the connection is closed.
        if (s.code() == Status::Code::kInvalidArgument) return self->Send(EncodeMessage(ErrMessage{0, s.message()}));
        return self->Refuse("changes not applied, reconnect to send them again: " + s.message());
      }
      server->metrics_.sync_changes_received().Increment(static_cast<double>(count));
      server->metrics_.sync_merge_seconds().Observe(outcome->took.count());
      const MergeReport& report = outcome->report;
      if (report.clocks_saturated > 0) {
        server->metrics_.clocks_saturated().Increment(static_cast<double>(report.clocks_saturated));
        log::Warn(kSyncLogComponent,
                  "a merge re-recorded app values at clocks that cannot grow (stored before client clocks were "
                  "bounded); clients holding a value at the same clock may keep it",
                  {{"site", EncodeHex(sender)}, {"clock_steps", report.clocks_saturated}});
      }
      if (report.left_room > 0) {
        log::Warn(kSyncLogComponent,
                  "changes to rows outside the client's room (another room's, or gone from its room) were not "
                  "applied; the rows leave the client",
                  {{"address", address}, {"site", EncodeHex(sender)}, {"rows", report.left_room}});
      }
      if (report.kept_in_room > 0) {
        log::Warn(kSyncLogComponent,
                  "changes that would move rows out of the client's room were not applied; the client gets the rows "
                  "back as they are",
                  {{"address", address}, {"site", EncodeHex(sender)}, {"rows", report.kept_in_room}});
      }
      if (report.gone > 0) {
        log::Warn(kSyncLogComponent,
                  "changes to tables or columns the mappings no longer have (the client's schema version has them) "
                  "were not applied; the rest of the changeset was",
                  {{"address", address}, {"site", EncodeHex(sender)}, {"changes", report.gone}});
      }
      if (report.db_version == 0) return;
      server->OnNewVersion(report.db_version);
      if (server->on_merged_) server->on_merged_();
    });
  };
  const bool queued = server_.store_.PostMerge(std::move(changeset), done);
  // The client resends what the server has not applied when it reconnects.
  if (!queued) Refuse("the server is busy (too many changesets wait for the database); reconnect later");
}

void SyncSession::PullAlone() {
  pulling_ = true;
  server_.metrics_.sync_client_pulls().Increment();
  std::weak_ptr<SyncSession> weak = shared_from_this();
  auto& io = server_.io_;
  const PullPosition after = sent_through_;
  const int64_t known = known_version_;
  const PullLimit limit(sync_limits::kPullBatchRows, server_.MaxOutgoingMessageBytes());
  auto batch = std::make_shared<PullBatch>();
  server_.store_.Post(
      [weak, batch, after, limit, room = room_, site = *site_](SyncStore& store, ShadowStore&) {
        if (weak.expired()) return Status::OK();  // the client went
        return store.Pull(after, room, site, limit, batch.get());
      },
      [weak, &io, batch, known](const Status& s) {
        boost::asio::post(io, [weak, s, known, batch] {
          const auto self = weak.lock();
          if (!self) return;
          if (!s.ok()) return self->PullAgainLater(s);
          self->pulling_ = false;
          self->pull_backoff_.Reset();
          self->DeliverPulled(batch->changes, PulledThrough(batch->through, batch->more, known));
          self->MaybePull();
        });
      });
}

void SyncSession::PullAgainLater(const Status& failure) {
  const auto wait = pull_backoff_.Next();
  log::Warn(kSyncLogComponent, "pull failed; trying again",
            {{"address", address_}, {"error", failure.ToString()}, {"in_ms", wait.count()}});
  pull_retry_.expires_after(wait);
  pull_retry_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    const auto self = weak.lock();
    if (ec || !self) return;
    self->pulling_ = false;
    self->MaybePull();
  });
}

void SyncSession::DeliverPulled(std::span<const Change> changes, const PullPosition& through) {
  // The pull was cut at about a message's size; its rows go in messages of
  // at most that many bytes.
  do {
    const size_t count = ChangesInMessage(changes, server_.MaxOutgoingMessageBytes());
    Deliver(EncodedFor(changes.first(count), *site_, Filter()),
            count == changes.size() ? through : PositionOf(changes[count - 1]));
    changes = changes.subspan(count);
  } while (!changes.empty());
}

void SyncSession::Deliver(const EncodedChanges& changes, const PullPosition& through) {
  if (changes.count > 0) {
    const StreamPosition since = client_seen_;
    // ws-client records the last change's version with seq 0 as what it has seen.
    client_seen_ = {changes.last_version, 0};
    server_.metrics_.sync_changes_sent().Increment(static_cast<double>(changes.count));
    Blob frame = EncodeChangesMessage(*server_site_, since, *changes.bytes);
    server_.metrics_.sync_message_bytes().Observe(static_cast<double>(frame.size()));
    Send(std::move(frame));
  }
  sent_through_ = through;
  known_version_ = std::max(known_version_, through.version);
}

void SyncSession::Send(Blob frame) {
  if (close_reason_ || closing_) return;
  Enqueue(std::move(frame));
  if (!writing_) WriteNext();
}

void SyncSession::Enqueue(Blob frame) {
  queued_bytes_ += frame.size();
  server_.metrics_.sync_queued_bytes().Increment(static_cast<double>(frame.size()));
  outbox_.push_back(std::move(frame));
}

void SyncSession::SendPong() {
  // Pings from a client that does not read are answered once, not queued
  // up without bound.
  static const Blob pong = EncodeMessage(Pong{});
  if (outbox_.size() > (writing_ ? 1u : 0u) && outbox_.back() == pong) return;
  Send(pong);
}

void SyncSession::DropQueued(std::deque<Blob>::iterator first, std::deque<Blob>::iterator last) {
  size_t bytes = 0;
  for (auto it = first; it != last; ++it) bytes += it->size();
  queued_bytes_ -= bytes;
  server_.metrics_.sync_queued_bytes().Decrement(static_cast<double>(bytes));
  outbox_.erase(first, last);
}

void SyncSession::DropUnwritten() {
  // The frame being written stays until its write completes: it is the
  // write's buffer.
  DropQueued(writing_ && !outbox_.empty() ? outbox_.begin() + 1 : outbox_.begin(), outbox_.end());
}

void SyncSession::WriteNext() {
  if (closing_) return;
  if (outbox_.empty()) {
    writing_ = false;
    if (close_reason_) return Close(websocket::close_code::policy_error, close_reason_->substr(0, 120));
    MaybePull();
    return;
  }
  writing_ = true;
  ws_.async_write(boost::asio::buffer(outbox_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
    self->writing_ = false;
    self->DropQueued(self->outbox_.begin(), self->outbox_.begin() + 1);
    if (ec) return self->Closed(ec.message());
    self->WriteNext();
  });
}

void SyncSession::Refuse(const std::string& reason) {
  server_.metrics_.sync_refusals().Increment();
  log::Warn(kSyncLogComponent, "client refused",
            {{"address", address_}, {"site", site_ ? EncodeHex(*site_) : std::string("unknown")}, {"reason", reason}});
  if (close_reason_ || closing_) return;
  close_reason_ = reason;
  // What is being written finishes; nothing else queued is sent.
  DropUnwritten();
  Enqueue(EncodeMessage(ErrMessage{0, reason}));
  if (!writing_) WriteNext();
}

void SyncSession::RefuseSite(const std::string& reason) {
  // Once per connection: a changeset sent right after the announcement is
  // refused for the same site again.
  if (!close_reason_ && !closing_) server_.metrics_.sync_site_id_refusals().Increment();
  Refuse(reason);
}

void SyncSession::Closed(const std::string& why) {
  expiry_timer_.cancel();
  closing_ = true;
  streaming_ = false;
  pull_retry_.cancel();
  DropUnwritten();
  if (feed_) {
    feed_ = nullptr;
    server_.LeaveRoom(room_, this);
  }
  if (counted_) {
    counted_ = false;
    if (--server_.connections_per_address_[address_] == 0) server_.connections_per_address_.erase(address_);
  }
  if (connected_) {
    connected_ = false;
    server_.metrics_.sync_clients().Decrement();
    log::Info(kSyncLogComponent, "client disconnected", {{"address", address_}, {"reason", why}});
  }
  server_.sessions_.erase(shared_from_this());
}
}  // namespace crbridge
