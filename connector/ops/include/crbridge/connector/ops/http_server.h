// HttpServer: the daemon's HTTP listener (Boost.Beast) serving GET routes
// such as /healthz and /metrics, and handing WebSocket upgrades on their
// paths (the sync WebSocket) to their handlers.
//
// All methods except port() must be called from the thread that runs the
// io_context (or before it runs). Handlers run on that thread and must not
// block.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "crbridge/connector/ops/metrics.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse()>;
// Takes over the connection of a WebSocket upgrade request.
using UpgradeHandler =
    std::function<void(boost::asio::ip::tcp::socket, boost::beast::http::request<boost::beast::http::string_body>)>;

class HttpServer {
 public:
  // Requests larger than this (header and body) are refused with 413.
  static constexpr size_t kMaxRequestBytes = 16 * 1024;

  HttpServer(boost::asio::io_context& io, Metrics& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void Route(const std::string& path, HttpHandler handler);
  void RouteUpgrade(const std::string& path, UpgradeHandler handler);

  // Binds and starts accepting. Port 0 picks a free port (see port()).
  // Returns IOError naming the address when it cannot bind.
  Status Listen(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }

  // Stops accepting; connections in progress finish their current request.
  void Stop();

 private:
  class Session;
  void Accept();
  HttpResponse Dispatch(const std::string& method, const std::string& target);

  boost::asio::io_context& io_;
  Metrics& metrics_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::map<std::string, HttpHandler> routes_;
  std::map<std::string, UpgradeHandler> upgrades_;
  uint16_t port_ = 0;
};

}  // namespace crbridge
