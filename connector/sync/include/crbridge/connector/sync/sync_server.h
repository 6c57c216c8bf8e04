// SyncServer: the vlcn WebSocket sync protocol (docs/sync-server.md) on
// the daemon's HTTP listener. Each connection joins one room (named in its
// subprotocol, checked by SyncAuth before the upgrade), announces itself,
// gets StartStreaming from where the server last applied its changes,
// pushes Changes that are merged into the database, and receives the
// server's changes for its room: first what it missed, then live, one
// batch in flight at a time (a slow client is simply sent less often).
// Database work runs on one store thread (merges and pulls in order);
// sockets on the io_context's thread. Accept, Stop: io thread;
// OnNewVersion, CheckDatabase: any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>

#include "crbridge/connector/ops/health.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/connector/sync/sync_auth.h"
#include "crbridge/mappings/config.h"

namespace crbridge {

class SyncSession;

class SyncServer {
 public:
  // `config` must outlive the server; its `server` section has the limits.
  // The store thread starts at once and connects to the database (again
  // and again, with backoff, while it is down, and after losing it); what
  // clients ask meanwhile waits. It reports to `health` as "sync", ready
  // while it has working connections. `on_merged` (optional) is called on
  // the io thread after each client changeset that changed something
  // commits.
  SyncServer(boost::asio::io_context& io, const Config& config, std::unique_ptr<SyncAuth> auth, Metrics& metrics,
             Health& health, std::function<void()> on_merged = nullptr);
  ~SyncServer();
  SyncServer(const SyncServer&) = delete;
  SyncServer& operator=(const SyncServer&) = delete;

  // Takes over a connection whose request asks for a WebSocket upgrade.
  void Accept(boost::asio::ip::tcp::socket socket, boost::beast::http::request<boost::beast::http::string_body> request);

  // A change committed at `db_version` (capture recorded app writes):
  // connected clients are sent what they have not seen.
  void OnNewVersion(int64_t db_version);

  // The source database was seen going away or coming back: the store
  // thread checks its connections now, and reconnects at once when they
  // are broken.
  void CheckDatabase();

  // The mappings changed (capture met a column the app added; any
  // thread): the store thread takes the mappings anew (StoreThread::
  // Reload), and every connection is closed for its client to announce its
  // schema again (ws-client reconnects by itself); `reloaded` is called on
  // the store thread once the new store is open.
  void ReloadMappings(std::function<void()> reloaded);

  // Closes every connection and stops the store thread.
  void Stop();

 private:
  // The io thread's state (sync_server_impl.h); its sessions use it.
  class Impl;
  friend class SyncSession;
  std::shared_ptr<Impl> impl_;
};

}  // namespace crbridge
