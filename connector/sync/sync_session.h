// SyncSession: one client connection of the sync server, from the
// WebSocket upgrade to its close: it announces itself, pushes changesets
// (merged on the store thread) and is sent what its room has that it has
// not seen, from the room's feed or, when behind it, from pulls of its own.
// It lives no longer than its token: at the token's expiry it is closed,
// and nothing it sends from then on is merged. Its site id must be its own
// (SiteOwner; docs/sync-server.md, "Site ids"). Every method runs on the io
// thread; database work is posted to the store thread and its results
// posted back.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "crbridge/connector/sync/room_feed.h"
#include "crbridge/connector/sync/sync_auth.h"
#include "crbridge/sqlite/backoff.h"
#include "crbridge/sqlite/change.h"
#include "crbridge/sqlite/vlcn_messages.h"
#include "sync_server_impl.h"

namespace crbridge {

class SyncSession : public std::enable_shared_from_this<SyncSession> {
 public:
  // `grant`: what the client's token said (SyncAuth::Check).
  SyncSession(boost::asio::ip::tcp::socket socket, SyncServer::Impl& server, std::string room, SyncAuth::Grant grant);

  void Start(boost::beast::http::request<boost::beast::http::string_body> request, const std::string& subprotocol);

  // A new server version: send the client what it has not seen.
  void OnNewVersion(int64_t version);

  // Nothing is taken while a write or a pull is under way: a slow client is
  // sent less often, never more than one batch ahead. A client at the head
  // of its room is served from the room's feed; one further behind pulls on
  // its own until it gets there.
  void MaybePull();

  void Close(boost::beast::websocket::close_code code, const std::string& reason);

 private:
  void Read();

  void OnMessage(Message message);

  void OnAnnounce(AnnouncePresence presence);

  void OnChanges(ChangesMessage changes);

  void PullAlone();

  // A pull of the client's own failed: it is tried again after a backoff,
  // for as long as the client stays.
  void PullAgainLater(const Status& failure);

  // Sends the client a pull of its own (PullBatch::changes), the server's
  // changes up to `through`, in messages of a bounded size.
  void DeliverPulled(std::span<const Change> changes, const PullPosition& through);

  // Sends the client `changes`, the server's changes up to `through`.
  void Deliver(const EncodedChanges& changes, const PullPosition& through);

  void Send(Blob frame);
  void SendPong();
  // The outbox and the count of its bytes (queued_bytes_ and the metric)
  // change together here.
  void Enqueue(Blob frame);
  void DropQueued(std::deque<Blob>::iterator first, std::deque<Blob>::iterator last);
  // Drops every frame but the one being written.
  void DropUnwritten();

  void WriteNext();

  // A protocol error: said on the wire, logged once, and the connection closed.
  void Refuse(const std::string& reason);

  // A site id that is not the client's own (PermissionDenied): refused, and
  // counted in crbridge_sync_site_id_refusals_total.
  void RefuseSite(const std::string& reason);

  // What the client is sent: every change, or (a client of another schema
  // version than the current one, or one catching up on the columns its
  // previous version lacked) those its schema has.
  ChangeFilter Filter() const;
  // Sets what the client is sent for schema `announced`, having announced
  // `previous` before (ServedSchema).
  void FollowSchema(const ServedSchema& announced, const ServedSchema* previous, const ServedSchema& current);

  // Whether the client's token has expired (never with auth mode none).
  bool TokenExpired() const;

  void Closed(const std::string& why);

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  SyncServer::Impl& server_;  // outlives its sessions' handlers (see SyncServer::Stop)
  std::string room_;
  std::string owner_;  // whom the client's site id must be bound to (SiteOwner)
  std::optional<std::chrono::system_clock::time_point> token_expiry_;
  boost::asio::system_timer expiry_timer_;  // closes the connection at token_expiry_
  std::string address_;
  boost::beast::flat_buffer buffer_;
  // Frames to write, the first one being written: at most one pull's
  // messages (a client is sent more only once they are written) and a few
  // answers.
  std::deque<Blob> outbox_;
  size_t queued_bytes_ = 0;
  bool counted_ = true;  // in connections_per_address_
  bool connected_ = false;
  bool writing_ = false;
  bool closing_ = false;
  std::optional<std::string> close_reason_;  // refused: closing after the Err
  std::optional<SiteId> site_;
  std::optional<SiteId> server_site_;
  bool streaming_ = false;
  bool pulling_ = false;  // or waiting to pull again after a failed pull
  boost::asio::steady_timer pull_retry_;
  Backoff pull_backoff_;
  RoomFeed* feed_ = nullptr;  // the room's, while streaming
  StreamPosition client_seen_;  // the last server change the client has
  PullPosition sent_through_;   // the server's changes up to here were looked at
  int64_t known_version_ = 0;
  // The tables and columns of the client's schema, when it is not the
  // current one.
  std::optional<SchemaColumns> schema_columns_;
  // A client that upgraded its schema: the columns it lacked, whose values
  // it is sent for the changes up to upgrade_through_ (where it stood).
  std::optional<AddedColumns> upgrade_;
  PullPosition upgrade_through_;
  // What the client's schema has that the mappings no longer do: its
  // changes to those are left out of its merges (MergeReport::gone).
  std::shared_ptr<const AddedColumns> gone_;
};

}  // namespace crbridge
