// SyncConnection: one WebSocket connection to a vlcn sync server, one
// message per binary frame: the upgrade with the room's subprotocol (a
// refused upgrade becomes a Status naming the HTTP status and the server's
// reason), then whole messages sent and received with deadlines. Received
// frames are bounded in size and decoded one at a time.
// Blocking calls on the caller's thread; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/vlcn_messages.h"
#include "crbridge/sqlite/vlcn_subprotocol.h"

namespace crbridge {

// A ws:// url split into what the connection needs.
struct SyncUrl {
  std::string host;
  std::string port = "80";
  std::string target = "/";
};
// InvalidArgument for anything but ws://HOST[:PORT][/PATH] (wss:// included:
// the client speaks no TLS).
Status ParseSyncUrl(const std::string& url, SyncUrl* parsed);

class SyncConnection {
 public:
  // Why an upgrade failed, when the server answered one (0 otherwise).
  struct Refusal {
    int http_status = 0;
  };

  SyncConnection();
  ~SyncConnection();
  SyncConnection(const SyncConnection&) = delete;
  SyncConnection& operator=(const SyncConnection&) = delete;

  // Connects and upgrades within `timeout`; once per object. Frames larger than
  // `max_frame_bytes` end the connection. A refused upgrade is
  // InvalidArgument (HTTP 400, 401, 403) or Unavailable (anything else,
  // 429 too), with `refusal` set.
  Status Connect(const SyncUrl& url, const SyncRequest& request, size_t max_frame_bytes,
                 std::chrono::milliseconds timeout, Refusal* refusal);
  Status Send(const Message& message);
  // The next message within `timeout`: OK with *message set, OK with
  // nullopt when none came in time; Unavailable when the connection ended,
  // Corruption for a frame that does not decode.
  Status Receive(std::chrono::milliseconds timeout, std::optional<Message>* message);
  // A clean close (best effort, bounded in time).
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crbridge
