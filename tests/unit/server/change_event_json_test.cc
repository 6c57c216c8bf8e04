// The columns of a change event (change_event_json.h) carry values as
// clients get them; JSON has no infinities, so they are strings as the
// server prints them, and NaN arrives as the text clients hold.
#include "crbridge/server/core/change_event_json.h"

#include <gtest/gtest.h>

#include <cmath>

namespace crbridge {
namespace {

TEST(ChangeEventJsonTest, InfinitiesAndNanAreStringsAsTheServerPrintsThem) {
  TableMapping mapping;
  mapping.name = "readings";
  ResolvedTable t{&mapping, {}, 1, std::nullopt, std::nullopt};
  for (const char* name : {"id", "a", "b", "c", "d"}) {
    ResolvedColumn& column = t.columns.emplace_back();
    column.name = name;
    column.server.name = name;
  }
  const std::vector<Value> key = {Value::Integer(1)};
  ClockRow before(4), after(4);
  after.cl = 1;
  for (auto& version : after.versions) version = 1;
  const std::vector<Value> values = {Value::Float(INFINITY), Value::Float(-INFINITY), Value::Text("NaN"),
                                     Value::Float(1.5)};
  const LoggedChange change{&key, &before, &after, {&values[0], &values[1], &values[2], &values[3]}, 0, 0, 0};
  const ChangeEventJson event = ChangeEventFields(t, change);
  EXPECT_EQ(event.columns,
            "{\"a\":{\"col_version\":1,\"site\":0,\"value\":\"Infinity\"},"
            "\"b\":{\"col_version\":1,\"site\":0,\"value\":\"-Infinity\"},"
            "\"c\":{\"col_version\":1,\"site\":0,\"value\":\"NaN\"},"
            "\"d\":{\"col_version\":1,\"site\":0,\"value\":1.5}}");
}

// A row back from the dead whose column sits at the clock it had before
// the delete (a client's new life wrote it at version 1 again): the `c`
// event still carries it, as consumers start the row afresh.
TEST(ChangeEventJsonTest, ARowBackFromTheDeadCarriesEveryColumn) {
  TableMapping mapping;
  mapping.name = "todos";
  ResolvedTable t{&mapping, {}, 1, std::nullopt, std::nullopt};
  for (const char* name : {"id", "list_id", "title"}) {
    ResolvedColumn& column = t.columns.emplace_back();
    column.name = name;
    column.server.name = name;
  }
  const std::vector<Value> key = {Value::Text("t1")};
  ClockRow before(2), after(2);
  before.stored = true;
  before.cl = 2;
  before.versions = {1, 1};
  before.sites = {3, 3};
  after.cl = 3;
  after.versions = {1, 2};
  after.sites = {3, 3};
  const std::vector<Value> values = {Value::Text("l1"), Value::Text("milk")};
  const LoggedChange change{&key, &before, &after, {&values[0], &values[1]}, 0, 0, 0};
  const ChangeEventJson event = ChangeEventFields(t, change);
  EXPECT_EQ(event.op, 'c');
  EXPECT_EQ(event.columns,
            "{\"list_id\":{\"col_version\":1,\"site\":3,\"value\":\"l1\"},"
            "\"title\":{\"col_version\":2,\"site\":3,\"value\":\"milk\"}}");
}

}  // namespace
}  // namespace crbridge
