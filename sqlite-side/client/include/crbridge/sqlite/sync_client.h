// SyncClient: syncs a ClientDatabase with a vlcn WebSocket server such as
// crbridge, speaking the protocol as @vlcn.io/ws-client 0.2 does: announce
// presence, stream this database's own changes from the server's
// StartStreaming position (again on every local write, whoever made it),
// merge the server's changes or reject them on a gap, answer pings.
// Run blocks on the calling thread and owns the database while it runs;
// `stop` may be set from any thread or a signal handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "crbridge/sqlite/client_database.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

struct SyncOptions {
  std::string url;  // ws://HOST[:PORT][/PATH]
  std::string room;
  std::optional<std::string> token;

  enum class Mode {
    kOnce,    // until the server confirmed every local change and went quiet
    kFollow,  // until stopped, reconnecting when the connection drops
  };
  Mode mode = Mode::kFollow;
  // Once: how long the server must send nothing before its catch-up is
  // taken as complete.
  std::chrono::milliseconds idle{750};
  // How often the file is checked for writes made by other connections.
  std::chrono::milliseconds poll_interval{100};
  std::chrono::milliseconds connect_timeout{10000};
  // Changes per message sent; larger backlogs go in several messages.
  size_t max_changes_per_message = 1000;
  // A larger message from the server ends the connection.
  size_t max_frame_bytes = 64u << 20;
  // Once: connections in a row in which the server's position for this
  // database does not advance before giving up.
  int max_stalled_attempts = 5;
  // Progress and the server's errors, one line each (no trailing newline).
  std::function<void(const std::string&)> notice;
};

class SyncClient {
 public:
  SyncClient(ClientDatabase* db, SyncOptions options) : db_(db), options_(std::move(options)) {}

  // Once: OK when (a) the server has confirmed every local change: the
  // protocol has no acknowledgement, so the client reconnects until the
  // StartStreaming position the server answers with (what it has durably
  // applied from this database) reaches the last local change; and (b) the
  // server then sent nothing for `idle`. An error when the server cannot be
  // reached, refuses the connection or a changeset, or sends what does not
  // decode. Follow: runs until `stop`, reconnecting with backoff; returns an
  // error only for refusals that retrying cannot fix (HTTP 400, 401, 403, or
  // the server refusing the announced schema).
  Status Run(const std::atomic<bool>& stop);

 private:
  struct Session;
  enum class SessionEnd { kStopped, kDone, kReconnect };
  Status RunSession(const std::atomic<bool>& stop, bool* streamed, StartStreaming* started, SessionEnd* end);
  void Notice(const std::string& line) const {
    if (options_.notice) options_.notice(line);
  }

  ClientDatabase* db_;
  SyncOptions options_;
};

}  // namespace crbridge
