#include "crbridge/server/mysql/mysql_url.h"

#include <gtest/gtest.h>

namespace crbridge {
using namespace crbridge::mysql;  // the dialect under test
namespace {

TEST(MysqlUrlTest, ParsesAllParts) {
  MysqlUrl url;
  ASSERT_TRUE(ParseMysqlUrl("mysql://app:s%40cret%3A@db.example:3307/shop", &url).ok());
  EXPECT_EQ(url.user, "app");
  EXPECT_EQ(url.password, "s@cret:");
  EXPECT_EQ(url.host, "db.example");
  EXPECT_EQ(url.port, 3307);
  EXPECT_EQ(url.database, "shop");
}

TEST(MysqlUrlTest, DefaultsPortAndAllowsNoDatabaseOrPassword) {
  MysqlUrl url;
  ASSERT_TRUE(ParseMysqlUrl("mysql://root@127.0.0.1/", &url).ok());
  EXPECT_EQ(url.user, "root");
  EXPECT_EQ(url.password, "");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 3306);
  EXPECT_EQ(url.database, "");
}

TEST(MysqlUrlTest, BracketedIpv6Host) {
  MysqlUrl url;
  ASSERT_TRUE(ParseMysqlUrl("mysql://u:p@[::1]:3310/db", &url).ok());
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 3310);
}

TEST(MysqlUrlTest, RejectsMalformedUrlsWithoutEchoingThePassword) {
  MysqlUrl url;
  for (const char* bad : {"postgresql://a@b/c", "mysql://u:p@/db", "mysql://u:p@h:0/db", "mysql://u:p@h:99999/db",
                          "mysql://u:p@h:12x/db", "mysql://u:%zz@h/db", "mysql://u:p%4@h/db", "mysql://u:p@[::1/db",
                          "mysql://u:p@h/db?x=1"}) {
    const Status s = ParseMysqlUrl(bad, &url);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_EQ(s.message().find("%zz"), std::string::npos);
  }
}

}  // namespace
}  // namespace crbridge
