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

}  // namespace
}  // namespace crbridge
