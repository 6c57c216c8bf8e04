#include "env_expansion.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace crbridge {
namespace {

class EnvExpansionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("CRBRIDGE_TEST_SET", "value", 1);
    setenv("CRBRIDGE_TEST_EMPTY", "", 1);
    unsetenv("CRBRIDGE_TEST_UNSET");
  }
};

TEST_F(EnvExpansionTest, ReplacesReferences) {
  std::string out;
  ASSERT_TRUE(ExpandEnvironment("a ${CRBRIDGE_TEST_SET} b ${CRBRIDGE_TEST_SET}", &out).ok());
  EXPECT_EQ(out, "a value b value");
  ASSERT_TRUE(ExpandEnvironment("no references", &out).ok());
  EXPECT_EQ(out, "no references");
  ASSERT_TRUE(ExpandEnvironment("[${CRBRIDGE_TEST_EMPTY}]", &out).ok());
  EXPECT_EQ(out, "[]");
}

TEST_F(EnvExpansionTest, DefaultsApplyWhenUnsetOrEmpty) {
  std::string out;
  ASSERT_TRUE(ExpandEnvironment("${CRBRIDGE_TEST_UNSET:-127.0.0.1:8080}", &out).ok());
  EXPECT_EQ(out, "127.0.0.1:8080");
  ASSERT_TRUE(ExpandEnvironment("${CRBRIDGE_TEST_EMPTY:-fallback}", &out).ok());
  EXPECT_EQ(out, "fallback");
  ASSERT_TRUE(ExpandEnvironment("${CRBRIDGE_TEST_SET:-fallback}", &out).ok());
  EXPECT_EQ(out, "value");
}

TEST_F(EnvExpansionTest, DollarDollarIsALiteral) {
  std::string out;
  ASSERT_TRUE(ExpandEnvironment("price $5 and $${CRBRIDGE_TEST_SET}", &out).ok());
  EXPECT_EQ(out, "price $5 and ${CRBRIDGE_TEST_SET}");
}

TEST_F(EnvExpansionTest, UnsetAndUnterminatedAreErrors) {
  std::string out = "unchanged";
  Status s = ExpandEnvironment("x ${CRBRIDGE_TEST_UNSET} y", &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("CRBRIDGE_TEST_UNSET"), std::string::npos);
  EXPECT_EQ(out, "unchanged");
  s = ExpandEnvironment("x ${CRBRIDGE_TEST_SET", &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ExpandEnvironment("${}", &out).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace crbridge
