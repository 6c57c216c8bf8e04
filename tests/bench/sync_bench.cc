// sync_bench: latency from a Postgres commit to its receipt by connected
// sync clients, at 1, 100 and 1,000 clients in one room, with crbridge's
// CPU time and peak memory. The clients are raw WebSocket connections
// speaking the vlcn protocol (one thread, Boost.Beast); crbridge is the
// release binary against a throwaway Postgres (dbfixture). Prints a
// markdown table for docs/benchmarks.md.
//   sync_bench CRBRIDGE_BINARY [--commits N]
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <algorithm>
#include <pqxx/pqxx>
#include <thread>

#include "bench_result.h"
#include "crbridge/connector/sync_auth.h"
#include "crbridge/sqlite/vlcn_messages.h"
#include "running_daemon.h"
#include "test_databases.h"

namespace crbridge {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// When each title was committed, and when each client received it.
// Commit i sets the title "c<i>". Titles committed in quick succession may
// reach a client as one (pulls send rows at their latest value), so commit
// i counts as received at the first receipt of any title j >= i.
struct Timings {
  std::vector<Clock::time_point> committed;
  size_t last_received = 0;  // clients that have the last title
  std::vector<std::vector<std::pair<size_t, Clock::time_point>>> receipts;  // per client
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(boost::asio::io_context& io, uint16_t port, size_t id, Timings& timings, size_t* ready)
      : ws_(io), port_(port), id_(id), timings_(timings), ready_(ready) {
    site_.fill(0xbe);
    site_[1] = static_cast<uint8_t>(id >> 8);
    site_[2] = static_cast<uint8_t>(id);
  }

  void Start() {
    beast::get_lowest_layer(ws_).async_connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_),
                                               [self = shared_from_this()](beast::error_code ec) {
                                                 if (!ec) self->Handshake();
                                               });
  }

 private:
  void Handshake() {
    const std::string subprotocol = EncodeSubprotocol({"l1", std::nullopt});
    ws_.set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& request) {
      request.set(beast::http::field::sec_websocket_protocol, subprotocol);
    }));
    ws_.binary(true);
    ws_.async_handshake("127.0.0.1", "/sync", [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      AnnouncePresence presence;
      presence.sender = self->site_;
      presence.schema_name = "todo_app";
      self->frame_ = EncodeMessage(presence);
      self->ws_.async_write(boost::asio::buffer(self->frame_), [self](beast::error_code, size_t) { self->Read(); });
    });
  }

  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      const auto now = Clock::now();
      const auto data = self->buffer_.cdata();
      Message message;
      if (DecodeMessage(std::span(static_cast<const uint8_t*>(data.data()), data.size()), &message).ok()) {
        if (std::holds_alternative<StartStreaming>(message)) ++*self->ready_;
        if (const auto* changes = std::get_if<ChangesMessage>(&message)) {
          for (const Change& c : changes->changes) {
            if (c.cid != "title" || c.val.storage_class() != StorageClass::kText || !c.val.text().starts_with("c")) continue;
            const size_t index = std::stoul(c.val.text().substr(1));
            self->timings_.receipts[self->id_].emplace_back(index, now);
            if (index + 1 == self->timings_.committed.size()) ++self->timings_.last_received;
          }
        }
      }
      self->buffer_.consume(self->buffer_.size());
      self->Read();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  uint16_t port_;
  size_t id_;
  SiteId site_{};
  Timings& timings_;
  size_t* ready_;
  Blob frame_;
  beast::flat_buffer buffer_;
};

// crbridge's CPU seconds (user + system) so far.
double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string field;
  for (int i = 0; i < 13; ++i) stat >> field;
  long user = 0, system = 0;
  stat >> user >> system;
  return static_cast<double>(user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double PeakRssMb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  }
  return 0;
}

}  // namespace
}  // namespace crbridge

int main(int argc, char** argv) {
  using namespace crbridge;
  if (argc < 2) return 2;
  const std::string binary = argv[1];
  int commits = 100;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--commits") commits = std::stoi(argv[i + 1]);
  }
  // 1,000 clients and their 1,000 server sockets: more than the usual 1,024 files.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  crbridge::testing::DatabaseServer postgres(crbridge::testing::ServerKind::kPostgres);

  std::printf("commit in Postgres to receipt by every client, %d one-row commits 20 ms apart, clients in one room, "
              "release build\n\n",
              commits);
  std::printf("| %-10s | %9s | %8s | %8s | %8s | %14s | %15s |\n", "clients", "receipts", "p50 ms", "p99 ms", "max ms",
              "crbridge CPU s", "crbridge peak MB");
  std::printf("|------------|-----------|----------|----------|----------|----------------|-----------------|\n");
  int run = 0;
  for (const size_t count : {size_t{1}, size_t{100}, size_t{1000}}) {
    // A database of its own each time: a new crbridge with its own slot.
    const std::string url = crbridge::testing::CreateDatabase(postgres, ++run, "todo_app.postgres.sql");
    pqxx::connection app(url);
    pqxx::nontransaction(app).exec0("INSERT INTO todo_lists (id) VALUES ('l1'); INSERT INTO todos (id, list_id) VALUES ('t1', 'l1')");
    std::string config = crbridge::testing::PostgresConfigWithSlot(CRBRIDGE_SOURCE_DIR, "sync_bench_" + std::to_string(run));
    {
      std::ifstream in(config);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      text.replace(text.find("max_connections_per_address: 100"), 32, "max_connections_per_address: 5000");
      std::ofstream(config) << text;
    }
    crbridge::testing::RunningDaemon daemon(binary, config, url);
    if (daemon.WaitForStatus("/readyz", 200).status != 200) return 1;
    boost::asio::io_context io;
    Timings timings;
    timings.receipts.resize(count);
    size_t ready = 0;
    for (size_t i = 0; i < count; ++i) {
      std::make_shared<Client>(io, daemon.port(), i, timings, &ready)->Start();
    }
    // Clients connect and catch up before the measured commits.
    while (ready < count) io.run_for(std::chrono::milliseconds(10));
    io.run_for(std::chrono::milliseconds(500));
    const double cpu_before = CpuSeconds(daemon.process().pid());
    for (int i = 0; i < commits; ++i) {
      timings.committed.push_back(Clock::now());
      pqxx::nontransaction(app).exec0("UPDATE todos SET title = 'c" + std::to_string(i) + "' WHERE id = 't1'");
      io.run_for(std::chrono::milliseconds(20));
    }
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (timings.last_received < count && Clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(10));
    }
    const double cpu = CpuSeconds(daemon.process().pid()) - cpu_before;
    std::vector<double> latencies_ms;
    for (const auto& client : timings.receipts) {
      for (size_t i = 0; i < timings.committed.size(); ++i) {
        const auto first = std::find_if(client.begin(), client.end(), [&](const auto& r) { return r.first >= i; });
        if (first != client.end()) {
          latencies_ms.push_back(std::chrono::duration<double, std::milli>(first->second - timings.committed[i]).count());
        }
      }
    }
    const double max = latencies_ms.empty() ? 0.0 : *std::max_element(latencies_ms.begin(), latencies_ms.end());
    std::printf("| %10zu | %9zu | %8.2f | %8.2f | %8.2f | %14.2f | %15.1f |\n", count, latencies_ms.size(),
                Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.99), max, cpu,
                PeakRssMb(daemon.process().pid()));
    std::fflush(stdout);
  }
  return 0;
}
