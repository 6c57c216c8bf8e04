// cr-sqlite's merge rules as a table: each case is what the published
// extension (0.16) did to a row in that state when the change arrived.
#include <gtest/gtest.h>

#include "crbridge/sqlite/change.h"

namespace crbridge {
namespace {

struct MergeCase {
  const char* what;
  RowClock row;
  ColumnClock column;
  const char* cid;
  int64_t cl;
  int64_t col_version;
  Value val;
  MergeOutcome expected;
};

Change Incoming(const MergeCase& c) {
  Change change;
  change.table = "t";
  change.cid = c.cid;
  change.cl = c.cl;
  change.col_version = c.col_version;
  change.val = c.val;
  return change;
}

ColumnClock Column(int64_t col_version, Value value) { return ColumnClock{true, col_version, std::move(value), std::nullopt}; }

constexpr MergeOutcome kNothing{};
constexpr MergeOutcome kWin{RowAction::kNone, false, true};
constexpr MergeOutcome kCreate{RowAction::kCreate, false, true};
constexpr MergeOutcome kResurrectAndWin{RowAction::kResurrect, true, true};
constexpr MergeOutcome kResurrect{RowAction::kResurrect, true, false};
constexpr MergeOutcome kDelete{RowAction::kDelete, true, false};

class MergeRulesTest : public ::testing::TestWithParam<MergeCase> {};

TEST_P(MergeRulesTest, MatchesCrSqlite) {
  const MergeCase& c = GetParam();
  const MergeOutcome got = MergeChange(c.row, c.column, Incoming(c));
  EXPECT_EQ(got.row, c.expected.row) << c.what;
  EXPECT_EQ(got.write_sentinel, c.expected.write_sentinel) << c.what;
  EXPECT_EQ(got.write_column, c.expected.write_column) << c.what;
}

const RowClock kUnknown{0, false};
const RowClock kLive{1, false};       // inserted, no sentinel recorded
const RowClock kLive3{3, true};       // resurrected once
const RowClock kDeleted2{2, true};

INSTANTIATE_TEST_SUITE_P(
    Table, MergeRulesTest,
    ::testing::Values(
        MergeCase{"column change for an unknown row creates it without a sentinel", kUnknown, {}, "a", 1, 3,
                  Value::Text("hello"), kCreate},
        MergeCase{"delete of an unknown row records the sentinel", kUnknown, {}, "-1", 2, 2, Value::Null(), kDelete},
        MergeCase{"sentinel for an unknown row creates it", kUnknown, {}, "-1", 1, 1, Value::Null(), kResurrect},
        MergeCase{"column change with cl 3 for an unknown row resurrects with a sentinel", kUnknown, {}, "b", 3, 1,
                  Value::Text("bb"), kResurrectAndWin},
        MergeCase{"column change with a higher cl resurrects a live row", kLive, Column(3, Value::Text("x")), "b", 3, 1,
                  Value::Text("bee"), kResurrectAndWin},
        MergeCase{"column change with a higher cl resurrects a deleted row", kDeleted2, {}, "a", 3, 1, Value::Null(),
                  kResurrectAndWin},
        MergeCase{"sentinel with a higher odd cl resurrects", kDeleted2, {}, "-1", 3, 3, Value::Null(), kResurrect},
        MergeCase{"sentinel with an equal cl does nothing", kLive3, {}, "-1", 3, 3, Value::Null(), kNothing},
        MergeCase{"delete with a higher cl deletes a live row", kLive, Column(4, Value::Text("x")), "-1", 2, 2,
                  Value::Null(), kDelete},
        MergeCase{"delete with an equal cl does nothing", kDeleted2, {}, "-1", 2, 2, Value::Null(), kNothing},
        MergeCase{"column change with a lower cl is ignored", kLive3, Column(0, Value::Text("p")), "a", 1, 9,
                  Value::Text("older"), kNothing},
        MergeCase{"column change with an even cl deletes", kLive, Column(1, Value::Text("q")), "a", 2, 9,
                  Value::Text("evencl"), kDelete},
        MergeCase{"higher col_version wins", kLive3, Column(0, Value::Text("hello")), "a", 3, 3, Value::Integer(5),
                  kWin},
        MergeCase{"lower col_version loses", kLive, Column(4, Value::Text("x4")), "a", 1, 3, Value::Text("zzz"),
                  kNothing},
        MergeCase{"column without a clock takes the change", kLive3, {}, "a", 3, 1, Value::Text("x"), kWin},
        MergeCase{"tie: float beats text", kLive, Column(1, Value::Text("m")), "a", 1, 1, Value::Float(9.5), kWin},
        MergeCase{"tie: integer beats float", kLive, Column(1, Value::Float(9.5)), "a", 1, 1, Value::Integer(9), kWin},
        MergeCase{"tie: equal values change nothing", kLive, Column(1, Value::Text("r")), "a", 1, 1, Value::Text("r"),
                  kNothing},
        MergeCase{"tie: NULL loses to text", kLive, Column(1, Value::Text("r")), "a", 1, 1, Value::Null(), kNothing},
        MergeCase{"tie: blob loses to text", kLive, Column(1, Value::Text("r")), "a", 1, 1,
                  Value::BlobValue({0xff}), kNothing},
        MergeCase{"tie: greater text wins", kLive, Column(1, Value::Text("r")), "a", 1, 1, Value::Text("s"), kWin},
        MergeCase{"tie: smaller integer loses", kLive, Column(2, Value::Integer(10)), "a", 1, 2, Value::Integer(9),
                  kNothing}));

}  // namespace
}  // namespace crbridge
