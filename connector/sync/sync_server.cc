#include "crbridge/connector/sync/sync_server.h"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <optional>
#include <vector>

#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/server/core/shadow_store.h"
#include "sync_server_impl.h"
#include "sync_session.h"

namespace crbridge {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

void SyncServer::Impl::Accept(tcp::socket socket, http::request<http::string_body> request) {
  const std::string subprotocol(request[http::field::sec_websocket_protocol]);
  SyncRequest sync;
  SyncAuth::Grant grant;
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
    switch (auth_->Check(sync, std::chrono::system_clock::now(), &grant, &reason)) {
      case SyncAuth::Verdict::kAllowed: break;
      case SyncAuth::Verdict::kUnauthenticated: status = 401; break;
      case SyncAuth::Verdict::kForbidden: status = 403; break;
    }
  }
  if (status != 0) {
    metrics_.sync_refusals().Increment();
    log::Warn(kSyncLogComponent, "connection refused", {{"address", address}, {"status", status}, {"reason", reason}});
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
  auto session = std::make_shared<SyncSession>(std::move(socket), *this, sync.room, std::move(grant));
  sessions_.insert(session);
  session->Start(std::move(request), subprotocol);
}

void SyncServer::Impl::OnNewVersion(int64_t version) {
  latest_version_ = std::max(latest_version_, version);
  for (const auto& session : sessions_) session->OnNewVersion(latest_version_);
}

RoomFeed& SyncServer::Impl::JoinRoom(const std::string& name, SyncSession* client) {
  // With no feed and no pull under way, feeds start from now: a client
  // behind catches up with pulls of its own.
  if (rooms_.empty() && !feeds_pulling_) feeds_head_ = std::max(feeds_head_, PullPosition(latest_version_));
  const size_t max_bytes = sync_limits::kRoomFeedMessages * MaxOutgoingMessageBytes();
  auto [room, created] =
      rooms_.try_emplace(name, Room{RoomFeed(feeds_head_, sync_limits::kRoomFeedChanges, max_bytes), {}});
  room->second.clients.insert(client);
  return room->second.feed;
}

void SyncServer::Impl::LeaveRoom(const std::string& name, SyncSession* client) {
  const auto room = rooms_.find(name);
  if (room == rooms_.end()) return;
  room->second.clients.erase(client);
  // A pull under way finds the room gone; a new client starts a new feed.
  if (room->second.clients.empty()) rooms_.erase(room);
}

void SyncServer::Impl::PullFeeds() {
  if (feeds_pulling_ || feeds_retry_ || rooms_.empty() || PullPosition(latest_version_) <= feeds_head_) return;
  feeds_pulling_ = true;
  metrics_.sync_room_pulls().Increment();
  std::weak_ptr<Impl> weak = weak_from_this();
  const PullPosition after = feeds_head_;
  const int64_t known = latest_version_;
  const PullLimit limit(sync_limits::kPullBatchRows, MaxOutgoingMessageBytes());
  auto batch = std::make_shared<EveryRoomBatch>();
  store_.Post(
      [batch, after, limit](SyncStore& store, ShadowStore&) { return store.PullEveryRoom(after, limit, batch.get()); },
      [weak, &io = io_, batch, known](const Status& s) {
        boost::asio::post(io, [weak, s, known, batch] {
          if (const auto self = weak.lock()) self->OnFeedsPulled(s, std::move(*batch), known);
        });
      });
}

void SyncServer::Impl::OnFeedsPulled(const Status& status, EveryRoomBatch batch, int64_t known) {
  feeds_pulling_ = false;
  if (!status.ok()) {
    log::Warn(kSyncLogComponent, "room feeds pull failed", {{"error", status.ToString()}});
    feeds_retry_ = std::make_unique<boost::asio::steady_timer>(io_, sync_limits::kRoomPullRetry);
    feeds_retry_->async_wait([weak = weak_from_this()](beast::error_code) {
      const auto self = weak.lock();
      if (!self) return;
      self->feeds_retry_.reset();
      self->PullFeeds();
    });
    return;
  }
  feeds_head_ = PulledThrough(batch.through, batch.more, known);
  std::vector<SyncSession*> clients;
  for (auto& [name, room] : rooms_) {
    room.feed.Append(feeds_head_, batch.For(name));
    clients.insert(clients.end(), room.clients.begin(), room.clients.end());
  }
  // The next pull waits for a client that has read this one (its
  // MaybePull finds the feeds ahead): pulls keep the pace of the clients,
  // never running so far ahead that a feed drops rows its slower clients
  // have not read yet, which they would then pull from the database alone.
  for (SyncSession* client : clients) client->MaybePull();
}

void SyncServer::Impl::Stop() {
  for (const auto& session : std::set<std::shared_ptr<SyncSession>>(sessions_)) {
    session->Close(websocket::close_code::going_away, "server shutting down");
  }
}

SyncServer::SyncServer(boost::asio::io_context& io, const Config& config, std::unique_ptr<SyncAuth> auth,
                       Metrics& metrics, Health& health, std::function<void()> on_merged)
    : impl_(std::make_shared<Impl>(io, config, std::move(auth), metrics, health, std::move(on_merged))) {
  impl_->store_.Start(
      [weak = std::weak_ptr<Impl>(impl_), &io](int64_t db_version) {
        boost::asio::post(io, [weak, db_version] {
          if (const auto self = weak.lock()) self->OnNewVersion(db_version);
        });
      },
      [weak = std::weak_ptr<Impl>(impl_), &io] {
        // Clients announced their schema against the old mappings: each
        // announces again (ws-client reconnects by itself), before anything
        // pulled with the new ones can reach it.
        boost::asio::post(io, [weak] {
          const auto self = weak.lock();
          if (!self) return;
          for (const auto& session : std::set<std::shared_ptr<SyncSession>>(self->sessions_)) {
            session->Close(websocket::close_code::service_restart, "the server's schema changed; reconnect");
          }
        });
      });
}

SyncServer::~SyncServer() = default;

void SyncServer::Accept(tcp::socket socket, http::request<http::string_body> request) {
  impl_->Accept(std::move(socket), std::move(request));
}

void SyncServer::OnNewVersion(int64_t db_version) {
  boost::asio::post(impl_->io_, [impl = impl_, db_version] { impl->OnNewVersion(db_version); });
}

void SyncServer::CheckDatabase() { impl_->store_.CheckConnections(); }

void SyncServer::ReloadMappings(std::function<void()> reloaded) {
  impl_->store_.Reload(std::move(reloaded));
}

void SyncServer::Stop() { impl_->Stop(); }

}  // namespace crbridge
