// Recording captured app writes in the clocks (ChangeRecorder)
// against the real Postgres and MariaDB fixtures (every test runs on both):
// which columns bump, deletes, resurrections, truncates, exact skipping of
// what is already recorded, the race with a client merge, and rows whose
// values do not map (stored as rejected, cleared by a later change). Clocks are
// read back through the store (ShadowStore::Read), the same on both.
#include "crbridge/server/core/change_recorder.h"

#include <gtest/gtest.h>

#include <limits>

#include "crbridge/server/mysql/binlog_position.h"
#include "crbridge/server/core/sync_store.h"
#include "crbridge/sqlite/packed_pk.h"
#include "databases/test_databases.h"
#include "todo_app/todo_app.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
using namespace crbridge::mysql;  // the dialect under test
namespace {

// `items` as Postgres prints an array: {1,NULL,2}.
std::string ArrayText(const std::vector<std::optional<int64_t>>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i > 0 ? "," : "") + (items[i] ? std::to_string(*items[i]) : std::string("NULL"));
  }
  return out + "}";
}

struct Recording {
  explicit Recording(ServerKind kind) : database(kind), recorder(*capture_writer, SourceTypeOf(kind), app->check.tables) {}

  TodoAppDatabase database;
  std::string url = database.url;
  std::unique_ptr<MappedApp> app = MapTodoApp(database);
  std::unique_ptr<ShadowStore> capture_writer = OpenAppStore(*app, ShadowStore::Marking::kNone);
  ChangeRecorder recorder;

  const ResolvedTable* Table(const std::string& name) const {
    for (const ResolvedTable& t : app->check.tables) {
      if (t.mapping->name == name) return &t;
    }
    return nullptr;
  }

  // A todo as the source reports it: id, list_id, title, done, position, due.
  CapturedRow Todo(CapturedRow::Kind kind, const std::string& id, std::optional<std::string> title = "milk",
                   bool done = false) const {
    CapturedRow row{kind, Table("todos"), {Value::Text(id)}, {}};
    if (kind == CapturedRow::Kind::kDelete) return row;
    row.values = {Value::Text("l1"), title ? std::optional<Value>(Value::Text(*title)) : std::nullopt,
                  Value::Integer(done ? 1 : 0), Value::Null(), Value::Null()};
    return row;
  }

  // A todo change whose values (or, with `key_maps` false, its key) did
  // not map, as capture hands it on.
  CapturedRow Rejected(CapturedRow::Kind kind, const std::string& id, bool key_maps = true) const {
    CapturedRow row = Todo(kind, key_maps ? id : "\xff" + id);
    row.rejection = key_maps ? "todos.position: server value \"x\" is not a valid double precision"
                             : "todos.id: server text \"\\xff\" of a text is not valid UTF-8";
    return row;
  }

  // "table key reason position" of each stored rejection, in order.
  std::vector<std::string> Rejections(ShadowStore& store) {
    std::vector<RejectedRow> rows;
    const Status s = store.RejectedRows(&rows);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<std::string> out;
    for (const RejectedRow& row : rows) out.push_back(DescribeRejectedRow(row) + " @" + std::to_string(row.position));
    return out;
  }
  std::vector<std::string> Rejections() { return Rejections(*capture_writer); }

  RecordReport Record(int64_t position, std::vector<CapturedRow> rows) {
    RecordReport report;
    const Status s = recorder.Record({CapturedTransaction{position, std::move(rows)}}, &report);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return report;
  }

  // "cl versions sites db_version" of a todo's clock, as Postgres prints
  // the clock table's columns; "none" without one.
  std::string Clock(const std::string& id) {
    std::string clock = "none";
    const Status s = capture_writer->Read([&](ShadowSnapshot& snapshot) {
      return snapshot.RowsBetween(*Table("todos"), 0, std::numeric_limits<int64_t>::max(), std::nullopt,
                                  [&](PulledRow row) {
                                    if (row.key.at(0) == Value::Text(id)) {
                                      clock = std::to_string(row.clock.cl) + " " + ArrayText(row.clock.versions) +
                                              " " + ArrayText(row.clock.sites) + " " +
                                              std::to_string(row.db_version);
                                    }
                                    return Status::OK();
                                  });
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return clock;
  }
  // Where the source's log ends now: past every transaction committed.
  int64_t SourceEnd() {
    if (database.kind() == ServerKind::kPostgres) {
      return std::stoll(database.One("SELECT pg_current_wal_lsn() - '0/0'"));
    }
    const auto status = database.Rows(BinlogStatusSql(database.kind()));  // file, position, ...
    int64_t offset = 0;
    EXPECT_FALSE(status.empty());
    if (status.empty()) return 0;
    const Status s = EncodeBinlogOffset(BinlogPosition{*status[0][0], std::stoull(*status[0][1])}, &offset);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return offset;
  }
  int64_t Position() {
    SourcePosition position;
    EXPECT_TRUE(capture_writer->CapturePosition(&position).ok());
    return position.offset;
  }
};

using Kind = CapturedRow::Kind;

class ChangeRecorderTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(ChangeRecorderTest, AnInsertGivesEveryColumnAServerClock) {
  Recording r(GetParam());
  const RecordReport report = r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  EXPECT_EQ(report.rows_changed, 1u);
  EXPECT_EQ(r.Clock("t1"), "1 {1,1,1,1,1} {0,0,0,0,0} " + std::to_string(report.db_version));
  EXPECT_EQ(r.Position(), 100);
}

TEST_P(ChangeRecorderTest, AnUpdateBumpsOnlyTheColumnsThatReallyChanged) {
  Recording r(GetParam());
  r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  // done changes; title is the same; an unchanged TOASTed value is not sent.
  const RecordReport report = r.Record(200, {r.Todo(Kind::kUpdate, "t1", "milk", true)});
  EXPECT_EQ(r.Clock("t1"), "1 {1,1,2,1,1} {0,0,0,0,0} " + std::to_string(report.db_version));
  r.Record(300, {r.Todo(Kind::kUpdate, "t1", std::nullopt, true)});
  EXPECT_EQ(r.Clock("t1"), "1 {1,1,2,1,1} {0,0,0,0,0} " + std::to_string(report.db_version))
      << "nothing changed: no new version";
  EXPECT_EQ(r.Position(), 300);
}

// A clock stored at the largest integer (a client's, before client clocks
// were bounded) stays there rather than wrap to a negative number that
// loses every comparison.
TEST_P(ChangeRecorderTest, AClockAtTheLargestIntegerNeverWraps) {
  Recording r(GetParam());
  r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  constexpr int64_t kLargest = std::numeric_limits<int64_t>::max();
  const ResolvedTable& todos = *r.Table("todos");
  const KeyParameters key = {ServerParameter{false, "t1"}};
  ASSERT_TRUE(r.capture_writer
                  ->Write([&](ShadowTransaction& tx, int64_t version) {
                    ClockRow clock;
                    CRBRIDGE_RETURN_IF_ERROR(tx.ReadClocks(todos, {&key}, [&](const Blob&, ClockRow found) {
                      clock = std::move(found);
                      return Status::OK();
                    }));
                    clock.cl = kLargest;
                    clock.versions[1] = kLargest;
                    return tx.WriteClocks(todos, {ClockWrite{&key, &clock, version, 0}});
                  })
                  .ok());
  RecordReport report = r.Record(200, {r.Todo(Kind::kUpdate, "t1", "oat milk")});
  EXPECT_EQ(report.clocks_saturated, 1u);
  EXPECT_EQ(r.Clock("t1"), "9223372036854775807 {1,9223372036854775807,1,1,1} {0,0,0,0,0} " +
                               std::to_string(report.db_version));
  report = r.Record(300, {r.Todo(Kind::kDelete, "t1")});
  EXPECT_EQ(report.clocks_saturated, 1u);
  EXPECT_EQ(r.Clock("t1").substr(0, 20), "9223372036854775807 ");
}

TEST_P(ChangeRecorderTest, DeletesAndReinsertsMoveTheCausalLength) {
  Recording r(GetParam());
  r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  r.Record(200, {r.Todo(Kind::kDelete, "t1")});
  EXPECT_EQ(r.Clock("t1").substr(0, 2), "2 ");
  r.Record(300, {r.Todo(Kind::kInsert, "t1", "eggs")});
  EXPECT_EQ(r.Clock("t1").substr(0, 15), "3 {2,2,2,2,2} {");
  // A delete of a row never recorded leaves nothing behind.
  r.Record(400, {r.Todo(Kind::kDelete, "t9")});
  EXPECT_EQ(r.Clock("t9"), "none");
}

TEST_P(ChangeRecorderTest, ChangesWithinOneTransactionApplyInOrder) {
  Recording r(GetParam());
  const RecordReport report = r.Record(100, {r.Todo(Kind::kInsert, "t1"), r.Todo(Kind::kUpdate, "t1", "eggs"),
                                             r.Todo(Kind::kDelete, "t2"), r.Todo(Kind::kInsert, "t2")});
  EXPECT_EQ(report.rows_changed, 2u);
  EXPECT_EQ(r.Clock("t1"), "1 {1,2,1,1,1} {0,0,0,0,0} " + std::to_string(report.db_version));
  EXPECT_EQ(r.Clock("t2"), "1 {1,1,1,1,1} {0,0,0,0,0} " + std::to_string(report.db_version));
}

TEST_P(ChangeRecorderTest, ATransactionRecordedTwiceCountsOnce) {
  Recording r(GetParam());
  r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  const std::string once = r.Clock("t1");
  const RecordReport again = r.Record(100, {r.Todo(Kind::kInsert, "t1", "other")});
  EXPECT_EQ(again.rows_skipped, 1u);
  EXPECT_EQ(again.rows_changed, 0u);
  EXPECT_EQ(r.Clock("t1"), once);
}

TEST_P(ChangeRecorderTest, ATruncateKillsEveryLiveRowButNotLaterOnes) {
  Recording r(GetParam());
  r.Record(100, {r.Todo(Kind::kInsert, "t1"), r.Todo(Kind::kInsert, "t2")});
  r.Record(200, {r.Todo(Kind::kDelete, "t2")});
  CapturedRow truncate{Kind::kTruncate, r.Table("todos"), {}, {}};
  const RecordReport report = r.Record(300, {truncate, r.Todo(Kind::kInsert, "t3")});
  EXPECT_EQ(report.rows_changed, 2u);
  EXPECT_EQ(r.Clock("t1").substr(0, 2), "2 ");
  EXPECT_EQ(r.Clock("t2").substr(0, 2), "2 ") << "already dead: unchanged";
  EXPECT_EQ(r.Clock("t3").substr(0, 2), "1 ");
  // Replayed, the truncate leaves the row inserted after it alone.
  r.Record(300, {truncate});
  EXPECT_EQ(r.Clock("t3").substr(0, 2), "1 ");
}

// A row whose values do not map stops nothing: the rest of its
// transaction is recorded, the rejection is stored with it (a new store
// and recorder, as after a restart, find it), and the row's clock keeps
// its last good state.
TEST_P(ChangeRecorderTest, ARowThatDoesNotMapIsStoredAsRejectedAndTheRestRecorded) {
  Recording r(GetParam());
  const RecordReport first = r.Record(100, {r.Todo(Kind::kInsert, "t2")});
  const RecordReport report =
      r.Record(200, {r.Todo(Kind::kInsert, "t1"), r.Rejected(Kind::kUpdate, "t2"), r.Todo(Kind::kInsert, "t3")});
  EXPECT_EQ(report.rows_changed, 2u);
  ASSERT_EQ(report.rejected.size(), 1u);
  EXPECT_EQ(report.rejected[0].table, "todos");
  EXPECT_EQ(report.rejected[0].position, 200);
  EXPECT_EQ(r.Clock("t1").substr(0, 2), "1 ");
  EXPECT_EQ(r.Clock("t2"), "1 {1,1,1,1,1} {0,0,0,0,0} " + std::to_string(first.db_version)) << "its last good state";
  EXPECT_EQ(r.Clock("t3").substr(0, 2), "1 ");
  const std::vector<std::string> expected = {
      "todos ('t2'): todos.position: server value \"x\" is not a valid double precision @200"};
  EXPECT_EQ(r.Rejections(), expected);
  EXPECT_EQ(r.Position(), 200);

  auto restarted = OpenAppStore(*r.app, ShadowStore::Marking::kNone);
  EXPECT_EQ(r.Rejections(*restarted), expected);
  ChangeRecorder recorder(*restarted, SourceTypeOf(GetParam()), r.app->check.tables);
  std::vector<RejectedRow> standing;
  ASSERT_TRUE(recorder.StandingRejections(&standing).ok());
  EXPECT_EQ(standing.size(), 1u);
}

// A later change that maps ends the rejection; the row is stamped anew,
// whole, even when its values are back to the last recorded ones: pulls
// left it out meanwhile, and clients that passed its version must get it.
TEST_P(ChangeRecorderTest, AChangeThatMapsClearsTheRejectionAndStampsTheRowAnew) {
  Recording r(GetParam());
  const RecordReport first = r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  r.Record(200, {r.Rejected(Kind::kUpdate, "t1")});
  EXPECT_EQ(r.Rejections().size(), 1u);
  const RecordReport fixed = r.Record(300, {r.Todo(Kind::kUpdate, "t1")});
  ASSERT_EQ(fixed.cleared.size(), 1u);
  EXPECT_EQ(fixed.cleared[0].table, "todos");
  EXPECT_GT(fixed.db_version, first.db_version);
  EXPECT_EQ(r.Clock("t1"), "1 {1,1,1,1,1} {0,0,0,0,0} " + std::to_string(fixed.db_version));
  EXPECT_TRUE(r.Rejections().empty());

  // Rejected and fixed within one batch: the fix is what counts.
  const RecordReport both = r.Record(400, {r.Rejected(Kind::kUpdate, "t1"), r.Todo(Kind::kUpdate, "t1", "eggs")});
  EXPECT_TRUE(both.rejected.empty());
  EXPECT_TRUE(r.Rejections().empty());
  EXPECT_EQ(r.Clock("t1").substr(0, 15), "1 {1,2,1,1,1} {");
}

TEST_P(ChangeRecorderTest, ADeleteOrATruncateClearsRejections) {
  Recording r(GetParam());
  // A key that does not map: the row never had a clock.
  r.Record(100, {r.Rejected(Kind::kInsert, "t1", false), r.Rejected(Kind::kInsert, "t2"),
                 r.Rejected(Kind::kInsert, "t3")});
  EXPECT_EQ(r.Rejections().size(), 3u);
  EXPECT_EQ(r.Clock("t2"), "none");
  const RecordReport deleted = r.Record(200, {r.Rejected(Kind::kDelete, "t1", false), r.Todo(Kind::kDelete, "t2")});
  EXPECT_EQ(deleted.cleared.size(), 2u);
  EXPECT_EQ(deleted.rows_changed, 0u) << "no clock to kill";
  EXPECT_EQ(r.Rejections().size(), 1u);
  CapturedRow truncate{Kind::kTruncate, r.Table("todos"), {}, {}};
  const RecordReport truncated = r.Record(300, {truncate});
  EXPECT_EQ(truncated.cleared.size(), 1u);
  EXPECT_TRUE(r.Rejections().empty());
}

// A table read whole (its snapshot, or a read again behind the stream)
// ends the rejections of rows it no longer has, with their clocks, but not
// one the stream made after the position it read at.
TEST_P(ChangeRecorderTest, ATableReadWholeEndsRejectionsOfRowsItNoLongerHasButNotNewerOnes) {
  Recording r(GetParam());
  r.Record(100, {r.Rejected(Kind::kInsert, "t1"), r.Todo(Kind::kInsert, "t2")});
  r.Record(300, {r.Rejected(Kind::kUpdate, "t2")});
  RecordReport report;
  const Status read = r.recorder.RecordSnapshot(CapturedTransaction{200, {r.Todo(Kind::kInsert, "t2")}},
                                                *r.Table("todos"), true, std::nullopt, &report);
  ASSERT_TRUE(read.ok()) << read.ToString();
  EXPECT_EQ(report.cleared.size(), 1u);
  EXPECT_EQ(r.Rejections(), std::vector<std::string>{
                                "todos ('t2'): todos.position: server value \"x\" is not a valid double precision @300"});
}

// After a crash the source resends what the clocks already hold: a
// replayed rejection that a recorded change already cleared stays cleared.
TEST_P(ChangeRecorderTest, AReplayedRejectionThatWasClearedStaysCleared) {
  Recording r(GetParam());
  r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  r.Record(200, {r.Rejected(Kind::kUpdate, "t1")});
  r.Record(300, {r.Todo(Kind::kUpdate, "t1", "eggs")});
  const std::string clock = r.Clock("t1");
  const RecordReport replayed = r.Record(200, {r.Rejected(Kind::kUpdate, "t1")});
  EXPECT_EQ(replayed.rows_skipped, 1u);
  EXPECT_TRUE(r.Rejections().empty());
  EXPECT_EQ(r.Clock("t1"), clock);
}

// docs/design.md, "App write racing a client merge": the app writes a row, a
// client merge reaches it before capture does. The merge records the app
// write first; capture, arriving later, skips it. Table and clock agree.
TEST_P(ChangeRecorderTest, AnAppWriteAMergeRecordedFirstIsNotRecordedAgain) {
  Recording r(GetParam());
  r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  r.database.Sql("INSERT INTO todos (id, list_id, title, done) VALUES ('t1', 'l1', 'milk', false)");
  r.database.Sql("UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
  const int64_t app_commit = r.SourceEnd();
  auto merge_writer = OpenAppStore(*r.app);
  auto store = std::make_unique<SyncStore>(r.app->config, r.app->check.tables, *merge_writer);
  SiteId client;
  client.fill(7);
  const Value key = Value::Text("t1");
  Blob pk;
  ASSERT_TRUE(EncodePackedPk(std::span(&key, 1), &pk).ok());
  MergeReport merged;
  ASSERT_TRUE(store->Merge(client, {Change{"todos", pk, "done", Value::Integer(1), 1, 1, std::nullopt, 1, 0}},
                           PeerVersion{1, 0}, &merged)
                  .ok());
  // title: the app's write, recorded by the merge (version 2, the server);
  // done: the client's, which beat the server's version 1 on value.
  EXPECT_EQ(r.Clock("t1"), "1 {1,2,1,1,1} {0,0,1,0,0} " + std::to_string(merged.db_version));

  const RecordReport late = r.Record(app_commit, {r.Todo(Kind::kUpdate, "t1", "oat milk")});
  EXPECT_EQ(late.rows_skipped, 1u);
  EXPECT_EQ(r.Clock("t1"), "1 {1,2,1,1,1} {0,0,1,0,0} " + std::to_string(merged.db_version));
}

INSTANTIATE_TEST_SUITE_P(Databases, ChangeRecorderTest, AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
