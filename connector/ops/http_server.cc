#include "crbridge/connector/ops/http_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <chrono>
#include <optional>

#include "crbridge/connector/ops/structured_log.h"

namespace crbridge {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {
constexpr std::chrono::seconds kRequestTimeout{30};
}

// One client connection: reads requests and answers them in turn until the
// client closes, asks to close, or times out.
class HttpServer::Session : public std::enable_shared_from_this<HttpServer::Session> {
 public:
  Session(tcp::socket socket, HttpServer& server) : stream_(std::move(socket)), server_(server) {}

  void Start() { Read(); }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(kMaxRequestBytes);
    parser_->body_limit(kMaxRequestBytes);
    stream_.expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset) {
      Close();
      return;
    }
    if (ec == http::error::header_limit || ec == http::error::body_limit) {
      Respond(HttpResponse{413, "text/plain; charset=utf-8", "request too large\n"}, 11, false);
      return;
    }
    if (ec) {
      log::Debug("http", "bad request", {{"error", ec.message()}});
      Respond(HttpResponse{400, "text/plain; charset=utf-8", "bad request\n"}, 11, false);
      return;
    }
    const auto& request = parser_->get();
    if (boost::beast::websocket::is_upgrade(request)) {
      const std::string target(request.target());
      const auto upgrade = server_.upgrades_.find(target.substr(0, target.find('?')));
      if (upgrade != server_.upgrades_.end()) {
        server_.metrics_.HttpRequest(upgrade->first, 101).Increment();
        stream_.expires_never();
        upgrade->second(stream_.release_socket(), parser_->release());
        return;
      }
    }
    HttpResponse response = server_.Dispatch(std::string(request.method_string()), std::string(request.target()));
    const bool head = request.method() == http::verb::head;
    if (head) response.body.clear();
    Respond(std::move(response), request.version(), request.keep_alive());
  }

  void Respond(HttpResponse response, unsigned version, bool keep_alive) {
    auto message = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), version);
    message->set(http::field::server, "crbridge");
    message->set(http::field::content_type, response.content_type);
    message->keep_alive(keep_alive);
    message->body() = std::move(response.body);
    message->prepare_payload();
    http::async_write(stream_, *message,
                      [self = shared_from_this(), message, keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive) {
                          self->Close();
                          return;
                        }
                        self->Read();
                      });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer& server_;
};

HttpServer::HttpServer(boost::asio::io_context& io, Metrics& metrics) : io_(io), metrics_(metrics), acceptor_(io) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& path, HttpHandler handler) { routes_[path] = std::move(handler); }

void HttpServer::RouteUpgrade(const std::string& path, UpgradeHandler handler) { upgrades_[path] = std::move(handler); }

Status HttpServer::Listen(const std::string& host, uint16_t port) {
  const std::string address_text = host + ":" + std::to_string(port);
  beast::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("listen address " + address_text + ": " + ec.message());
  const tcp::endpoint endpoint(address, port);
  if (acceptor_.open(endpoint.protocol(), ec); ec) return Status::IOError("listen on " + address_text + ": " + ec.message());
  acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (acceptor_.bind(endpoint, ec); ec) return Status::IOError("listen on " + address_text + ": " + ec.message());
  if (acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec); ec) {
    return Status::IOError("listen on " + address_text + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  Accept();
  return Status::OK();
}

void HttpServer::Stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
}

void HttpServer::Accept() {
  acceptor_.async_accept(io_, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(socket), *this)->Start();
    Accept();
  });
}

HttpResponse HttpServer::Dispatch(const std::string& method, const std::string& target) {
  const std::string path = target.substr(0, target.find('?'));
  HttpResponse response;
  const auto route = routes_.find(path);
  if (route == routes_.end()) {
    response = HttpResponse{404, "text/plain; charset=utf-8", "not found\n"};
  } else if (method != "GET" && method != "HEAD") {
    response = HttpResponse{405, "text/plain; charset=utf-8", "method not allowed\n"};
  } else {
    response = route->second();
  }
  // Unknown paths share one label so that scanners cannot grow the metric.
  metrics_.HttpRequest(route == routes_.end() ? "other" : path, response.status).Increment();
  return response;
}

}  // namespace crbridge
