// Every mapped type through the real servers: a client value is converted
// for the server (ToServerParameter), written, read back in text form and
// converted to its canonical SQLite value (FromServerText). Writing the
// canonical value again must give the same value back. And what the
// mapping refuses from clients, the real server refuses too.
#include <cppconn/connection.h>
#include <cppconn/driver.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>
#include <mysql_driver.h>

#include <pqxx/pqxx>

#include <cmath>

#include "crbridge/mappings/type_mapping.h"
#include "crbridge/server/mysql/mysql_url.h"
#include "databases/test_databases.h"

namespace crbridge::testing {
using namespace crbridge::mysql;  // the dialect under test
namespace {

struct RoundTrip {
  const char* column;
  const char* type;  // as the catalog names it
  Value client;
  Value canonical;
};

ColumnType TypeOf(SourceType source, const char* type) {
  ColumnType out;
  EXPECT_TRUE(ClassifyColumn(source, ServerColumn{"c", type, false, false, false, 0, ""}, &out).ok()) << type;
  return out;
}

class PostgresRoundTrip {
 public:
  PostgresRoundTrip() : conn_(TestDatabases::Get().NewPostgresDatabase()) {
    pqxx::nontransaction db(conn_);
    // The session settings crbridge's connections use (type_mapping.h).
    db.exec0("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; "
             "SET bytea_output = 'hex'; SET IntervalStyle = 'postgres'");
    db.exec0("CREATE EXTENSION citext");
    db.exec0("CREATE TYPE mood AS ENUM ('sad', 'happy')");
    db.exec0(
        "CREATE TABLE types (id int PRIMARY KEY, c_smallint smallint, c_integer integer, c_bigint bigint, "
        "c_boolean boolean, c_real real, c_double double precision, c_numeric numeric(10,2), c_text text, "
        "c_varchar varchar(20), c_char char(3), c_citext citext, c_bytea bytea, c_uuid uuid, c_date date, "
        "c_ts timestamp(6), c_tstz timestamptz, c_time time, c_interval interval, c_json json, c_jsonb jsonb, "
        "c_array integer[], c_enum mood)");
    db.exec0("INSERT INTO types (id) VALUES (1)");
  }

  Value Write(const RoundTrip& c, const Value& value) {
    const ColumnType type = TypeOf(SourceType::kPostgres, c.type);
    ServerParameter parameter;
    const Status s = ToServerParameter(SourceType::kPostgres, type, value, c.column, &parameter);
    EXPECT_TRUE(s.ok()) << s.ToString();
    pqxx::nontransaction db(conn_);
    const std::string cast = std::string(c.column) == "c_enum" ? "mood" : c.type;
    if (parameter.is_null) {
      db.exec0(std::string("UPDATE types SET ") + c.column + " = NULL WHERE id = 1");
    } else {
      db.exec_params0(std::string("UPDATE types SET ") + c.column + " = $1::" + cast + " WHERE id = 1", parameter.text);
    }
    const pqxx::row row = db.exec1(std::string("SELECT ") + c.column + " FROM types WHERE id = 1");
    Value read;
    if (row[0].is_null()) return Value::Null();
    const Status r = FromServerText(type, row[0].c_str(), &read);
    EXPECT_TRUE(r.ok()) << c.column << ": " << r.ToString();
    return read;
  }

  // Whether Postgres stores `text` in `column` (assigned, as an app would).
  bool ServerTakes(const std::string& column, const std::string& text) {
    try {
      pqxx::nontransaction(conn_).exec_params0("UPDATE types SET " + column + " = $1 WHERE id = 1", text);
      return true;
    } catch (const pqxx::data_exception&) {
      return false;
    }
  }

 private:
  pqxx::connection conn_;
};

TEST(TypeRoundTripTest, EveryTypeThroughRealPostgres) {
  PostgresRoundTrip pg;
  const RoundTrip cases[] = {
      {"c_smallint", "smallint", Value::Integer(-32768), Value::Integer(-32768)},
      {"c_integer", "integer", Value::Float(42.0), Value::Integer(42)},
      {"c_bigint", "bigint", Value::Integer(INT64_MAX), Value::Integer(INT64_MAX)},
      {"c_boolean", "boolean", Value::Integer(1), Value::Integer(1)},
      {"c_boolean", "boolean", Value::Float(0.0), Value::Integer(0)},
      {"c_real", "real", Value::Float(1.5), Value::Float(1.5)},
      {"c_double", "double precision", Value::Float(0.1), Value::Float(0.1)},
      {"c_double", "double precision", Value::Integer(3), Value::Float(3.0)},
      {"c_numeric", "numeric(10,2)", Value::Text("12.5"), Value::Text("12.50")},
      {"c_text", "text", Value::Text("h\xc3\xa9llo \xf0\x9f\x8e\x89"), Value::Text("h\xc3\xa9llo \xf0\x9f\x8e\x89")},
      {"c_varchar", "character varying(20)", Value::Text("abc"), Value::Text("abc")},
      {"c_char", "character(3)", Value::Text("ab"), Value::Text("ab ")},
      {"c_citext", "citext", Value::Text("MiXeD"), Value::Text("MiXeD")},
      {"c_bytea", "bytea", Value::BlobValue({0x00, 0xff, 0x10}), Value::BlobValue({0x00, 0xff, 0x10})},
      {"c_bytea", "bytea", Value::BlobValue({}), Value::BlobValue({})},
      {"c_uuid", "uuid", Value::Text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
       Value::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")},
      {"c_date", "date", Value::Text("2024-02-29"), Value::Text("2024-02-29")},
      {"c_ts", "timestamp(6) without time zone", Value::Text("2024-01-02T03:04:05.5"),
       Value::Text("2024-01-02T03:04:05.5")},
      {"c_tstz", "timestamp with time zone", Value::Text("2024-01-02T05:04:05.25+02:00"),
       Value::Text("2024-01-02T03:04:05.25Z")},
      {"c_time", "time without time zone", Value::Text("13:14:15"), Value::Text("13:14:15")},
      {"c_interval", "interval", Value::Text("1 day 2 hours"), Value::Text("1 day 02:00:00")},
      {"c_json", "json", Value::Text("{\"b\":1,  \"a\":2}"), Value::Text("{\"b\":1,  \"a\":2}")},
      {"c_jsonb", "jsonb", Value::Text("{\"b\":1,  \"a\":2}"), Value::Text("{\"a\": 2, \"b\": 1}")},
      {"c_array", "integer[]", Value::Text("{1,2,3}"), Value::Text("{1,2,3}")},
      {"c_enum", "mood", Value::Text("happy"), Value::Text("happy")},
      {"c_text", "text", Value::Null(), Value::Null()},
      // NaN travels as text (SQLite has no REAL NaN), the infinities as REAL.
      {"c_double", "double precision", Value::Float(NAN), Value::Text("NaN")},
      {"c_double", "double precision", Value::Text("NaN"), Value::Text("NaN")},
      {"c_double", "double precision", Value::Float(INFINITY), Value::Float(INFINITY)},
      {"c_real", "real", Value::Text("-Infinity"), Value::Float(-INFINITY)},
      {"c_numeric", "numeric(10,2)", Value::Float(NAN), Value::Text("NaN")},
      // Dates the ISO forms cannot say keep the server's words.
      {"c_date", "date", Value::Text("infinity"), Value::Text("infinity")},
      {"c_date", "date", Value::Text("-infinity"), Value::Text("-infinity")},
      {"c_date", "date", Value::Text("0044-03-15 BC"), Value::Text("0044-03-15 BC")},
      {"c_date", "date", Value::Text("10000-01-01"), Value::Text("10000-01-01")},
      {"c_ts", "timestamp(6) without time zone", Value::Text("infinity"), Value::Text("infinity")},
      {"c_ts", "timestamp(6) without time zone", Value::Text("0044-03-15T12:00:00 BC"),
       Value::Text("0044-03-15T12:00:00 BC")},
      {"c_ts", "timestamp(6) without time zone", Value::Text("10000-01-01T00:00:00"), Value::Text("10000-01-01T00:00:00")},
      {"c_tstz", "timestamp with time zone", Value::Text("-infinity"), Value::Text("-infinity")},
      {"c_tstz", "timestamp with time zone", Value::Text("0001-01-01T00:30:00+01:00"),
       Value::Text("0001-12-31T23:30:00Z BC")},
      {"c_tstz", "timestamp with time zone", Value::Text("10000-01-01T01:00:00+01:00"),
       Value::Text("10000-01-01T00:00:00Z")},
      {"c_time", "time without time zone", Value::Text("24:00:00"), Value::Text("24:00:00")},
  };
  for (const RoundTrip& c : cases) {
    const Value first = pg.Write(c, c.client);
    EXPECT_EQ(first, c.canonical) << c.column << ": " << c.client.ToSql() << " came back as " << first.ToSql();
    const Value second = pg.Write(c, first);
    EXPECT_EQ(second, first) << c.column << ": the canonical value " << first.ToSql() << " is not stable";
  }
}

struct Refused {
  const char* column;
  const char* type;  // as the catalog names it
  const char* text;
};

// Each text of `cases` is refused by the type mapping, and by the server
// of `source` (through `db`, a PostgresRoundTrip or MariaDbRoundTrip): the
// mapping's checks say the server's rules, no stricter.
template <typename RoundTripDatabase, size_t N>
void ExpectTheServerRefusesToo(SourceType source, RoundTripDatabase& db, const Refused (&cases)[N]) {
  for (const Refused& c : cases) {
    ServerParameter parameter;
    const Status s = ToServerParameter(source, TypeOf(source, c.type), Value::Text(c.text), c.column, &parameter);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << c.column << " " << c.text;
    EXPECT_FALSE(db.ServerTakes(c.column, c.text)) << c.column << " " << c.text << ": refused, yet the server takes it";
  }
}

TEST(TypeRoundTripTest, WhatClientsAreRefusedPostgresRefusesToo) {
  PostgresRoundTrip pg;
  const Refused cases[] = {
      {"c_date", "date", "2023-02-29"},
      {"c_date", "date", "0000-01-01"},
      {"c_date", "date", "2024-13-01"},
      {"c_ts", "timestamp(6) without time zone", "2024-04-31 00:00:00"},
      {"c_numeric", "numeric(10,2)", "123456789"},
      {"c_numeric", "numeric(10,2)", "99999999.995"},
      {"c_numeric", "numeric(10,2)", "Infinity"},
      {"c_varchar", "character varying(20)", "twenty-one characters"},
      {"c_char", "character(3)", "four"},
      {"c_time", "time without time zone", "25:00:00"},
      {"c_jsonb", "jsonb", "{\"a\":"},
      {"c_uuid", "uuid", "not-a-uuid"},
  };
  ExpectTheServerRefusesToo(SourceType::kPostgres, pg, cases);
}

class MariaDbRoundTrip {
 public:
  MariaDbRoundTrip() {
    MysqlUrl url;
    EXPECT_TRUE(ParseMysqlUrl(TestDatabases::Get().NewMariaDbDatabase(), &url).ok());
    conn_.reset(sql::mysql::get_driver_instance()->connect("tcp://" + url.host + ":" + std::to_string(url.port),
                                                           url.user, url.password));
    conn_->setSchema(url.database);
    std::unique_ptr<sql::Statement> statement(conn_->createStatement());
    statement->execute("SET time_zone = '+00:00'");
    statement->execute(
        "CREATE TABLE types (id INT PRIMARY KEY, c_tinyint TINYINT, c_bool TINYINT(1), c_smallint_u SMALLINT UNSIGNED, "
        "c_mediumint MEDIUMINT, c_int INT, c_bigint_u BIGINT UNSIGNED, c_year YEAR, c_float FLOAT, c_double DOUBLE, "
        "c_decimal DECIMAL(10,2), c_char CHAR(3), c_varchar VARCHAR(20), c_text TEXT, c_enum ENUM('open','done'), "
        "c_set SET('x','y'), c_binary BINARY(2), c_varbinary VARBINARY(8), c_blob BLOB, c_uuid UUID, c_date DATE, "
        "c_datetime DATETIME(6), c_timestamp TIMESTAMP(6) NULL, c_time TIME, c_json JSON)");
    statement->execute("INSERT INTO types (id) VALUES (1)");
  }

  Value Write(const RoundTrip& c, const Value& value) {
    const ColumnType type = TypeOf(SourceType::kMysql, c.type);
    ServerParameter parameter;
    const Status s = ToServerParameter(SourceType::kMysql, type, value, c.column, &parameter);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::unique_ptr<sql::PreparedStatement> update(
        conn_->prepareStatement(std::string("UPDATE types SET ") + c.column + " = ? WHERE id = 1"));
    if (parameter.is_null) {
      update->setNull(1, 0);
    } else {
      update->setString(1, sql::SQLString(parameter.text));
    }
    update->executeUpdate();
    // The text protocol, as capture's snapshot and tests read it.
    std::unique_ptr<sql::Statement> select(conn_->createStatement());
    std::unique_ptr<sql::ResultSet> row(select->executeQuery(std::string("SELECT ") + c.column + " FROM types WHERE id = 1"));
    row->next();
    const std::string text = row->getString(1);
    if (row->wasNull()) return Value::Null();
    Value read;
    const Status r = FromServerText(type, text, &read);
    EXPECT_TRUE(r.ok()) << c.column << ": " << r.ToString();
    return read;
  }

  // Whether MariaDB (in crbridge's strict mode) stores `text` in `column`.
  bool ServerTakes(const std::string& column, const std::string& text) {
    std::unique_ptr<sql::PreparedStatement> update(
        conn_->prepareStatement("UPDATE types SET " + column + " = ? WHERE id = 1"));
    update->setString(1, sql::SQLString(text));
    try {
      update->executeUpdate();
      return true;
    } catch (const sql::SQLException&) {
      return false;
    }
  }

 private:
  std::unique_ptr<sql::Connection> conn_;
};

TEST(TypeRoundTripTest, EveryTypeThroughRealMariaDb) {
  MariaDbRoundTrip my;
  const RoundTrip cases[] = {
      {"c_tinyint", "tinyint(4)", Value::Integer(-128), Value::Integer(-128)},
      {"c_bool", "tinyint(1)", Value::Float(1.0), Value::Integer(1)},
      {"c_smallint_u", "smallint(5) unsigned", Value::Integer(65535), Value::Integer(65535)},
      {"c_mediumint", "mediumint(9)", Value::Integer(-8388608), Value::Integer(-8388608)},
      {"c_int", "int(11)", Value::Integer(2147483647), Value::Integer(2147483647)},
      {"c_bigint_u", "bigint(20) unsigned", Value::Integer(INT64_MAX), Value::Integer(INT64_MAX)},
      {"c_year", "year(4)", Value::Integer(2024), Value::Integer(2024)},
      {"c_float", "float", Value::Float(1.5), Value::Float(1.5)},
      {"c_double", "double", Value::Float(0.1), Value::Float(0.1)},
      {"c_decimal", "decimal(10,2)", Value::Text("12.5"), Value::Text("12.50")},
      {"c_char", "char(3)", Value::Text("ab"), Value::Text("ab")},
      {"c_varchar", "varchar(20)", Value::Text("h\xc3\xa9llo"), Value::Text("h\xc3\xa9llo")},
      {"c_text", "text", Value::Text("some text"), Value::Text("some text")},
      {"c_enum", "enum('open','done')", Value::Text("done"), Value::Text("done")},
      {"c_set", "set('x','y')", Value::Text("y,x"), Value::Text("x,y")},
      {"c_binary", "binary(2)", Value::BlobValue({0x01}), Value::BlobValue({0x01, 0x00})},
      {"c_varbinary", "varbinary(8)", Value::BlobValue({0x00, 0xff}), Value::BlobValue({0x00, 0xff})},
      {"c_blob", "blob", Value::BlobValue({0x10, 0x00, 0x20}), Value::BlobValue({0x10, 0x00, 0x20})},
      {"c_uuid", "uuid", Value::Text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
       Value::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")},
      {"c_date", "date", Value::Text("2024-02-29"), Value::Text("2024-02-29")},
      {"c_datetime", "datetime(6)", Value::Text("2024-01-02T03:04:05.5"), Value::Text("2024-01-02T03:04:05.500000")},
      {"c_timestamp", "timestamp(6)", Value::Text("2024-01-02T05:04:05+02:00"),
       Value::Text("2024-01-02T03:04:05.000000Z")},
      {"c_time", "time", Value::Text("-01:02:03"), Value::Text("-01:02:03")},
      {"c_json", "longtext", Value::Text("{\"b\":1,  \"a\":2}"), Value::Text("{\"b\":1,  \"a\":2}")},
      {"c_text", "text", Value::Null(), Value::Null()},
      // Zero dates, as MariaDB prints them.
      {"c_date", "date", Value::Text("0000-00-00"), Value::Text("0000-00-00")},
      {"c_date", "date", Value::Text("2024-00-15"), Value::Text("2024-00-15")},
      {"c_datetime", "datetime(6)", Value::Text("0000-00-00T00:00:00"), Value::Text("0000-00-00T00:00:00.000000")},
      {"c_timestamp", "timestamp(6)", Value::Text("0000-00-00T00:00:00Z"), Value::Text("0000-00-00T00:00:00.000000Z")},
      {"c_timestamp", "timestamp(6)", Value::Text("2038-01-19T03:14:07Z"), Value::Text("2038-01-19T03:14:07.000000Z")},
      {"c_time", "time", Value::Text("-838:59:59"), Value::Text("-838:59:59")},
  };
  for (const RoundTrip& c : cases) {
    const Value first = my.Write(c, c.client);
    EXPECT_EQ(first, c.canonical) << c.column << ": " << c.client.ToSql() << " came back as " << first.ToSql();
    const Value second = my.Write(c, first);
    EXPECT_EQ(second, first) << c.column << ": the canonical value " << first.ToSql() << " is not stable";
  }
}

TEST(TypeRoundTripTest, WhatClientsAreRefusedMariaDbRefusesToo) {
  MariaDbRoundTrip my;
  const Refused cases[] = {
      {"c_date", "date", "2023-02-29"},
      {"c_date", "date", "10000-01-01"},
      {"c_datetime", "datetime(6)", "2024-04-31 00:00:00"},
      {"c_timestamp", "timestamp(6)", "1969-12-31 23:59:59"},
      {"c_timestamp", "timestamp(6)", "2038-01-19 03:14:08"},
      {"c_decimal", "decimal(10,2)", "123456789"},
      {"c_varchar", "varchar(20)", "twenty-one characters"},
      {"c_time", "time", "839:00:00"},
      {"c_double", "double", "NaN"},
      {"c_float", "float", "Infinity"},
  };
  ExpectTheServerRefusesToo(SourceType::kMysql, my, cases);
}

}  // namespace
}  // namespace crbridge::testing
