// ReplicationConnection against the real Postgres fixture: slots and their
// exported snapshot, the pgoutput stream (protocols 1 and 2), standby
// status feedback, stopping, and a walsender that goes away.
#include "crbridge/connector/postgres/replication_connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <pqxx/pqxx>
#include <thread>
#include <variant>

#include "crbridge/connector/postgres/pgoutput_decoder.h"
#include "databases/test_databases.h"

namespace crbridge::testing {
using namespace crbridge::postgres;  // the dialect under test
namespace {

using namespace std::chrono_literals;

::testing::AssertionResult Ok(const Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.ToString();
}

// One letter per message, as on the wire: "BRIC".
std::string Kinds(const std::vector<PgMessage>& messages) {
  constexpr std::string_view kLetters = "BCORYIUDTMSEcA";  // PgMessage's alternatives in order
  static_assert(std::variant_size_v<PgMessage> == kLetters.size());
  std::string kinds;
  for (const PgMessage& message : messages) kinds += kLetters[message.index()];
  return kinds;
}

// Reads the stream until a message of type `Last` arrives, skipping
// keepalives, and appends the pgoutput messages to `messages`.
template <typename Last>
::testing::AssertionResult ReadUntil(ReplicationConnection& conn, PgOutputDecoder& decoder,
                                     std::vector<PgMessage>* messages) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string data;
    bool got = false;
    if (const Status s = conn.ReadCopyData(200ms, &data, &got); !s.ok()) return Ok(s);
    if (!got) continue;
    CopyDataMessage copy;
    if (const Status s = DecodeCopyData(data, &copy); !s.ok()) return Ok(s);
    const auto* xlog = std::get_if<XLogData>(&copy);
    if (xlog == nullptr) continue;
    PgMessage message;
    if (const Status s = decoder.Decode(xlog->payload, &message); !s.ok()) return Ok(s);
    messages->push_back(std::move(message));
    if (std::holds_alternative<Last>(messages->back())) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "timed out; got " << Kinds(*messages);
}

// Reads the stream until a keepalive arrives; pgoutput messages on the way
// are dropped.
::testing::AssertionResult ReadKeepalive(ReplicationConnection& conn, PrimaryKeepalive* keepalive) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string data;
    bool got = false;
    if (const Status s = conn.ReadCopyData(200ms, &data, &got); !s.ok()) return Ok(s);
    if (!got) continue;
    CopyDataMessage copy;
    if (const Status s = DecodeCopyData(data, &copy); !s.ok()) return Ok(s);
    if (const auto* k = std::get_if<PrimaryKeepalive>(&copy)) {
      *keepalive = *k;
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure() << "no keepalive";
}

class ReplicationConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
    app_ = std::make_unique<pqxx::connection>(url_);
    // Slots are cluster-wide, databases are per test.
    slot_ = "s_" + std::string(app_->dbname());
    Exec("CREATE PUBLICATION p FOR TABLE todo_lists");
  }

  pqxx::result Exec(const std::string& sql) {
    pqxx::nontransaction tx(*app_);
    return tx.exec(sql);
  }

  void Insert(const std::string& id) { Exec("INSERT INTO todo_lists (id) VALUES (" + app_->quote(id) + ")"); }

  std::unique_ptr<ReplicationConnection> Open(const std::string& url, std::stop_token stop = {}) {
    std::unique_ptr<ReplicationConnection> conn;
    const Status s = ReplicationConnection::Open(url, std::move(stop), &conn);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return conn;
  }

  std::string url_;
  std::unique_ptr<pqxx::connection> app_;
  std::string slot_;
};

TEST_F(ReplicationConnectionTest, IdentifySystemNamesTheDatabase) {
  auto conn = Open(url_);
  ASSERT_NE(conn, nullptr);
  SystemIdentity identity;
  ASSERT_TRUE(Ok(conn->IdentifySystem(&identity)));
  EXPECT_EQ(identity.database, app_->dbname());
  EXPECT_GE(identity.timeline, 1);
  EXPECT_GT(identity.wal_position, 0u);
  EXPECT_EQ(identity.system_id, Exec("SELECT system_identifier FROM pg_control_system()")[0][0].as<std::string>());
  EXPECT_EQ(conn->server_version(), app_->server_version());
}

TEST_F(ReplicationConnectionTest, CreateSlotExportsTheSnapshotOfItsStart) {
  auto conn = Open(url_);
  ASSERT_NE(conn, nullptr);
  Insert("before");
  CreatedSlot created;
  ASSERT_TRUE(Ok(conn->CreateSlot(slot_, &created)));
  EXPECT_GT(created.consistent_point, 0u);
  EXPECT_FALSE(created.snapshot_name.empty());
  Insert("after");

  {
    pqxx::connection reader(url_);
    pqxx::nontransaction tx(reader);
    tx.exec0("BEGIN ISOLATION LEVEL REPEATABLE READ");
    tx.exec0("SET TRANSACTION SNAPSHOT " + tx.quote(created.snapshot_name));
    EXPECT_EQ(tx.exec1("SELECT string_agg(id, ',' ORDER BY id) FROM todo_lists")[0].as<std::string>(), "before");
    tx.exec0("COMMIT");
  }

  FoundSlot found;
  ASSERT_TRUE(Ok(conn->FindSlot(slot_, &found)));
  EXPECT_TRUE(found.exists);
  EXPECT_EQ(found.confirmed_flush_lsn, created.consistent_point);
  EXPECT_FALSE(found.invalidated);
}

TEST_F(ReplicationConnectionTest, StreamsATransactionAsBeginRelationInsertCommit) {
  // Our session settings decide the text (UTC, ISO, UTF-8) whatever the url
  // asks for.
  auto conn = Open(url_ + "?options=-c%20TimeZone%3DAsia/Tokyo%20-c%20DateStyle%3DGerman&client_encoding=LATIN1");
  ASSERT_NE(conn, nullptr);
  CreatedSlot created;
  ASSERT_TRUE(Ok(conn->CreateSlot(slot_, &created)));
  Exec("INSERT INTO todo_lists (id, name, created_at) VALUES ('l1', 'Ünïcödé', '2024-01-02 03:04:05.25+02')");
  ASSERT_TRUE(Ok(conn->StartReplication(slot_, 0, "p", 1)));

  PgOutputDecoder decoder;
  std::vector<PgMessage> messages;
  ASSERT_TRUE(ReadUntil<PgCommit>(*conn, decoder, &messages));
  ASSERT_EQ(Kinds(messages), "BRIC");
  EXPECT_EQ(std::get<PgRelation>(messages[1]).name, "todo_lists");
  const PgTuple& row = std::get<PgInsert>(messages[2]).new_tuple;
  ASSERT_EQ(row.size(), 3u);
  EXPECT_EQ(row[0].data, "l1");
  EXPECT_EQ(row[1].data, "Ünïcödé");
  EXPECT_EQ(row[2].data, "2024-01-02 01:04:05.25+00");
  const auto& commit = std::get<PgCommit>(messages[3]);
  EXPECT_EQ(std::get<PgBegin>(messages[0]).final_lsn, commit.commit_lsn);
  EXPECT_GT(commit.commit_lsn, created.consistent_point);
}

TEST_F(ReplicationConnectionTest, KeepalivesArriveAndReplyNowIsAnswered) {
  auto conn = Open(url_);
  ASSERT_NE(conn, nullptr);
  CreatedSlot created;
  ASSERT_TRUE(Ok(conn->CreateSlot(slot_, &created)));
  ASSERT_TRUE(Ok(conn->StartReplication(slot_, 0, "p", 1)));
  PrimaryKeepalive first;
  ASSERT_TRUE(ReadKeepalive(*conn, &first));
  EXPECT_GE(first.wal_end, created.consistent_point);

  ASSERT_TRUE(Ok(conn->SendStandbyStatus(first.wal_end, created.consistent_point, created.consistent_point,
                                         /*reply_now=*/true)));
  PrimaryKeepalive answer;
  ASSERT_TRUE(ReadKeepalive(*conn, &answer));
  EXPECT_GE(answer.wal_end, first.wal_end);
}

TEST_F(ReplicationConnectionTest, AConfirmedTransactionIsNotResent) {
  auto conn = Open(url_);
  ASSERT_NE(conn, nullptr);
  CreatedSlot created;
  ASSERT_TRUE(Ok(conn->CreateSlot(slot_, &created)));
  Insert("first");
  ASSERT_TRUE(Ok(conn->StartReplication(slot_, 0, "p", 1)));
  PgOutputDecoder decoder;
  std::vector<PgMessage> messages;
  ASSERT_TRUE(ReadUntil<PgCommit>(*conn, decoder, &messages));
  const uint64_t end_lsn = std::get<PgCommit>(messages.back()).end_lsn;

  ASSERT_TRUE(Ok(conn->SendStandbyStatus(end_lsn, end_lsn, end_lsn, false)));
  const std::string reached = "SELECT confirmed_flush_lsn >= " + app_->quote(FormatLsn(end_lsn)) +
                              "::pg_lsn FROM pg_replication_slots WHERE slot_name = " + app_->quote(slot_);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!Exec(reached)[0][0].as<bool>() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(Exec(reached)[0][0].as<bool>()) << "confirmed_flush_lsn did not reach " << FormatLsn(end_lsn);

  ASSERT_TRUE(Ok(conn->StopReplication()));
  SystemIdentity identity;
  EXPECT_TRUE(Ok(conn->IdentifySystem(&identity))) << "commands work again after the stream";
  conn.reset();

  Insert("second");
  conn = Open(url_);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(Ok(conn->StartReplication(slot_, 0, "p", 1)));
  PgOutputDecoder again;
  messages.clear();
  ASSERT_TRUE(ReadUntil<PgCommit>(*conn, again, &messages));
  ASSERT_EQ(Kinds(messages), "BRIC");
  EXPECT_EQ(std::get<PgInsert>(messages[2]).new_tuple[0].data, "second");
}

TEST_F(ReplicationConnectionTest, ARequestedStopCancelsAWaitingRead) {
  std::stop_source stop;
  auto conn = Open(url_, stop.get_token());
  ASSERT_NE(conn, nullptr);
  CreatedSlot created;
  ASSERT_TRUE(Ok(conn->CreateSlot(slot_, &created)));
  ASSERT_TRUE(Ok(conn->StartReplication(slot_, 0, "p", 1)));

  const auto start = std::chrono::steady_clock::now();
  std::jthread stopper([&] {
    std::this_thread::sleep_for(300ms);
    stop.request_stop();
  });
  Status s;
  std::string data;
  bool got = true;
  while (s.ok() && got) s = conn->ReadCopyData(60s, &data, &got);  // keepalives may come first
  EXPECT_EQ(s.code(), Status::Code::kCancelled) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

// Slot creation waits for the transactions running when it starts; a stop
// must end that wait on the server too, or the half-made slot would stay.
TEST_F(ReplicationConnectionTest, AStopCancelsASlotCreationWaitingForATransaction) {
  pqxx::connection holder(url_);
  pqxx::work running(holder);
  running.exec0("INSERT INTO todo_lists (id) VALUES ('held')");
  std::stop_source stop;
  auto conn = Open(url_, stop.get_token());
  ASSERT_NE(conn, nullptr);

  const auto start = std::chrono::steady_clock::now();
  std::jthread stopper([&] {
    std::this_thread::sleep_for(500ms);
    stop.request_stop();
  });
  CreatedSlot created;
  const Status s = conn->CreateSlot(slot_, &created);
  EXPECT_EQ(s.code(), Status::Code::kCancelled) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

  const std::string count = "SELECT count(*) FROM pg_replication_slots WHERE slot_name = " + app_->quote(slot_);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (Exec(count)[0][0].as<int>() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(Exec(count)[0][0].as<int>(), 0) << "the slot is gone while the transaction still runs";
  running.commit();
}

TEST_F(ReplicationConnectionTest, ATerminatedWalsenderIsUnavailable) {
  auto conn = Open(url_);
  ASSERT_NE(conn, nullptr);
  CreatedSlot created;
  ASSERT_TRUE(Ok(conn->CreateSlot(slot_, &created)));
  ASSERT_TRUE(Ok(conn->StartReplication(slot_, 0, "p", 1)));
  EXPECT_EQ(Exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_replication WHERE pid = "
                 "(SELECT active_pid FROM pg_replication_slots WHERE slot_name = " +
                 app_->quote(slot_) + ")")[0][0]
                .as<int>(),
            1);

  Status s;
  std::string data;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (s.ok() && std::chrono::steady_clock::now() < deadline) {
    bool got = false;
    s = conn->ReadCopyData(200ms, &data, &got);
  }
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  bool got = false;
  s = conn->ReadCopyData(200ms, &data, &got);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << "and stays so: " << s.ToString();
  SystemIdentity identity;
  EXPECT_EQ(conn->IdentifySystem(&identity).code(), Status::Code::kUnavailable);
}

TEST_F(ReplicationConnectionTest, ProtocolTwoStreamsALargeTransactionWhileItRuns) {
  if (app_->server_version() < 140000) GTEST_SKIP() << "protocol 2 needs PostgreSQL 14";
  // The url's own options are kept: the smallest decoding memory makes a
  // few thousand rows a streamed transaction.
  auto conn = Open(url_ + "?options=-c%20logical_decoding_work_mem%3D64kB");
  ASSERT_NE(conn, nullptr);
  CreatedSlot created;
  ASSERT_TRUE(Ok(conn->CreateSlot(slot_, &created)));
  Exec("INSERT INTO todo_lists (id, name) SELECT 'big' || g, repeat('x', 100) FROM generate_series(1, 3000) g");
  Insert("small");
  ASSERT_TRUE(Ok(conn->StartReplication(slot_, 0, "p", 2)));

  PgOutputDecoder decoder;
  std::vector<PgMessage> messages;
  ASSERT_TRUE(ReadUntil<PgStreamCommit>(*conn, decoder, &messages));
  ASSERT_FALSE(messages.empty());
  const auto* start = std::get_if<PgStreamStart>(&messages.front());
  ASSERT_NE(start, nullptr) << Kinds(messages).substr(0, 10);
  EXPECT_TRUE(start->first_segment);
  int inserts = 0;
  for (const PgMessage& message : messages) {
    if (const auto* insert = std::get_if<PgInsert>(&message)) {
      ++inserts;
      EXPECT_EQ(insert->xid, start->xid);
    }
  }
  EXPECT_EQ(inserts, 3000);
  EXPECT_EQ(std::get<PgStreamCommit>(messages.back()).xid, start->xid);

  messages.clear();
  ASSERT_TRUE(ReadUntil<PgCommit>(*conn, decoder, &messages));
  EXPECT_EQ(Kinds(messages), "BIC") << "a small transaction is not streamed; its relation was sent already";
}

TEST_F(ReplicationConnectionTest, AnUnknownSlotIsNotFound) {
  auto conn = Open(url_);
  ASSERT_NE(conn, nullptr);
  Status s = conn->StartReplication(slot_, 0, "p", 1);
  EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("replication slot \"" + slot_ + "\" does not exist"), std::string::npos) << s.message();
  s = conn->DropSlot(slot_);
  EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.ToString();
  SystemIdentity identity;
  EXPECT_TRUE(Ok(conn->IdentifySystem(&identity))) << "the connection is still usable";
}

TEST_F(ReplicationConnectionTest, BadArgumentsAreRefusedBeforeTheServerSeesThem) {
  auto conn = Open(url_);
  ASSERT_NE(conn, nullptr);
  CreatedSlot created;
  EXPECT_EQ(conn->CreateSlot("Has-Dashes", &created).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(conn->CreateSlot(std::string(64, 'a'), &created).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(conn->DropSlot("x'; DROP TABLE todos; --").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(conn->StartReplication(slot_, 0, "p", 3).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(conn->StartReplication(slot_, 0, "", 1).code(), Status::Code::kInvalidArgument);
  SystemIdentity identity;
  EXPECT_TRUE(Ok(conn->IdentifySystem(&identity)));
}

// The publication name is quoted for the identifier list and again for the
// string literal around it.
TEST_F(ReplicationConnectionTest, APublicationNameNeedingQuotesWorks) {
  const std::string name = "Odd 'pub', \"quoted\"";
  Exec("CREATE PUBLICATION " + app_->quote_name(name) + " FOR TABLE todo_lists");
  auto conn = Open(url_);
  ASSERT_NE(conn, nullptr);
  CreatedSlot created;
  ASSERT_TRUE(Ok(conn->CreateSlot(slot_, &created)));
  Insert("l1");
  ASSERT_TRUE(Ok(conn->StartReplication(slot_, 0, name, 1)));
  PgOutputDecoder decoder;
  std::vector<PgMessage> messages;
  ASSERT_TRUE(ReadUntil<PgCommit>(*conn, decoder, &messages));
  EXPECT_EQ(Kinds(messages), "BRIC");
}

TEST_F(ReplicationConnectionTest, AMissingPublicationIsNotFoundAndTheConnectionStaysUsable) {
  auto conn = Open(url_);
  ASSERT_NE(conn, nullptr);
  CreatedSlot created;
  ASSERT_TRUE(Ok(conn->CreateSlot(slot_, &created)));
  Insert("l1");
  // The server looks the publication up when it decodes the first change.
  ASSERT_TRUE(Ok(conn->StartReplication(slot_, 0, "nope", 1)));
  Status s;
  std::string data;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (s.ok() && std::chrono::steady_clock::now() < deadline) {
    bool got = false;
    s = conn->ReadCopyData(200ms, &data, &got);
  }
  // Up to 17 the server fails the stream; 18 warns that it skipped the
  // publication, and the connection fails the stream itself.
  EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find(std::stoi(PostgresMajor()) >= 18 ? "skipped loading publication \"nope\""
                                                      : "publication \"nope\" does not exist"),
            std::string::npos)
      << s.message();
  SystemIdentity identity;
  EXPECT_TRUE(Ok(conn->IdentifySystem(&identity)));
}

TEST_F(ReplicationConnectionTest, DropSlotRemovesTheSlot) {
  auto conn = Open(url_);
  ASSERT_NE(conn, nullptr);
  CreatedSlot created;
  ASSERT_TRUE(Ok(conn->CreateSlot(slot_, &created)));
  FoundSlot found;
  ASSERT_TRUE(Ok(conn->FindSlot(slot_, &found)));
  EXPECT_TRUE(found.exists);
  ASSERT_TRUE(Ok(conn->DropSlot(slot_)));
  ASSERT_TRUE(Ok(conn->FindSlot(slot_, &found)));
  EXPECT_FALSE(found.exists);
  EXPECT_EQ(found.confirmed_flush_lsn, 0u);
  EXPECT_EQ(Exec("SELECT count(*) FROM pg_replication_slots WHERE slot_name = " + app_->quote(slot_))[0][0].as<int>(),
            0);
}

TEST(ReplicationConnectionOpenTest, AnUnreachableServerIsUnavailable) {
  std::unique_ptr<ReplicationConnection> conn;
  const Status s = ReplicationConnection::Open("postgresql://postgres@127.0.0.1:1/postgres", {}, &conn);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  EXPECT_EQ(conn, nullptr);
}

// A server that accepts the TCP connection and never answers.
TEST(ReplicationConnectionOpenTest, ASilentServerTimesOutOrIsStopped) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string url = "postgresql://postgres@127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/x";

  std::unique_ptr<ReplicationConnection> conn;
  auto start = std::chrono::steady_clock::now();
  Status s = ReplicationConnection::Open(url + "?connect_timeout=2", {}, &conn);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("timed out after 2 s"), std::string::npos) << s.message();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

  std::stop_source stop;
  start = std::chrono::steady_clock::now();
  std::jthread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  s = ReplicationConnection::Open(url + "?connect_timeout=0", stop.get_token(), &conn);
  EXPECT_EQ(s.code(), Status::Code::kCancelled) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  close(listener);
}

TEST(ReplicationConnectionOpenTest, AMalformedUrlIsInvalid) {
  std::unique_ptr<ReplicationConnection> conn;
  const Status s = ReplicationConnection::Open("postgresql://host/db?no_such_option=1", {}, &conn);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
}

}  // namespace
}  // namespace crbridge::testing
