// BinlogStream against the MariaDB fixture: event groups, resume by GTID
// and by file and position, rotation, table ids after DDL, heartbeats,
// stop, lost connections and unknown positions.
#include "crbridge/connector/mysql/binlog_stream.h"

#include <gtest/gtest.h>

#include <thread>

#include "golden/binlog_test_support.h"
#include "databases/test_databases.h"

namespace crbridge::testing {
using namespace crbridge::mysql;  // the dialect under test
namespace {

class BinlogStreamTest : public ::testing::Test {
 protected:
  BinlogStreamTest() : url_(TestDatabases::Get().NewMariaDbDatabase()), db_(url_) {}

  // The ids of table `table`'s written rows, in stream order.
  static std::vector<int64_t> WrittenIds(const StreamedEvents& events, const std::string& table) {
    std::vector<int64_t> ids;
    for (const TableRowChanges& changes : RowChangesOf(events, table)) {
      if (changes.kind != BinlogRowsKind::kWrite) continue;
      for (const BinlogRowChange& row : changes.rows) ids.push_back(std::get<int64_t>(row.after.at(0).value));
    }
    return ids;
  }

  // Runs `statements` and reads their events from a stream opened at the
  // GTID state before them; `end` is where they ended.
  std::unique_ptr<BinlogStream> Run(const std::vector<std::string>& statements, StreamedEvents* events,
                                    BinlogStart* end) {
    const std::string start = db_.GtidPosition();
    for (const std::string& statement : statements) db_.Exec(statement);
    *end = db_.FilePosition();
    auto stream = OpenStream(url_, StreamFrom(BinlogStart::AtGtid(start)));
    ReadUntil(*stream, *end, events);
    return stream;
  }

  std::string url_;
  MariaDbSession db_;
};

template <typename Body>
std::vector<const Body*> EventsOf(const StreamedEvents& events) {
  std::vector<const Body*> out;
  for (const BinlogEvent& event : events.decoded) {
    if (const auto* body = std::get_if<Body>(&event.data)) out.push_back(body);
  }
  return out;
}

TEST_F(BinlogStreamTest, DeliversTransactionsBetweenGtidAndXid) {
  StreamedEvents events;
  BinlogStart end;
  auto stream = Run({"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))", "START TRANSACTION",
                     "INSERT INTO t VALUES (1, 'a')", "INSERT INTO t VALUES (2, 'b')", "COMMIT"},
                    &events, &end);
  ASSERT_FALSE(events.decoded.empty());
  // A stream opens with an artificial ROTATE naming its file, then the
  // file's FORMAT_DESCRIPTION.
  EXPECT_EQ(events.decoded[0].header.type, BinlogEventType::kRotate);
  EXPECT_TRUE(events.decoded[0].header.flags & kBinlogEventArtificial);
  EXPECT_EQ(std::get<BinlogRotate>(events.decoded[0].data).file_name, end.file_name);
  EXPECT_EQ(events.decoded[1].header.type, BinlogEventType::kFormatDescription);

  // The groups after the start state: the DDL alone, then the transaction.
  std::vector<BinlogEventType> types;
  bool after_start = false;
  for (const BinlogEvent& event : events.decoded) {
    if (event.header.type == BinlogEventType::kMariaDbGtid) after_start = true;
    if (after_start) types.push_back(event.header.type);
  }
  const std::vector<BinlogEventType> expected = {
      BinlogEventType::kMariaDbGtid, BinlogEventType::kQuery,        BinlogEventType::kMariaDbGtid,
      BinlogEventType::kTableMap,    BinlogEventType::kWriteRowsV1, BinlogEventType::kTableMap,
      BinlogEventType::kWriteRowsV1, BinlogEventType::kXid};
  EXPECT_EQ(types, expected);
  const std::vector<const BinlogMariaDbGtid*> gtids = EventsOf<BinlogMariaDbGtid>(events);
  ASSERT_EQ(gtids.size(), 2u);
  EXPECT_TRUE(gtids[0]->flags & kMariaDbGtidStandalone);
  EXPECT_TRUE(gtids[0]->flags & kMariaDbGtidDdl);
  EXPECT_FALSE(gtids[1]->flags & kMariaDbGtidStandalone);
  EXPECT_TRUE(gtids[1]->flags & kMariaDbGtidTransactional);
  EXPECT_EQ(gtids[1]->sequence, gtids[0]->sequence + 1);
  EXPECT_EQ(db_.GtidPosition(), "0-1-" + std::to_string(gtids[1]->sequence));
  EXPECT_NE(EventsOf<BinlogQuery>(events).back()->sql.find("CREATE TABLE"), std::string::npos);
  EXPECT_EQ(WrittenIds(events, "t"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(stream->position(), end.position);
}

TEST_F(BinlogStreamTest, ResumesAfterAGtidStateOrAFilePosition) {
  db_.Exec("CREATE TABLE t (id INT PRIMARY KEY)");
  db_.Exec("INSERT INTO t VALUES (1)");
  const std::string gtid_after_first = db_.GtidPosition();
  const BinlogStart file_after_first = db_.FilePosition();
  db_.Exec("INSERT INTO t VALUES (2)");
  const BinlogStart after_second = db_.FilePosition();

  for (const BinlogStart& start : {BinlogStart::AtGtid(gtid_after_first), file_after_first}) {
    auto stream = OpenStream(url_, StreamFrom(start));
    StreamedEvents events;
    ReadUntil(*stream, after_second, &events);
    EXPECT_EQ(WrittenIds(events, "t"), std::vector<int64_t>{2}) << "from " << start.gtid_state << start.file_name;
    EXPECT_EQ(stream->file_name(), after_second.file_name);
    EXPECT_EQ(stream->position(), after_second.position);
  }

  // Where a stream stopped is where the next one resumes.
  auto first = OpenStream(url_, StreamFrom(file_after_first));
  StreamedEvents seen;
  ReadUntil(*first, after_second, &seen);
  const BinlogStart resume = BinlogStart::AtFile(first->file_name(), first->position());
  first.reset();
  db_.Exec("INSERT INTO t VALUES (3)");
  auto second = OpenStream(url_, StreamFrom(resume));
  StreamedEvents rest;
  ReadUntil(*second, db_.FilePosition(), &rest);
  EXPECT_EQ(WrittenIds(rest, "t"), std::vector<int64_t>{3});
}

TEST_F(BinlogStreamTest, FollowsRotationToTheNextFile) {
  const std::string first_file = db_.FilePosition().file_name;
  StreamedEvents events;
  BinlogStart end;
  auto stream = Run({"CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)", "FLUSH BINARY LOGS",
                     "INSERT INTO t VALUES (2)"},
                    &events, &end);
  ASSERT_NE(end.file_name, first_file);
  EXPECT_EQ(WrittenIds(events, "t"), (std::vector<int64_t>{1, 2}));
  // The old file ends with a real ROTATE to the new one at position 4.
  const std::vector<const BinlogRotate*> rotates = EventsOf<BinlogRotate>(events);
  ASSERT_GE(rotates.size(), 2u);
  EXPECT_EQ(rotates.back()->file_name, end.file_name);
  EXPECT_EQ(rotates.back()->position, 4u);
  EXPECT_EQ(stream->file_name(), end.file_name);
  // A new file starts with the GTID state so far.
  const std::vector<const BinlogMariaDbGtidList*> lists = EventsOf<BinlogMariaDbGtidList>(events);
  ASSERT_FALSE(lists.empty());
  ASSERT_EQ(lists.back()->positions.size(), 1u);
}

TEST_F(BinlogStreamTest, TableIdsChangeAfterAlterTable) {
  StreamedEvents events;
  BinlogStart end;
  Run({"CREATE TABLE t (id INT PRIMARY KEY, a INT)", "INSERT INTO t VALUES (1, 10)",
       "ALTER TABLE t ADD COLUMN b VARCHAR(5) AFTER id", "INSERT INTO t VALUES (2, 'x', 20)"},
      &events, &end);
  const std::vector<TableRowChanges> changes = RowChangesOf(events, "t");
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_NE(changes[0].table.table_id, changes[1].table.table_id);
  ASSERT_EQ(changes[1].table.columns.size(), 3u);
  EXPECT_EQ(changes[1].table.columns[1].name, "b");
  const BinlogRowImage& after = changes[1].rows.at(0).after;
  EXPECT_EQ(after.at(1).value, BinlogValue(std::string("x")));
  EXPECT_EQ(after.at(2).value, BinlogValue(int64_t{20}));
}

TEST_F(BinlogStreamTest, SendsHeartbeatsAtTheCurrentPositionWhileIdle) {
  BinlogStreamOptions options = StreamFrom(db_.FilePosition());
  options.heartbeat_period = std::chrono::milliseconds(200);
  auto stream = OpenStream(url_, options);
  const auto started = std::chrono::steady_clock::now();
  BinlogEvent event;
  do {
    ASSERT_TRUE(stream->Next(&event).ok());
  } while (event.header.type != BinlogEventType::kHeartbeat);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  EXPECT_EQ(std::get<BinlogHeartbeat>(event.data).file_name, options.start.file_name);
  EXPECT_EQ(event.header.log_pos, options.start.position);
  EXPECT_EQ(stream->position(), options.start.position);
}

TEST_F(BinlogStreamTest, StopEndsAWaitingNextSoonWithCancelled) {
  BinlogStreamOptions options = StreamFrom(db_.FilePosition());
  options.heartbeat_period = std::chrono::seconds(20);
  options.read_timeout = std::chrono::seconds(60);
  std::stop_source stop;
  auto stream = OpenStream(url_, options, stop.get_token());
  BinlogEvent event;
  ASSERT_TRUE(stream->Next(&event).ok());  // ROTATE
  ASSERT_TRUE(stream->Next(&event).ok());  // FORMAT_DESCRIPTION
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  const auto started = std::chrono::steady_clock::now();
  const Status s = stream->Next(&event);
  EXPECT_EQ(s.code(), Status::Code::kCancelled) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(stream->Next(&event).code(), Status::Code::kCancelled);
}

TEST_F(BinlogStreamTest, LostConnectionsAndSilenceAreUnavailable) {
  BinlogStreamOptions options = StreamFrom(db_.FilePosition(), 1002);
  options.heartbeat_period = std::chrono::seconds(20);
  auto killed = OpenStream(url_, options);
  BinlogEvent event;
  ASSERT_TRUE(killed->Next(&event).ok());
  db_.Exec("KILL " + db_.QueryOne("SELECT ID FROM information_schema.PROCESSLIST "
                                  "WHERE COMMAND LIKE 'Binlog Dump%' ORDER BY ID DESC LIMIT 1"));
  Status s;
  while ((s = killed->Next(&event)).ok()) {
  }
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();

  // No heartbeat within the read timeout: the connection counts as lost.
  options.read_timeout = std::chrono::seconds(1);
  auto silent = OpenStream(url_, options);
  const auto started = std::chrono::steady_clock::now();
  while ((s = silent->Next(&event)).ok()) {
  }
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(BinlogStreamTest, UnknownStartPositionsAreNotFound) {
  for (const BinlogStart& start : {BinlogStart::AtGtid("0-1-99999999"), BinlogStart::AtFile("binlog.999999", 4)}) {
    auto stream = OpenStream(url_, StreamFrom(start));
    BinlogEvent event;
    Status s;
    while ((s = stream->Next(&event)).ok()) {
    }
    EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.ToString();
  }
}

TEST_F(BinlogStreamTest, RefusesBadOptions) {
  std::unique_ptr<BinlogStream> stream;
  EXPECT_EQ(BinlogStream::Open(url_, StreamFrom(BinlogStart::AtGtid("0-1-1"), 0), {}, &stream).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(BinlogStream::Open(url_, StreamFrom(BinlogStart::AtGtid("0-1-1'; DROP TABLE x")), {}, &stream).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(BinlogStream::Open(url_, StreamFrom(BinlogStart::AtFile("", 4)), {}, &stream).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(BinlogStream::Open("mysql://crbridge:crbridge@127.0.0.1:1/", StreamFrom(BinlogStart::AtGtid("0-1-1")),
                               {}, &stream)
                .code(),
            Status::Code::kUnavailable);
}

}  // namespace
}  // namespace crbridge::testing
