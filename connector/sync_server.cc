#include "crbridge/connector/sync_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "crbridge/sqlite/backoff.h"
#include "crbridge/connector/live_check.h"
#include "crbridge/connector/room_feed.h"
#include "crbridge/connector/structured_log.h"
#include "crbridge/server/shadow_store.h"
#include "crbridge/server/sync_store.h"
#include "crbridge/sqlite/text_encoding.h"
#include "crbridge/sqlite/vlcn_messages.h"

namespace crbridge {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr const char* kComponent = "sync";
// Rows per Changes message sent (a few changes each).
constexpr size_t kPullBatchRows = 1000;
// Client changesets waiting for the database (it may be down, or slow) at
// the most; beyond, clients are told to come back later.
constexpr size_t kMaxWaitingMerges = 1000;
// Changes a room's live feed holds at the most; a client further behind
// catches up with pulls of its own.
constexpr size_t kRoomFeedChanges = 20000;
// A room pull that failed (the database is down) is tried again after this.
constexpr auto kRoomPullRetry = std::chrono::milliseconds(500);

// Where a pull that started when the server was known to be at version
// `known` leaves its reader. A pull that found no more considered every
// version committed before it started, `known` among them, even when none
// of them touched the room; one that stopped short ends where it stopped.
int64_t PulledThrough(const PullBatch& batch, int64_t known) {
  return batch.more ? batch.through : std::max(batch.through, known);
}

// The database side of every connection: merges and pulls run here, one
// at a time and in order, on connections of their own.
class StoreThread {
 public:
  using Job = std::function<void(SyncStore& store, ShadowStore& writer)>;

  explicit StoreThread(const Config& config) : config_(config), thread_([this](std::stop_token stop) { Run(stop); }) {}

  ~StoreThread() {
    thread_.request_stop();
    wake_.notify_all();
  }

  void Post(Job job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    wake_.notify_all();
  }

  // A merge, unless kMaxWaitingMerges are waiting already: false then.
  bool PostMerge(Job job) {
    {
      std::lock_guard lock(mutex_);
      if (waiting_merges_ >= kMaxWaitingMerges) return false;
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

 private:
  void Run(std::stop_token stop) {
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

  bool Connect() {
    ServerInfo server;
    ConfigCheck check;
    if (const Status s = LiveCheck(config_, std::chrono::seconds(5), &server, &check); !s.ok() || !check.problems.empty()) {
      log::Warn(kComponent, "waiting for the database", {{"error", s.ok() ? "invalid mappings" : s.ToString()}});
      return false;
    }
    check_ = std::move(check);
    if (const Status s = OpenShadowStore(config_, check_.tables, ShadowStore::Marking::kCrbridge, &writer_); !s.ok()) {
      log::Warn(kComponent, "cannot open the shadow store", {{"error", s.ToString()}});
      return false;
    }
    writer_->set_logs_changes(config_.kafka.has_value());
    store_ = std::make_unique<SyncStore>(config_, check_.tables, *writer_);
    log::Info(kComponent, "ready", {{"site_id", EncodeHex(writer_->site_id())}});
    return true;
  }

  const Config& config_;
  ConfigCheck check_;
  std::unique_ptr<ShadowStore> writer_;
  std::unique_ptr<SyncStore> store_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<Job> jobs_;
  size_t waiting_merges_ = 0;
  std::jthread thread_;  // last: it starts running in the constructor
};

}  // namespace

class SyncServer::Impl : public std::enable_shared_from_this<SyncServer::Impl> {
 public:
  class Session;

  Impl(boost::asio::io_context& io, const Config& config, std::unique_ptr<SyncAuth> auth, Metrics& metrics,
       std::function<void()> on_merged)
      : io_(io),
        config_(config),
        auth_(std::move(auth)),
        metrics_(metrics),
        on_merged_(std::move(on_merged)),
        store_(config) {}

  void Accept(tcp::socket socket, http::request<http::string_body> request);
  void OnNewVersion(int64_t version);
  void Stop();

  // The live feed of a room, while it has streaming clients.
  struct Room {
    RoomFeed feed;
    std::set<Session*> clients;
    bool pulling = false;
    std::unique_ptr<boost::asio::steady_timer> retry;
  };
  RoomFeed& JoinRoom(const std::string& room, Session* client);
  void LeaveRoom(const std::string& room, Session* client);
  // Pulls what is new for `room` once, unless a pull is under way or
  // nothing is; its clients are then served from the feed.
  void PullRoom(const std::string& room);
  void OnRoomPulled(const std::string& room, const Status& status, PullBatch batch, int64_t known);

  boost::asio::io_context& io_;
  const Config& config_;
  std::unique_ptr<SyncAuth> auth_;
  Metrics& metrics_;
  std::function<void()> on_merged_;
  StoreThread store_;
  int64_t latest_version_ = 0;  // io thread
  std::map<std::string, Room> rooms_;  // io thread
  std::map<std::string, int64_t> connections_per_address_;  // io thread
  std::set<std::shared_ptr<Session>> sessions_;  // io thread
};

// One client connection.
class SyncServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Impl& server, std::string room)
      : ws_(std::move(socket)), server_(server), room_(std::move(room)) {
    beast::error_code ignored;
    address_ = beast::get_lowest_layer(ws_).socket().remote_endpoint(ignored).address().to_string();
    ++server_.connections_per_address_[address_];
  }

  void Start(http::request<http::string_body> request, const std::string& subprotocol) {
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
      log::Info(kComponent, "client connected", {{"address", self->address_}, {"room", self->room_}});
      self->connected_ = true;
      self->server_.metrics_.sync_clients().Increment();
      self->Read();
    });
  }

  // A new server version: send the client what it has not seen.
  void OnNewVersion(int64_t version) {
    known_version_ = std::max(known_version_, version);
    MaybePull();
  }

  // Nothing is taken while a write or a pull is under way: a slow client is
  // sent less often, never more than one batch ahead. A client at the head
  // of its room is served from the room's feed; one further behind pulls on
  // its own until it gets there.
  void MaybePull() {
    while (streaming_ && !pulling_ && !closing_ && !close_reason_ && !writing_ && known_version_ > sent_through_) {
      Changeset changes;
      int64_t through = 0;
      switch (feed_->Next(sent_through_, *site_, &changes, &through)) {
        case RoomFeed::Read::kServed: Deliver(std::move(changes), through); break;
        case RoomFeed::Read::kAhead: return server_.PullRoom(room_);
        case RoomFeed::Read::kBehind: return PullAlone();
      }
    }
  }

  void Close(websocket::close_code code, const std::string& reason) {
    if (closing_) return;
    closing_ = true;
    ws_.async_close(websocket::close_reason(code, reason), [self = shared_from_this()](beast::error_code) {
      self->Closed("closed by the server");
    });
  }

 private:
  void Read() {
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

  void OnMessage(Message message) {
    if (auto* presence = std::get_if<AnnouncePresence>(&message)) return OnAnnounce(std::move(*presence));
    if (auto* changes = std::get_if<ChangesMessage>(&message)) return OnChanges(std::move(*changes));
    if (const auto* reject = std::get_if<RejectChanges>(&message)) {
      // The client missed something: resend from what it has.
      if (server_site_ && reject->whose == *server_site_) {
        client_seen_ = reject->since;
        sent_through_ = reject->since.version;
        MaybePull();
      }
      return;
    }
    if (std::holds_alternative<Ping>(message)) return Send(EncodeMessage(Pong{}));
    if (const auto* err = std::get_if<ErrMessage>(&message)) {
      log::Warn(kComponent, "client reported an error", {{"address", address_}, {"error", err->message}});
    }
  }

  void OnAnnounce(AnnouncePresence presence) {
    if (presence.schema_name != server_.config_.schema_name) {
      return Refuse("schema \"" + presence.schema_name + "\" is not served here; this server serves \"" +
                    server_.config_.schema_name + "\"");
    }
    site_ = presence.sender;
    std::weak_ptr<Session> weak = shared_from_this();
    auto& io = server_.io_;
    server_.store_.Post([weak, &io, presence = std::move(presence)](SyncStore&, ShadowStore& writer) {
      PeerVersion applied;
      int64_t version = 0;
      const Status s = writer.GetPeerVersion(presence.sender, &applied);
      const Status v = s.ok() ? writer.DbVersion(&version) : s;
      const SiteId server_site = writer.site_id();
      boost::asio::post(io, [weak, presence, applied, version, server_site, v] {
        const auto self = weak.lock();
        if (!self) return;
        if (!v.ok()) return self->Refuse("the database is unavailable: " + v.message());
        self->server_site_ = server_site;
        for (const LastSeen& seen : presence.last_seens) {
          if (seen.site == server_site) self->client_seen_ = seen.position;
        }
        self->sent_through_ = self->client_seen_.version;
        self->Send(EncodeMessage(StartStreaming{{applied.version, applied.seq}, {server_site}, false}));
        if (!self->feed_) self->feed_ = &self->server_.JoinRoom(self->room_, self.get());
        self->streaming_ = true;
        self->server_.latest_version_ = std::max(self->server_.latest_version_, version);
        self->OnNewVersion(self->server_.latest_version_);
      });
    });
  }

  void OnChanges(ChangesMessage changes) {
    if (!site_ || changes.sender != *site_) return Refuse("Changes before AnnouncePresence, or from another site");
    if (changes.changes.size() > static_cast<size_t>(server_.config_.server.max_changes_per_message)) {
      return Refuse("a message of " + std::to_string(changes.changes.size()) + " changes; the limit is " +
                    std::to_string(static_cast<size_t>(server_.config_.server.max_changes_per_message)));
    }
    if (changes.changes.empty()) return;
    std::weak_ptr<Session> weak = shared_from_this();
    Impl* server = &server_;
    auto& io = server_.io_;
    const std::string address = address_;
    const bool queued = server_.store_.PostMerge([weak, server, &io, address, room = room_, changes = std::move(changes)](
                            SyncStore& store, ShadowStore& writer) {
      // A gap: the client sent from further than the server has applied (a
      // changeset refused, or lost with a connection). The server restarts
      // the client's stream from what it has, with StartStreaming again, as
      // the published server does: ws-client takes a second StartStreaming
      // as a reset, and does not accept RejectChanges from a server.
      PeerVersion applied;
      Status s = writer.GetPeerVersion(changes.sender, &applied);
      if (s.ok() && applied.version < changes.since.version) {
        const SiteId server_site = writer.site_id();
        boost::asio::post(io, [weak, applied, server_site] {
          if (const auto self = weak.lock()) {
            self->Send(EncodeMessage(StartStreaming{{applied.version, applied.seq}, {server_site}, false}));
          }
        });
        return;
      }
      MergeReport report;
      const auto started = std::chrono::steady_clock::now();
      const PeerVersion end{changes.changes.back().db_version, changes.changes.back().seq};
      if (s.ok()) s = store.Merge(changes.sender, changes.changes, end, &report, room);
      // A refused changeset can never be applied. It is acknowledged with
      // nothing applied, as upload queues expect of an error that retrying
      // cannot fix; otherwise ws-client, which resends from the
      // acknowledged position, would send it again before every later write.
      if (s.code() == Status::Code::kInvalidArgument) {
        const Status acknowledged =
            writer.Write([&](ShadowTransaction& tx, int64_t) { return tx.SetPeerVersion(changes.sender, end); });
        if (!acknowledged.ok()) log::Warn(kComponent, "cannot acknowledge a refused changeset", {{"error", acknowledged.ToString()}});
      }
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      boost::asio::post(io, [weak, server, s, report, address, took, sender = changes.sender, count = changes.changes.size()] {
        if (!s.ok()) {
          server->metrics_.sync_refusals().Increment();
          log::Warn(kComponent, "changes refused", {{"address", address}, {"site", EncodeHex(sender)}, {"error", s.ToString()}});
          if (const auto self = weak.lock()) self->Send(EncodeMessage(ErrMessage{0, s.message()}));
          return;
        }
        server->metrics_.sync_changes_received().Increment(static_cast<double>(count));
        server->metrics_.sync_merge_seconds().Observe(took.count());
        if (report.db_version == 0) return;
        server->OnNewVersion(report.db_version);
        if (server->on_merged_) server->on_merged_();
      });
    });
    // The client resends what the server has not applied when it reconnects.
    if (!queued) Refuse("the server is busy (too many changesets wait for the database); reconnect later");
  }

  void PullAlone() {
    pulling_ = true;
    server_.metrics_.sync_client_pulls().Increment();
    std::weak_ptr<Session> weak = shared_from_this();
    auto& io = server_.io_;
    const int64_t after = sent_through_;
    const int64_t known = known_version_;
    server_.store_.Post([weak, &io, after, known, room = room_, site = *site_](SyncStore& store, ShadowStore&) {
      PullBatch batch;
      const Status s = store.Pull(after, room, site, kPullBatchRows, &batch);
      boost::asio::post(io, [weak, s, known, batch = std::move(batch)]() mutable {
        const auto self = weak.lock();
        if (!self) return;
        self->pulling_ = false;
        if (!s.ok()) {
          log::Warn(kComponent, "pull failed", {{"address", self->address_}, {"error", s.ToString()}});
          return;
        }
        self->Deliver(std::move(batch.changes), PulledThrough(batch, known));
        self->MaybePull();
      });
    });
  }

  // Sends the client `changes`, the server's versions up to `through`.
  void Deliver(Changeset changes, int64_t through) {
    if (!changes.empty()) {
      const StreamPosition since = client_seen_;
      // ws-client records the last change's version with seq 0 as what it has seen.
      client_seen_ = {changes.back().db_version, 0};
      server_.metrics_.sync_changes_sent().Increment(static_cast<double>(changes.size()));
      Send(EncodeMessage(ChangesMessage{*server_site_, since, std::move(changes)}));
    }
    sent_through_ = through;
    known_version_ = std::max(known_version_, through);
  }

  void Send(Blob frame) {
    if (close_reason_ || closing_) return;
    outbox_.push_back(std::move(frame));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (closing_) return;
    if (outbox_.empty()) {
      writing_ = false;
      if (close_reason_) return Close(websocket::close_code::policy_error, close_reason_->substr(0, 120));
      MaybePull();
      return;
    }
    writing_ = true;
    ws_.async_write(boost::asio::buffer(outbox_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Closed(ec.message());
      self->outbox_.pop_front();
      self->WriteNext();
    });
  }

  // A protocol error: said on the wire, logged once, and the connection closed.
  void Refuse(const std::string& reason) {
    server_.metrics_.sync_refusals().Increment();
    log::Warn(kComponent, "client refused",
              {{"address", address_}, {"site", site_ ? EncodeHex(*site_) : std::string("unknown")}, {"reason", reason}});
    if (close_reason_ || closing_) return;
    close_reason_ = reason;
    // What is being written finishes; nothing else queued is sent.
    outbox_.erase(writing_ ? outbox_.begin() + 1 : outbox_.begin(), outbox_.end());
    outbox_.push_back(EncodeMessage(ErrMessage{0, reason}));
    if (!writing_) WriteNext();
  }

  void Closed(const std::string& why) {
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
      log::Info(kComponent, "client disconnected", {{"address", address_}, {"reason", why}});
    }
    server_.sessions_.erase(shared_from_this());
  }

  websocket::stream<beast::tcp_stream> ws_;
  Impl& server_;  // outlives its sessions' handlers (see SyncServer::Stop)
  std::string room_;
  std::string address_;
  beast::flat_buffer buffer_;
  std::deque<Blob> outbox_;
  bool counted_ = true;  // in connections_per_address_
  bool connected_ = false;
  bool writing_ = false;
  bool closing_ = false;
  std::optional<std::string> close_reason_;  // refused: closing after the Err
  std::optional<SiteId> site_;
  std::optional<SiteId> server_site_;
  bool streaming_ = false;
  bool pulling_ = false;
  RoomFeed* feed_ = nullptr;  // the room's, while streaming
  StreamPosition client_seen_;  // the last server change the client has
  int64_t sent_through_ = 0;    // server versions up to this were looked at
  int64_t known_version_ = 0;
};

void SyncServer::Impl::Accept(tcp::socket socket, http::request<http::string_body> request) {
  const std::string subprotocol(request[http::field::sec_websocket_protocol]);
  SyncRequest sync;
  std::string reason;
  int status = 0;
  beast::error_code no_address;
  const std::string address = socket.remote_endpoint(no_address).address().to_string();
  const auto open = connections_per_address_.find(address);
  if (open != connections_per_address_.end() && open->second >= config_.server.max_connections_per_address) {
    status = 429;
    reason = "too many connections from " + address + " (server.max_connections_per_address)";
  } else if (const Status s = ParseSubprotocol(subprotocol, &sync); !s.ok()) {
    status = 400;
    reason = s.message();
  } else {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    switch (auth_->Check(sync, now.count(), &reason)) {
      case SyncAuth::Verdict::kAllowed: break;
      case SyncAuth::Verdict::kUnauthenticated: status = 401; break;
      case SyncAuth::Verdict::kForbidden: status = 403; break;
    }
  }
  if (status != 0) {
    metrics_.sync_refusals().Increment();
    log::Warn(kComponent, "connection refused", {{"address", address}, {"status", status}, {"reason", reason}});
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    auto response = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), request.version());
    response->set(http::field::server, "crbridge");
    response->set(http::field::content_type, "text/plain; charset=utf-8");
    response->keep_alive(false);
    response->body() = reason + "\n";
    response->prepare_payload();
    http::async_write(*stream, *response, [stream, response](beast::error_code, size_t) {
      beast::error_code ignored_close;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored_close);
    });
    return;
  }
  auto session = std::make_shared<Session>(std::move(socket), *this, sync.room);
  sessions_.insert(session);
  session->Start(std::move(request), subprotocol);
}

void SyncServer::Impl::OnNewVersion(int64_t version) {
  latest_version_ = std::max(latest_version_, version);
  for (const auto& session : sessions_) session->OnNewVersion(latest_version_);
}

RoomFeed& SyncServer::Impl::JoinRoom(const std::string& name, Session* client) {
  auto [room, created] = rooms_.try_emplace(name, Room{RoomFeed(latest_version_, kRoomFeedChanges), {}, false, nullptr});
  room->second.clients.insert(client);
  return room->second.feed;
}

void SyncServer::Impl::LeaveRoom(const std::string& name, Session* client) {
  const auto room = rooms_.find(name);
  if (room == rooms_.end()) return;
  room->second.clients.erase(client);
  // A pull under way finds the room gone; a new client starts a new feed.
  if (room->second.clients.empty()) rooms_.erase(room);
}

void SyncServer::Impl::PullRoom(const std::string& name) {
  const auto found = rooms_.find(name);
  if (found == rooms_.end()) return;
  Room& room = found->second;
  if (room.pulling || room.retry || latest_version_ <= room.feed.head()) return;
  room.pulling = true;
  metrics_.sync_room_pulls().Increment();
  std::weak_ptr<Impl> weak = weak_from_this();
  const int64_t after = room.feed.head();
  const int64_t known = latest_version_;
  store_.Post([weak, &io = io_, name, after, known](SyncStore& store, ShadowStore&) {
    PullBatch batch;
    const Status s = store.Pull(after, name, std::nullopt, kPullBatchRows, &batch);
    boost::asio::post(io, [weak, name, s, known, batch = std::move(batch)]() mutable {
      if (const auto self = weak.lock()) self->OnRoomPulled(name, s, std::move(batch), known);
    });
  });
}

void SyncServer::Impl::OnRoomPulled(const std::string& name, const Status& status, PullBatch batch, int64_t known) {
  const auto found = rooms_.find(name);
  if (found == rooms_.end()) return;
  Room& room = found->second;
  room.pulling = false;
  if (!status.ok()) {
    log::Warn(kComponent, "room pull failed", {{"room", name}, {"error", status.ToString()}});
    room.retry = std::make_unique<boost::asio::steady_timer>(io_, kRoomPullRetry);
    room.retry->async_wait([weak = weak_from_this(), name](beast::error_code) {
      const auto self = weak.lock();
      if (!self) return;
      const auto again = self->rooms_.find(name);
      if (again == self->rooms_.end()) return;
      again->second.retry.reset();
      self->PullRoom(name);
    });
    return;
  }
  room.feed.Append(PulledThrough(batch, known), std::move(batch.changes));
  for (Session* client : room.clients) client->MaybePull();
  PullRoom(name);
}

void SyncServer::Impl::Stop() {
  for (const auto& session : std::set<std::shared_ptr<Session>>(sessions_)) {
    session->Close(websocket::close_code::going_away, "server shutting down");
  }
}

SyncServer::SyncServer(boost::asio::io_context& io, const Config& config, std::unique_ptr<SyncAuth> auth,
                       Metrics& metrics, std::function<void()> on_merged)
    : impl_(std::make_shared<Impl>(io, config, std::move(auth), metrics, std::move(on_merged))) {}

SyncServer::~SyncServer() = default;

void SyncServer::Accept(tcp::socket socket, http::request<http::string_body> request) {
  impl_->Accept(std::move(socket), std::move(request));
}

void SyncServer::OnNewVersion(int64_t db_version) {
  boost::asio::post(impl_->io_, [impl = impl_, db_version] { impl->OnNewVersion(db_version); });
}

void SyncServer::Stop() { impl_->Stop(); }

}  // namespace crbridge
