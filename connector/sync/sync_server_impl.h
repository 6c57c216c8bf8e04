// SyncServer::Impl: the sync server's state on the io thread: its
// sessions, the connections per address, and the live feed of each room
// that has streaming clients (RoomFeed), all pulled at once per new
// version: a changed row is read once, whatever the number of rooms it is
// in. Every member is used on the io thread only, except store_,
// whose jobs run on the store thread and post their results back.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "crbridge/connector/sync/room_feed.h"
#include "crbridge/connector/sync/sync_server.h"
#include "crbridge/server/core/sync_store.h"
#include "crbridge/sqlite/vlcn_messages.h"
#include "store_thread.h"

namespace crbridge {

class SyncSession;

namespace sync_limits {
// Rows per Changes message sent (a few changes each).
constexpr size_t kPullBatchRows = 1000;
// Client changesets waiting for the database (it may be down, or slow) at
// the most; beyond, clients are told to come back later.
constexpr size_t kMaxWaitingMerges = 1000;
// Changes a room's live feed holds at the most, and bytes, in messages of
// server.max_outgoing_message_bytes; a client further behind catches up
// with pulls of its own.
constexpr size_t kRoomFeedChanges = 20000;
constexpr size_t kRoomFeedMessages = 16;
// A pull of the rooms' feeds that failed (the database is down) is tried
// again after this.
constexpr auto kRoomPullRetry = std::chrono::milliseconds(500);
// A client's own pull that failed is tried again after a backoff from the
// first to the second.
constexpr auto kPullRetryInitial = std::chrono::milliseconds(200);
constexpr auto kPullRetryMax = std::chrono::seconds(30);
}  // namespace sync_limits

// Where a pull that started when the server was known to be at version
// `known` leaves its reader. A pull that found no more considered every
// version committed before it started, `known` among them, even when none
// of them touched the room; one that stopped short ends where it stopped.
inline PullPosition PulledThrough(const PullPosition& through, bool more, int64_t known) {
  return more ? through : PullPosition(std::max(through.version, known));
}

// Where a client that announced having the server's changes up to `seen`
// goes on from. ws-client records the version of the last change it got,
// with seq 0, whatever it got of that version, and a message may end
// inside a version: that version is sent again whole (receiving a change
// twice changes nothing).
inline PullPosition ResumeAt(const StreamPosition& seen) {
  return PullPosition(std::max<int64_t>(seen.version - 1, 0));
}


class SyncServer::Impl : public std::enable_shared_from_this<SyncServer::Impl> {
 public:
  Impl(boost::asio::io_context& io, const Config& config, std::unique_ptr<SyncAuth> auth, Metrics& metrics,
       Health& health, std::function<void()> on_merged)
      : io_(io),
        config_(config),
        auth_(std::move(auth)),
        metrics_(metrics),
        on_merged_(std::move(on_merged)),
        store_(config, sync_limits::kMaxWaitingMerges, health, metrics) {}

  void Accept(boost::asio::ip::tcp::socket socket,
              boost::beast::http::request<boost::beast::http::string_body> request);
  void OnNewVersion(int64_t version);
  void Stop();

  // The live feed of a room, while it has streaming clients. Every feed
  // stands at feeds_head_: one pull of every room moves them all.
  struct Room {
    RoomFeed feed;
    std::set<SyncSession*> clients;
  };
  RoomFeed& JoinRoom(const std::string& room, SyncSession* client);
  void LeaveRoom(const std::string& room, SyncSession* client);
  // Pulls what is new for every room once (SyncStore::PullEveryRoom),
  // unless a pull is under way or nothing is; the rooms' clients are then
  // served from their feeds.
  void PullFeeds();
  void OnFeedsPulled(const Status& status, EveryRoomBatch batch, int64_t known);

  size_t MaxOutgoingMessageBytes() const { return static_cast<size_t>(config_.server.max_outgoing_message_bytes); }

  boost::asio::io_context& io_;
  const Config& config_;
  std::unique_ptr<SyncAuth> auth_;
  Metrics& metrics_;
  std::function<void()> on_merged_;
  StoreThread store_;
  int64_t latest_version_ = 0;  // io thread
  std::map<std::string, Room> rooms_;  // io thread
  PullPosition feeds_head_;  // io thread: where every room's feed stands
  bool feeds_pulling_ = false;  // io thread
  std::unique_ptr<boost::asio::steady_timer> feeds_retry_;  // io thread
  std::map<std::string, int64_t> connections_per_address_;  // io thread
  std::set<std::shared_ptr<SyncSession>> sessions_;  // io thread
};


}  // namespace crbridge
