#include "sync_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace crbridge {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// A write that takes longer than this means the server stopped reading.
constexpr std::chrono::seconds kWriteTimeout{30};
constexpr std::chrono::seconds kCloseTimeout{1};

}  // namespace

Status ParseSyncUrl(const std::string& url, SyncUrl* parsed) {
  constexpr std::string_view kScheme = "ws://";
  if (url.rfind("wss://", 0) == 0) return Status::InvalidArgument(url + ": wss:// is not supported (no TLS); use ws://");
  if (url.rfind(kScheme, 0) != 0) return Status::InvalidArgument(url + ": expected ws://HOST[:PORT][/PATH]");
  const std::string rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  *parsed = SyncUrl{};
  if (slash != std::string::npos) parsed->target = rest.substr(slash);
  // [v6 address]:port or host:port
  const size_t bracket = authority.find(']');
  const size_t colon = authority.find(':', bracket == std::string::npos ? 0 : bracket);
  parsed->host = authority.substr(0, colon);
  if (colon != std::string::npos) parsed->port = authority.substr(colon + 1);
  if (parsed->host.size() > 2 && parsed->host.front() == '[' && parsed->host.back() == ']') {
    parsed->host = parsed->host.substr(1, parsed->host.size() - 2);
  }
  if (parsed->host.empty()) return Status::InvalidArgument(url + ": no host");
  if (parsed->port.empty() || parsed->port.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument(url + ": bad port");
  }
  return Status::OK();
}

struct SyncConnection::Impl {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  bool open = false;
  bool reading = false;  // an async_read is outstanding
  bool read_done = false;
  beast::error_code read_error;

  // Runs handlers until `done` becomes true or `deadline` passes.
  bool RunUntil(const bool& done, Clock::time_point deadline) {
    while (!done) {
      if (io.stopped()) io.restart();
      if (io.run_one_until(deadline) == 0) {
        if (Clock::now() >= deadline) return done;
        if (io.stopped()) return done;  // nothing outstanding could set it
      }
    }
    return true;
  }
};

SyncConnection::SyncConnection() : impl_(std::make_unique<Impl>()) {}
SyncConnection::~SyncConnection() = default;

Status SyncConnection::Connect(const SyncUrl& url, const SyncRequest& request, size_t max_frame_bytes,
                               std::chrono::milliseconds timeout, Refusal* refusal) {
  *refusal = Refusal{};
  Impl& c = *impl_;
  const Clock::time_point deadline = Clock::now() + timeout;
  const std::string where = url.host + ":" + url.port;

  tcp::resolver resolver(c.io);
  bool resolved = false;
  beast::error_code ec;
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(url.host, url.port, [&](beast::error_code e, tcp::resolver::results_type r) {
    ec = e;
    endpoints = std::move(r);
    resolved = true;
  });
  if (!c.RunUntil(resolved, deadline)) return Status::Unavailable(where + ": name resolution timed out");
  if (ec) return Status::Unavailable(where + ": " + ec.message());

  bool connected = false;
  beast::get_lowest_layer(c.ws).expires_at(deadline);
  beast::get_lowest_layer(c.ws).async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    connected = true;
  });
  if (!c.RunUntil(connected, deadline + std::chrono::seconds(1))) return Status::Unavailable(where + ": connecting timed out");
  if (ec) return Status::Unavailable(where + ": " + ec.message());

  const std::string subprotocol = EncodeSubprotocol(request);
  c.ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& upgrade) {
    upgrade.set(http::field::sec_websocket_protocol, subprotocol);
    upgrade.set(http::field::user_agent, "crbridge-client");
  }));
  c.ws.read_message_max(max_frame_bytes);
  websocket::response_type response;
  bool upgraded = false;
  c.ws.async_handshake(response, where, url.target, [&](beast::error_code e) {
    ec = e;
    upgraded = true;
  });
  if (!c.RunUntil(upgraded, deadline + std::chrono::seconds(1))) return Status::Unavailable(where + ": the upgrade timed out");
  if (ec == websocket::error::upgrade_declined) {
    refusal->http_status = static_cast<int>(response.result_int());
    std::string reason = response.body();
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == '\r')) reason.pop_back();
    const std::string message = "the server refused the connection: HTTP " + std::to_string(refusal->http_status) + " " +
                                std::string(response.reason()) + (reason.empty() ? "" : ": " + reason);
    const int code = refusal->http_status;
    return code == 400 || code == 401 || code == 403 || code == 404 ? Status::InvalidArgument(message)
                                                                     : Status::Unavailable(message);
  }
  if (ec) return Status::Unavailable(where + url.target + ": " + ec.message());
  // From here the WebSocket's own timeouts apply, not the connect deadline.
  beast::get_lowest_layer(c.ws).expires_never();
  c.ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  c.ws.binary(true);
  c.open = true;
  return Status::OK();
}

Status SyncConnection::Send(const Message& message) {
  Impl& c = *impl_;
  if (!c.open) return Status::Unavailable("the connection is closed");
  const Blob frame = EncodeMessage(message);
  bool written = false;
  beast::error_code ec;
  c.ws.async_write(asio::buffer(frame), [&](beast::error_code e, size_t) {
    ec = e;
    written = true;
  });
  if (!c.RunUntil(written, Clock::now() + kWriteTimeout)) {
    // The frame still refers to `frame`: end the socket before it goes.
    c.open = false;
    beast::get_lowest_layer(c.ws).close();
    c.RunUntil(written, Clock::now() + kCloseTimeout);
    return Status::Unavailable("sending timed out: the server stopped reading");
  }
  if (ec) {
    c.open = false;
    return Status::Unavailable("sending: " + ec.message());
  }
  return Status::OK();
}

Status SyncConnection::Receive(std::chrono::milliseconds timeout, std::optional<Message>* message) {
  Impl& c = *impl_;
  message->reset();
  if (!c.open) return Status::Unavailable("the connection is closed");
  if (!c.reading) {
    c.reading = true;
    c.read_done = false;
    c.ws.async_read(c.buffer, [&c](beast::error_code e, size_t) {
      c.read_error = e;
      c.read_done = true;
    });
  }
  if (!c.RunUntil(c.read_done, Clock::now() + timeout)) return Status::OK();
  c.reading = false;
  if (c.read_error) {
    c.open = false;
    if (c.read_error == websocket::error::message_too_big) {
      return Status::Unavailable("the server sent a message larger than the maximum frame size");
    }
    const websocket::close_reason& closed = c.ws.reason();
    if (c.read_error == websocket::error::closed) {
      return Status::Unavailable("the server closed the connection" +
                                 (closed.reason.empty() ? std::string() : ": " + std::string(closed.reason.c_str())));
    }
    return Status::Unavailable("the connection ended: " + c.read_error.message());
  }
  const auto data = c.buffer.cdata();
  Message decoded;
  const Status s = DecodeMessage(std::span(static_cast<const uint8_t*>(data.data()), data.size()), &decoded);
  c.buffer.consume(c.buffer.size());
  if (!s.ok()) return Status::Corruption("the server sent a message that does not decode: " + s.message());
  *message = std::move(decoded);
  return Status::OK();
}

void SyncConnection::Close() {
  Impl& c = *impl_;
  if (!c.open) return;
  c.open = false;
  bool closed = false;
  c.ws.async_close(websocket::close_code::normal, [&closed](beast::error_code) { closed = true; });
  c.RunUntil(closed, Clock::now() + kCloseTimeout);
  if (c.reading) c.RunUntil(c.read_done, Clock::now() + kCloseTimeout);
  beast::error_code ignored;
  beast::get_lowest_layer(c.ws).socket().close(ignored);
}

}  // namespace crbridge
