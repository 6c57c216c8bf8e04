// FormatEvent: the line `crbridge tail` prints for each change event of
// docs/kafka.md, and what it does with values that are not well-formed events.
#include "crbridge/connector/kafka/event_printer.h"

#include <gtest/gtest.h>

#include <string>

namespace crbridge {
namespace {

struct Formatted {
  Status status;
  std::string line;
};

Formatted Format(std::string_view value) {
  Formatted out;
  out.status = FormatEvent(value, &out.line);
  return out;
}

// docs/kafka.md's example event.
constexpr std::string_view kUpdate = R"({
  "op": "u", "table": "todos", "source_table": "public.todos", "key": {"id": "t1"},
  "columns": {
    "title": {"value": "oat milk", "col_version": 3, "site_id": "9f1c"},
    "done": {"value": 1, "col_version": 2, "site_id": "0a4b"}
  },
  "crr": {"db_version": 42, "seq": 0, "cl": 1, "pk": "010b027431", "site_id": "0a4b"},
  "source": {"connector": "crbridge", "origin": "app", "lsn": "0/16B3748", "client_site_id": null, "ts_ms": 1764547200123},
  "ts_ms": 1764547200140
})";

std::string Event(const std::string& op, const std::string& key, const std::string& columns,
                  const std::string& source = R"({"origin": "app", "lsn": "0/10", "client_site_id": null})") {
  return R"({"op": ")" + op + R"(", "table": "todos", "key": )" + key + R"(, "columns": )" + columns +
         R"(, "crr": {"db_version": 7, "seq": 1, "cl": 1, "pk": "01", "site_id": "aa"}, "source": )" + source + "}";
}

TEST(EventPrinterTest, AnUpdateShowsTableKeyVersionChangedColumnsAndItsSourcePosition) {
  const Formatted f = Format(kUpdate);
  EXPECT_TRUE(f.status.ok()) << f.status.ToString();
  EXPECT_EQ(f.line, "todos 't1' update v42 title='oat milk'(cv3) done=1(cv2)  [app 0/16B3748]");
}

TEST(EventPrinterTest, InsertsDeletesAndClientWrites) {
  EXPECT_EQ(Format(Event("c", R"({"id": 5})", R"({"title": {"value": "x", "col_version": 1}})")).line,
            "todos 5 insert v7 title='x'(cv1)  [app 0/10]");
  const Formatted deleted =
      Format(Event("d", R"({"id": 5})", "{}", R"({"origin": "client", "lsn": null, "client_site_id": "0a4b77"})"));
  EXPECT_TRUE(deleted.status.ok()) << deleted.status.ToString();
  EXPECT_EQ(deleted.line, "todos 5 delete v7  [client 0a4b77]");
}

TEST(EventPrinterTest, ValuesReadAsInSql) {
  const Formatted f = Format(Event("u", R"({"id": "it's"})", R"({
      "a": {"value": null, "col_version": 1},
      "b": {"value": -2.5, "col_version": 1},
      "c": {"value": "two\nlines\\ and 'quotes'\u0001", "col_version": 1},
      "d": {"value": {"base64": "AAEC/w=="}, "col_version": 1},
      "e": {"value": {"base64": ""}, "col_version": 1},
      "f": {"value": 9007199254740993, "col_version": 1},
      "g": {"value": "caf\u00e9", "col_version": 1}})"));
  EXPECT_TRUE(f.status.ok()) << f.status.ToString();
  EXPECT_EQ(f.line,
            "todos 'it''s' update v7 a=NULL(cv1) b=-2.5(cv1) c='two\\nlines\\\\ and ''quotes''\\x01'(cv1) "
            "d=x'000102ff'(cv1) e=x''(cv1) f=9007199254740993(cv1) g='caf\u00e9'(cv1)  [app 0/10]");
}

TEST(EventPrinterTest, LongTextAndBlobsAreCutAndTheirSizeShown) {
  const std::string text(300, 'a');
  const std::string blob_base64(400, 'A');  // 300 zero bytes
  const Formatted f = Format(Event("u", R"({"id": 1})", R"({"t": {"value": ")" + text + R"(", "col_version": 1},
      "b": {"value": {"base64": ")" + blob_base64 + R"("}, "col_version": 1}})"));
  EXPECT_TRUE(f.status.ok()) << f.status.ToString();
  EXPECT_EQ(f.line, "todos 1 update v7 t='" + std::string(200, 'a') + "...'(300 bytes)(cv1) b=x'" +
                        std::string(64, '0') + "...'(300 bytes)(cv1)  [app 0/10]");
}

TEST(EventPrinterTest, ACompositeKeyNamesItsColumns) {
  EXPECT_EQ(Format(Event("u", R"({"list_id": 3, "id": "t1"})", R"({})")).line,
            "todos (list_id=3,id='t1') update v7  [app 0/10]");
}

TEST(EventPrinterTest, AValueThatIsNotJsonIsPrintedRawWithAWarning) {
  const Formatted f = Format("hello\x01\xff world");
  EXPECT_EQ(f.status.code(), Status::Code::kCorruption);
  EXPECT_EQ(f.status.message(), "not JSON");
  EXPECT_EQ(f.line, "hello\\x01\\xff world");

  const Formatted number = Format("42");
  EXPECT_EQ(number.status.message(), "not a JSON object");
  EXPECT_EQ(number.line, "42");

  const Formatted empty = Format("");
  EXPECT_EQ(empty.status.code(), Status::Code::kCorruption);
  EXPECT_EQ(empty.line, "");

  const Formatted huge = Format(std::string(5000, '{'));
  EXPECT_EQ(huge.line, std::string(1000, '{') + "...(5000 bytes)");
}

TEST(EventPrinterTest, AnEventWithOddFieldsPrintsWhatItCanAndSaysWhatIsWrong) {
  const Formatted f = Format(Event("x", R"({"id": [1]})", R"({
      "a": {"value": [1, 2], "col_version": 1},
      "b": {"value": {"base64": "!!"}, "col_version": 1},
      "c": {"value": true, "col_version": "one"},
      "d": 5})",
                                   R"({"origin": "client"})"));
  EXPECT_EQ(f.status.code(), Status::Code::kCorruption);
  EXPECT_EQ(f.status.message(),
            "key id: not a value (array); op is not c, u or d; column a: not a value (array); "
            "column b: blob is not base64; column c: not a value (boolean); column c: no col_version; "
            "column d: no value; no source.client_site_id");
  EXPECT_EQ(f.line, R"(todos [1] x v7 a=[1,2](cv1) b={"base64":"!!"}(cv1) c=true d=5  [client])");

  const Formatted bare = Format(R"({"op": "d"})");
  EXPECT_EQ(bare.status.message(), "no table; no key; no crr.db_version; no columns; no source.origin");
  EXPECT_EQ(bare.line, "? ? delete v?  [?]");
}

}  // namespace
}  // namespace crbridge
