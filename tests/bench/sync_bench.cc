// sync_bench: the sync server under load. The release `crbridge run` serves
// a throwaway Postgres, MariaDB or MySQL (dbfixture, `--database`); the clients
// are raw WebSocket connections speaking the vlcn protocol (one thread,
// Boost.Beast).
//  - latency: an app commit to its receipt at 1, 100 and 1,000 clients in
//    one room;
//  - writers: sustained changes/s merged from many clients pushing row
//    inserts, in one room (every client also receives everyone else's rows)
//    or each in a room of its own, next to the same rows inserted by
//    multi-row INSERTs on one connection in the same run (the limit);
//  - rooms: rooms by membership (room_members, room_via): an app commit to
//    a list shared by 1,000 users, each a room of their own, next to 1,000
//    clients of one room by column; 10,000 rows reaching 100 clients of a
//    room by a membership, or by an app commit (by membership and by
//    column), next to one client's cold pull of the same rows;
//  - upgrade: a column the app adds to a room's rows while crbridge runs,
//    reaching a client that upgrades to the new schema version, next to a
//    cold pull of the same rows;
// each with crbridge's CPU time and peak memory. Prints markdown tables for
// docs/benchmarks.md.
// A writer sends all its changesets at once: keep writers x changesets
// under the 1,000 changesets that may wait for the database (beyond, the
// server answers busy and the writers are disconnected).
//   sync_bench CRBRIDGE_BINARY [--database postgres|mariadb|mysql] [--part latency|writers|rooms|upgrade]
//              [--commits N] [--changesets N] [--rows N] [--moved-rows N] [--upgrade-rows N]
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "bench_database.h"
#include "bench_result.h"
#include "process_stats.h"
#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/schema_version.h"
#include "crbridge/sqlite/vlcn_messages.h"
#include "crbridge/sqlite/vlcn_subprotocol.h"
#include "processes/running_daemon.h"
#include "databases/test_databases.h"
#include "todo_app/shared_lists.h"
#include "todo_app/todo_app_database.h"

namespace crbridge {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// One sync client: announces itself, then hands every message it receives
// to `on_message` and writes what it is given to send, in order.
class Client : public std::enable_shared_from_this<Client> {
 public:
  using OnMessage = std::function<void(const Message&, Clock::time_point)>;
  using OnWritten = std::function<void(size_t index, Clock::time_point)>;

  Client(boost::asio::io_context& io, crbridge::testing::RunningDaemon& daemon, std::string room, size_t id,
         OnMessage on_message)
      : ws_(io),
        port_(daemon.port()),
        schema_version_(daemon.schema_version()),
        room_(std::move(room)),
        on_message_(std::move(on_message)) {
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

  // Queues frames; `on_written` learns when each has been written, by its
  // index among those queued.
  void Send(std::vector<Blob> frames, OnWritten on_written) {
    on_written_ = std::move(on_written);
    for (Blob& frame : frames) outbox_.push_back(std::move(frame));
    if (outbox_.size() == frames.size()) WriteNext();
  }

  const SiteId& site() const { return site_; }
  // Before Start: the schema version and positions the client announces.
  void AnnounceAs(int64_t schema_version, std::vector<LastSeen> last_seens) {
    schema_version_ = schema_version;
    last_seens_ = std::move(last_seens);
  }

 private:
  void Handshake() {
    const std::string subprotocol = EncodeSubprotocol({room_, std::nullopt});
    ws_.set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& request) {
      request.set(beast::http::field::sec_websocket_protocol, subprotocol);
    }));
    ws_.binary(true);
    ws_.async_handshake("127.0.0.1", "/sync", [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      AnnouncePresence presence;
      presence.sender = self->site_;
      presence.schema_name = "todo_app";
      presence.schema_version = self->schema_version_;
      presence.last_seens = self->last_seens_;
      self->outbox_.push_back(EncodeMessage(presence));
      self->WriteNext();
      self->Read();
    });
  }

  void WriteNext() {
    if (outbox_.empty()) return;
    ws_.async_write(boost::asio::buffer(outbox_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      self->outbox_.pop_front();
      if (self->on_written_) self->on_written_(self->written_++, Clock::now());
      self->WriteNext();
    });
  }

  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      const auto now = Clock::now();
      const auto data = self->buffer_.cdata();
      Message message;
      if (DecodeMessage(std::span(static_cast<const uint8_t*>(data.data()), data.size()), &message).ok()) {
        self->on_message_(message, now);
      }
      self->buffer_.consume(self->buffer_.size());
      self->Read();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  uint16_t port_;
  int64_t schema_version_;
  std::vector<LastSeen> last_seens_;
  std::string room_;
  SiteId site_{};
  OnMessage on_message_;
  OnWritten on_written_;
  size_t written_ = 0;  // frames queued by Send and written
  std::deque<Blob> outbox_;
  beast::flat_buffer buffer_;
};

// A todo-app database of its own, with `lists` todo lists, and crbridge
// serving it.
struct Served {
  crbridge::testing::TodoAppDatabase app;
  std::string config;
  std::unique_ptr<crbridge::testing::RunningDaemon> daemon;

  // With `tables`, the config's tables section is replaced by it, after
  // `setup` ran on the database.
  Served(const std::string& binary, crbridge::testing::ServerKind kind, int run, size_t lists,
         const std::function<void(crbridge::testing::TodoAppDatabase&)>& setup = nullptr,
         const std::string& tables = "")
      : app(kind) {
    for (size_t i = 0; i < lists; ++i) app.Sql("INSERT INTO todo_lists (id) VALUES ('l" + std::to_string(i) + "')");
    if (setup) setup(app);
    config = app.Config(CRBRIDGE_SOURCE_DIR, "sync_bench_" + std::to_string(run));
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!tables.empty()) text = text.substr(0, text.find("tables:")) + tables + text.substr(text.find("\nlog:"));
    // 10,000 clients connect from one address; configs/mysql.yaml leaves the limit at its default.
    if (const size_t at = text.find("  max_connections_per_address: "); at != std::string::npos) {
      text.erase(at, text.find('\n', at) + 1 - at);
    }
    const std::string listen = "listen: ${CRBRIDGE_LISTEN:-127.0.0.1:8080}\n";
    text.insert(text.find(listen) + listen.size(), "  max_connections_per_address: 20000\n");
    std::ofstream(config) << text;
    daemon = std::make_unique<crbridge::testing::RunningDaemon>(binary, config, app.url);
    if (daemon->WaitForStatus("/readyz", 200).status != 200) throw std::runtime_error("crbridge did not get ready");
  }

  pid_t pid() const { return daemon->process().pid(); }
};

void RunUntil(boost::asio::io_context& io, const std::function<bool()>& done, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done() && Clock::now() < deadline) io.run_for(std::chrono::milliseconds(10));
}

// Clients in `rooms` (one client each) while commits set the title of todo
// t1: commit i sets the title "c<i>". Titles committed in quick succession
// may reach a client as one (pulls send rows at their latest value), so
// commit i counts as received at the first receipt of any title j >= i.
// Prints a table row labelled `label`.
void MeasureLatency(Served& served, const std::vector<std::string>& rooms, int commits, const std::string& label) {
  const size_t count = rooms.size();
  boost::asio::io_context io;
  // Written by the committing thread, read once it has ended.
  std::vector<Clock::time_point> committed(static_cast<size_t>(commits));
  std::vector<std::vector<std::pair<size_t, Clock::time_point>>> receipts(count);
  std::vector<bool> caught_up(count);
  size_t ready = 0, last_received = 0;
  for (size_t i = 0; i < count; ++i) {
    std::make_shared<Client>(io, *served.daemon, rooms[i], i, [&, i](const Message& message, Clock::time_point now) {
      const auto* changes = std::get_if<ChangesMessage>(&message);
      // Its first changes hold todo t1: the client has pulled its room.
      if (changes && !caught_up[i]) {
        caught_up[i] = true;
        ++ready;
      }
      for (const Change& c : changes ? changes->changes : Changeset{}) {
        if (c.cid != "title" || c.val.storage_class() != StorageClass::kText || !c.val.text().starts_with("c")) continue;
        const size_t index = std::stoul(c.val.text().substr(1));
        receipts[i].emplace_back(index, now);
        if (index + 1 == committed.size()) ++last_received;
      }
    })->Start();
  }
  // Clients connect and catch up (each pulls its room from the database
  // on its own) before the measured commits.
  RunUntil(io, [&] { return ready == count; }, std::chrono::seconds(60));
  io.run_for(std::chrono::milliseconds(500));
  const double cpu_before = CpuSeconds(served.pid());
  // Commits come from a thread of their own: the clients' thread never
  // waits for one, and receives all along.
  std::thread committing([&] {
    for (int i = 0; i < commits; ++i) {
      committed[static_cast<size_t>(i)] = Clock::now();
      served.app.Sql("UPDATE todos SET title = 'c" + std::to_string(i) + "' WHERE id = 't1'");
      std::this_thread::sleep_until(committed[static_cast<size_t>(i)] + std::chrono::milliseconds(20));
    }
  });
  RunUntil(io, [&] { return last_received == count; },
           std::chrono::seconds(30) + commits * std::chrono::milliseconds(20));
  committing.join();
  const double cpu = CpuSeconds(served.pid()) - cpu_before;
  std::vector<double> latencies_ms;
  for (const auto& client : receipts) {
    for (size_t i = 0; i < committed.size(); ++i) {
      const auto first = std::find_if(client.begin(), client.end(), [&](const auto& r) { return r.first >= i; });
      if (first != client.end()) {
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(first->second - committed[i]).count());
      }
    }
  }
  const double max = latencies_ms.empty() ? 0.0 : *std::max_element(latencies_ms.begin(), latencies_ms.end());
  std::printf("| %-26s | %9zu | %8.2f | %8.2f | %8.2f | %8.2f | %14.2f | %15.1f |\n", label.c_str(), latencies_ms.size(),
              Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.9), Percentile(latencies_ms, 0.99), max, cpu,
              PeakRssMb(served.pid()));
  std::fflush(stdout);
}

void LatencyHeader() {
  std::printf("| %-26s | %9s | %8s | %8s | %8s | %8s | %14s | %15s |\n", "clients", "receipts", "p50 ms", "p90 ms",
              "p99 ms", "max ms", "crbridge CPU s", "crbridge peak MB");
  std::printf("|----------------------------|-----------|----------|----------|----------|----------|----------------|-----------------|\n");
}

void LatencyTable(const std::string& binary, crbridge::testing::ServerKind kind, int commits, int* run) {
  std::printf("commit in %s to receipt by every client, %d one-row commits begun 20 ms apart from a thread of their "
              "own, clients in one room, release build\n\n",
              crbridge::testing::ServerKindName(kind).c_str(), commits);
  LatencyHeader();
  for (const size_t count : {size_t{1}, size_t{100}, size_t{1000}, size_t{10000}}) {
    Served served(binary, kind, ++*run, 1);
    served.app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l0')");
    MeasureLatency(served, std::vector<std::string>(count, "l0"), commits, std::to_string(count));
  }
}

// The shared-lists app (todo_app/shared_lists.h), its memberships written
// by the app alone.
Served SharedLists(const std::string& binary, crbridge::testing::ServerKind kind, int* run) {
  return Served(binary, kind, ++*run, 1, crbridge::testing::CreateListMembers,
                "tables:\n" + crbridge::testing::SharedListsTables(false));
}

// `rows` todos of list l0, inserted by the app in one commit.
void InsertTodos(Served& served, size_t rows) {
  served.app.Sql(served.app.kind() == crbridge::testing::ServerKind::kPostgres
                     ? "INSERT INTO todos (id, list_id) SELECT 'm' || g, 'l0' FROM generate_series(1, " +
                           std::to_string(rows) + ") g"
                     : "SET STATEMENT max_recursive_iterations = " + std::to_string(rows) +
                           " FOR INSERT INTO todos (id, list_id) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g "
                       "WHERE n < " + std::to_string(rows) + ") SELECT CONCAT('m', n), 'l0' FROM g");
}

// How MeasureRows' clients announce themselves, and what they wait for.
struct Pulling {
  size_t first_id = 5000;            // their site ids
  int64_t schema_version = 0;        // 0: the one the daemon serves first
  std::vector<LastSeen> last_seens;  // where they start: none, a cold pull
  std::string column;                // only changes of it count ("": a row's first change)
  std::vector<LastSeen>* reached = nullptr;  // the first client's position at the end
};

// `clients` clients of `room` until each has `rows` todos, timed from
// `start` (run once they have connected and pulled what their room held),
// or without it from their connecting. Prints a table row with the
// database pulls made for room feeds and for clients alone.
void MeasureRows(Served& served, size_t clients, const std::string& room, size_t rows,
                 const std::function<void()>& start, const std::string& label, const Pulling& pulling = {}) {
  boost::asio::io_context io;
  std::vector<std::set<std::string>> held(clients);
  size_t ready = 0, complete = 0;
  const auto pulls = [&](const std::string& what) {
    return MetricValue(served.daemon->Get("/metrics").body, "crbridge_sync_pulls_total{for=\"" + what + "\"}");
  };
  double cpu_before = CpuSeconds(served.pid()), feed_before = pulls("room"), alone_before = pulls("client");
  auto began = Clock::now();
  for (size_t i = 0; i < clients; ++i) {
    auto client = std::make_shared<Client>(
        io, *served.daemon, room, pulling.first_id + i, [&, i](const Message& message, Clock::time_point) {
          if (std::holds_alternative<StartStreaming>(message)) ++ready;
          const auto* changes = std::get_if<ChangesMessage>(&message);
          for (const Change& c : changes ? changes->changes : Changeset{}) {
            if (i == 0 && pulling.reached) *pulling.reached = {LastSeen{changes->sender, {c.db_version, 0}}};
            if (c.table != "todos" || (!pulling.column.empty() && c.cid != pulling.column)) continue;
            if (held[i].insert(std::string(c.pk.begin(), c.pk.end())).second && held[i].size() == rows) ++complete;
          }
        });
    if (pulling.schema_version != 0) client->AnnounceAs(pulling.schema_version, pulling.last_seens);
    client->Start();
  }
  if (start) {
    RunUntil(io, [&] { return ready == clients; }, std::chrono::seconds(60));
    io.run_for(std::chrono::milliseconds(500));
    cpu_before = CpuSeconds(served.pid());
    feed_before = pulls("room");
    alone_before = pulls("client");
    began = Clock::now();
    start();
  }
  RunUntil(io, [&] { return complete == clients; }, std::chrono::seconds(300));
  const double seconds = std::chrono::duration<double>(Clock::now() - began).count();
  const double cpu = CpuSeconds(served.pid()) - cpu_before;
  std::printf("| %-40s | %8zu | %9.2f | %10.0f | %10.0f | %11.0f | %14.2f | %15.1f |\n", label.c_str(), complete * rows,
              seconds, static_cast<double>(complete * rows) / seconds, pulls("room") - feed_before,
              pulls("client") - alone_before, cpu, PeakRssMb(served.pid()));
  std::fflush(stdout);
}

// Rooms by membership against rooms by column: one list shared by 1,000
// users (each a room) against 1,000 clients of one room; rows reaching 100
// clients of one room live (a membership moving them in, or the app
// inserting them) and one client's cold pull, each kind of room.
void RoomsTables(const std::string& binary, crbridge::testing::ServerKind kind, int commits, size_t rows,
                 int* run) {
  constexpr size_t kUsers = 1000;
  const std::string database = crbridge::testing::ServerKindName(kind);
  std::printf("\ncommit in %s to receipt by every client, %d one-row commits 20 ms apart, release build: a list "
              "shared by %zu users, each a room of their own (room_members), next to %zu clients of one room by "
              "column\n\n",
              database.c_str(), commits, kUsers, kUsers);
  LatencyHeader();
  {
    Served served(binary, kind, ++*run, 1);
    served.app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l0')");
    MeasureLatency(served, std::vector<std::string>(kUsers, "l0"), commits, "1000, one room by column");
  }
  {
    Served served = SharedLists(binary, kind, run);
    std::vector<std::string> users;
    std::string members = "INSERT INTO list_members VALUES ";
    for (size_t u = 0; u < kUsers; ++u) {
      users.push_back("u" + std::to_string(u));
      members += (u ? ", ('l0', '" : "('l0', '") + users.back() + "')";
    }
    served.app.Sql(members);
    served.app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l0')");
    MeasureLatency(served, users, commits, "1000, a room each, shared");
  }

  constexpr size_t kClients = 100;
  std::printf("\n%zu todos reaching %zu clients of one room in %s, release build: live (a membership moving them "
              "into the room, or one app commit inserting them), from the commit until every client has every row; "
              "and one client's cold pull; rooms by membership (room_via under room_members) next to rooms by "
              "column; with the database pulls made for the room feeds and for clients alone\n\n",
              rows, kClients, database.c_str());
  std::printf("| %-40s | %8s | %9s | %10s | %10s | %11s | %14s | %15s |\n", "what", "rows", "seconds", "rows/s",
              "feed pulls", "alone pulls", "crbridge CPU s", "crbridge peak MB");
  std::printf("|------------------------------------------|----------|-----------|------------|------------|-------------|"
              "----------------|-----------------|\n");
  {
    Served served = SharedLists(binary, kind, run);
    InsertTodos(served, rows);
    MeasureRows(served, kClients, "newcomer", rows,
                [&] { served.app.Sql("INSERT INTO list_members VALUES ('l0', 'newcomer')"); },
                "membership: a member added, 100 clients");
    MeasureRows(served, 1, "newcomer", rows, nullptr, "membership: cold pull, 1 client");
  }
  {
    Served served = SharedLists(binary, kind, run);
    served.app.Sql("INSERT INTO list_members VALUES ('l0', 'member')");
    MeasureRows(served, kClients, "member", rows, [&] { InsertTodos(served, rows); },
                "membership: an app commit, 100 clients");
  }
  {
    Served served(binary, kind, ++*run, 1);
    MeasureRows(served, kClients, "l0", rows, [&] { InsertTodos(served, rows); }, "column: an app commit, 100 clients");
    MeasureRows(served, 1, "l0", rows, nullptr, "column: cold pull, 1 client");
  }
}

// Writer w's changeset k: `rows` new todos of room `room`, as cr-sqlite
// records an insert (one change per column), titled "w<w>-<k>-<r>".
ChangesMessage WriterChangeset(const SiteId& site, size_t w, size_t k, size_t rows, const std::string& room) {
  ChangesMessage message;
  message.sender = site;
  // The client's own versions: changeset k is version k + 1, `3 * rows` changes.
  message.since = {static_cast<int64_t>(k), k == 0 ? 0 : static_cast<int64_t>(3 * rows - 1)};
  for (size_t r = 0; r < rows; ++r) {
    const std::string id = "w" + std::to_string(w) + "-" + std::to_string(k) + "-" + std::to_string(r);
    const Value key = Value::Text(id);
    Blob pk;
    if (!EncodePackedPk(std::span(&key, 1), &pk).ok()) throw std::runtime_error("pk");
    const auto version = static_cast<int64_t>(k + 1);
    int64_t seq = static_cast<int64_t>(3 * r);
    for (const auto& [cid, value] : {std::pair{"list_id", Value::Text(room)}, std::pair{"title", Value::Text(id)},
                                     std::pair{"done", Value::Integer(0)}}) {
      message.changes.push_back(Change{"todos", pk, cid, value, 1, version, std::nullopt, 1, seq++});
    }
  }
  return message;
}

// The same rows inserted by multi-row INSERTs of `rows` rows, one after
// another on one connection (crbridge merges on one writer, too): rows/s.
double InsertLimit(crbridge::testing::TodoAppDatabase& app, size_t changesets, size_t rows) {
  const auto start = Clock::now();
  for (size_t k = 0; k < changesets; ++k) {
    std::string sql = "INSERT INTO todos (id, list_id, title, done) VALUES ";
    for (size_t r = 0; r < rows; ++r) {
      const std::string id = "'x-" + std::to_string(k) + "-" + std::to_string(r) + "'";
      sql += (r ? ", (" : "(") + id + ", 'l0', " + id + ", false)";
    }
    app.Sql(sql);
  }
  return static_cast<double>(changesets * rows) / std::chrono::duration<double>(Clock::now() - start).count();
}

void WritersTable(const std::string& binary, crbridge::testing::ServerKind kind, size_t changesets, size_t rows,
                  int* run) {
  std::printf("\nclients pushing row inserts (%zu changesets of %zu rows, 3 changes a row, each), all at once; "
              "latency from a changeset's write by its client to its receipt by each other client of its room; "
              "limit: the same rows by multi-row INSERTs on one connection, same run\n\n",
              changesets, rows);
  std::printf("| %-24s | %8s | %9s | %8s | %8s | %5s | %8s | %8s | %7s | %7s |\n", "writers", "changes", "changes/s",
              "rows/s", "limit rows/s", "share", "p50 ms", "p99 ms", "CPU s", "peak MB");
  std::printf("|--------------------------|----------|-----------|----------|--------------|-------|----------|----------|---------|---------|\n");
  for (const auto& [writers, one_room] : {std::pair{size_t{10}, true}, std::pair{size_t{100}, true},
                                          std::pair{size_t{100}, false}}) {
    Served served(binary, kind, ++*run, one_room ? 1 : writers);
    boost::asio::io_context io;
    const auto room_of = [&](size_t w) { return "l" + std::to_string(one_room ? 0 : w); };
    std::vector<std::vector<Clock::time_point>> written(writers, std::vector<Clock::time_point>(changesets));
    std::vector<std::set<std::pair<size_t, size_t>>> seen(writers);  // per receiver: (writer, changeset)
    std::vector<std::pair<size_t, Clock::time_point>> receipts;      // (writer, changeset) index, when
    size_t ready = 0;
    std::vector<std::shared_ptr<Client>> clients;
    for (size_t w = 0; w < writers; ++w) {
      clients.push_back(std::make_shared<Client>(io, *served.daemon, room_of(w), w,
                                                 [&, w](const Message& message, Clock::time_point now) {
        if (std::holds_alternative<StartStreaming>(message)) ++ready;
        const auto* changes = std::get_if<ChangesMessage>(&message);
        for (const Change& c : changes ? changes->changes : Changeset{}) {
          if (c.cid != "title" || !c.val.text().ends_with("-0")) continue;
          const std::string& title = c.val.text();
          const size_t from = std::stoul(title.substr(1)), k = std::stoul(title.substr(title.find('-') + 1));
          if (seen[w].insert({from, k}).second) receipts.emplace_back(from * changesets + k, now);
        }
      }));
      clients.back()->Start();
    }
    RunUntil(io, [&] { return ready == writers; }, std::chrono::seconds(60));
    io.run_for(std::chrono::milliseconds(500));
    const std::string received = "crbridge_sync_changes_received_total";
    const double received_before = MetricValue(served.daemon->Get("/metrics").body, received);
    const double cpu_before = CpuSeconds(served.pid());
    const auto start = Clock::now();
    for (size_t w = 0; w < writers; ++w) {
      std::vector<Blob> frames;
      for (size_t k = 0; k < changesets; ++k) {
        frames.push_back(EncodeMessage(WriterChangeset(clients[w]->site(), w, k, rows, room_of(w))));
      }
      clients[w]->Send(std::move(frames), [&, w](size_t k, Clock::time_point at) { written[w][k] = at; });
    }
    const double total = static_cast<double>(writers * changesets * rows * 3);
    double merged_seconds = 0;
    RunUntil(io, [&] {
      if (MetricValue(served.daemon->Get("/metrics").body, received) - received_before < total) return false;
      merged_seconds = std::chrono::duration<double>(Clock::now() - start).count();
      return true;
    }, std::chrono::seconds(300));
    const size_t receivers = one_room ? writers - 1 : 0;
    RunUntil(io, [&] { return receipts.size() == writers * changesets * receivers; }, std::chrono::seconds(60));
    const double cpu = CpuSeconds(served.pid()) - cpu_before;
    std::vector<double> latencies_ms;
    for (const auto& [index, at] : receipts) {
      latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(at - written[index / changesets][index % changesets]).count());
    }
    const double rows_per_second = merged_seconds > 0 ? total / 3 / merged_seconds : 0;
    // On a database of its own, which no crbridge captures.
    crbridge::testing::TodoAppDatabase bare(kind);
    const double limit = InsertLimit(bare, writers * changesets, rows);
    char what[64];
    std::snprintf(what, sizeof what, "%zu, %s", writers, one_room ? "one room" : "a room each");
    std::printf("| %-24s | %8.0f | %9.0f | %8.0f | %12.0f | %5.2f | %8.1f | %8.1f | %7.2f | %7.1f |\n", what, total,
                merged_seconds > 0 ? total / merged_seconds : 0, rows_per_second, limit, rows_per_second / limit,
                Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.99), cpu, PeakRssMb(served.pid()));
    std::fflush(stdout);
  }
}

// The app adds a column to a room of `rows` todos while crbridge runs: a
// client that had pulled them all upgrades to the new schema version and
// gets the column's values for the rows it has, next to a cold pull of the
// same rows at the new version (and at the first, for the same client's
// start).
void UpgradeTable(const std::string& binary, crbridge::testing::ServerKind kind, size_t rows, int* run) {
  std::printf("\n%zu todos of one room in %s, release build: a column added while crbridge runs; one client "
              "upgrading to the version that has it, from connecting until it has the column's value of every row "
              "it had pulled, next to cold pulls of the same rows\n\n",
              rows, crbridge::testing::ServerKindName(kind).c_str());
  std::printf("| %-40s | %8s | %9s | %10s | %10s | %11s | %14s | %15s |\n", "what", "rows", "seconds", "rows/s",
              "feed pulls", "alone pulls", "crbridge CPU s", "crbridge peak MB");
  std::printf("|------------------------------------------|----------|-----------|------------|------------|-------------|"
              "----------------|-----------------|\n");
  Served served(binary, kind, ++*run, 1);
  InsertTodos(served, rows);
  std::vector<LastSeen> pulled;
  MeasureRows(served, 1, "l0", rows, nullptr, "first version: insert captured, pulled",
              Pulling{7000, served.daemon->schema_version(), {}, "", &pulled});
  const std::string reads_done = "msg=done table=todos";
  const auto reads = [&] {
    const std::string output = served.daemon->process().Output();
    size_t count = 0;
    for (size_t at = output.find(reads_done); at != std::string::npos; at = output.find(reads_done, at + 1)) ++count;
    return count;
  };
  const size_t reads_before = reads();
  served.app.Sql("ALTER TABLE todos ADD COLUMN priority INTEGER NOT NULL DEFAULT 0");
  const auto deadline = Clock::now() + std::chrono::seconds(300);
  while (reads() == reads_before && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const int64_t upgraded = SchemaVersion(crbridge::testing::ClientSchema(binary, served.config));
  MeasureRows(served, 1, "l0", rows, nullptr, "upgraded client: the new column",
              Pulling{7000, upgraded, pulled, "priority", nullptr});
  MeasureRows(served, 1, "l0", rows, nullptr, "cold pull, new version", Pulling{7001, upgraded, {}, "", nullptr});
}

}  // namespace
}  // namespace crbridge

int main(int argc, char** argv) {
  using namespace crbridge;
  if (argc < 2) return 2;
  const std::string binary = argv[1];
  const BenchFlags flags(argc, argv, 2);
  const auto commits = static_cast<int>(flags.Number("--commits", 100));
  const auto changesets = static_cast<size_t>(flags.Number("--changesets", 5));
  const auto rows = static_cast<size_t>(flags.Number("--rows", 50));
  const std::string part = flags.Text("--part", "all");
  // 10,000 clients and their 10,000 server sockets: more than the usual 1,024 files.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  const crbridge::testing::ServerKind kind = BenchServerKind(flags.Text("--database", "postgres"));
  int run = 0;
  if (part == "all" || part == "latency") LatencyTable(binary, kind, commits, &run);
  if (part == "all" || part == "writers") WritersTable(binary, kind, changesets, rows, &run);
  if (part == "all" || part == "upgrade") {
    UpgradeTable(binary, kind, static_cast<size_t>(flags.Number("--upgrade-rows", 100000)), &run);
  }
  if (part == "all" || part == "rooms") {
    RoomsTables(binary, kind, commits, static_cast<size_t>(flags.Number("--moved-rows", 10000)), &run);
  }
  crbridge::testing::TestDatabases::Get().TearDown();
  return 0;
}
