// Who may open a sync connection (connector/sync: sync_auth.h): the vlcn
// subprotocol, and JWT checks with tokens made by libjwt.
#include "crbridge/connector/sync/sync_auth.h"

#include <gtest/gtest.h>
#include <jwt.h>

#include <chrono>
#include <cstdlib>

#include "jwt_token.h"

namespace crbridge {
namespace {

constexpr int64_t kNow = 1800000000;  // Unix seconds
const std::chrono::system_clock::time_point kNowTime{std::chrono::seconds(kNow)};


std::string Token(const std::string& key, jwt_alg_t alg, const char* rooms_json, std::optional<int64_t> exp) {
  return testing::JwtToken(key, alg, rooms_json, exp);
}

TEST(SubprotocolTest, ReadsRoomAndToken) {
  SyncRequest request;
  ASSERT_TRUE(ParseSubprotocol(EncodeSubprotocol({"list-1", "a.b-c_d"}), &request).ok());
  EXPECT_EQ(request.room, "list-1");
  EXPECT_EQ(request.token, "a.b-c_d");
  // What ws-client sends: btoa("room=r") without padding.
  EXPECT_EQ(EncodeSubprotocol({"r", std::nullopt}), "cm9vbT1y");
  ASSERT_TRUE(ParseSubprotocol("cm9vbT1y", &request).ok());
  EXPECT_EQ(request.room, "r");
  EXPECT_FALSE(request.token.has_value());
}

TEST(SubprotocolTest, RefusesWhatIsNotOne) {
  SyncRequest request;
  // Not base64; base64 of "auth=x", "room=", "room=r,user=me" and "room"; a lone sextet.
  for (const std::string bad : {"not base64!", "YXV0aD14", "cm9vbT0", "cm9vbT1yLHVzZXI9bWU", "cm9vbQ", "A"}) {
    EXPECT_EQ(ParseSubprotocol(bad, &request).code(), Status::Code::kInvalidArgument) << bad;
  }
}

class JwtAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("SYNC_AUTH_TEST_KEY", "a secret of enough length", 1);
    AuthConfig config;
    config.mode = AuthMode::kJwt;
    config.jwt.secret_env = "SYNC_AUTH_TEST_KEY";
    ASSERT_TRUE(SyncAuth::Create(config, &auth_).ok());
  }

  SyncAuth::Verdict Check(const std::string& room, std::optional<std::string> token,
                          std::chrono::system_clock::time_point now = kNowTime) {
    reason_.clear();
    return auth_->Check(SyncRequest{room, std::move(token)}, now, &grant_, &reason_);
  }

  std::unique_ptr<SyncAuth> auth_;
  SyncAuth::Grant grant_;
  std::string reason_;
  const std::string key_ = "a secret of enough length";
};

TEST_F(JwtAuthTest, AValidTokenGrantsItsRoomsOnly) {
  const std::string token = Token(key_, JWT_ALG_HS256, R"({"rooms": ["l1", "l2"]})", kNow + 60);
  EXPECT_EQ(Check("l2", token), SyncAuth::Verdict::kAllowed) << reason_;
  EXPECT_EQ(Check("l3", token), SyncAuth::Verdict::kForbidden);
  EXPECT_NE(reason_.find("does not grant room \"l3\""), std::string::npos) << reason_;
  EXPECT_EQ(Check("l1", Token(key_, JWT_ALG_HS256, R"({"rooms": "l1"})", kNow + 60)), SyncAuth::Verdict::kAllowed);
}

TEST_F(JwtAuthTest, TokensThatDoNotVerifyAreUnauthenticated) {
  const char* rooms = R"({"rooms": ["l1"]})";
  EXPECT_EQ(Check("l1", std::nullopt), SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(Check("l1", Token("another key entirely", JWT_ALG_HS256, rooms, kNow + 60)),
            SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(Check("l1", Token(key_, JWT_ALG_HS256, rooms, kNow - 1)), SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(reason_, "the token has expired");
  EXPECT_EQ(Check("l1", Token(key_, JWT_ALG_HS256, rooms, std::nullopt)), SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(Check("l1", Token(key_, JWT_ALG_HS512, rooms, kNow + 60)), SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(Check("l1", Token(key_, JWT_ALG_NONE, rooms, kNow + 60)), SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(Check("l1", "garbage"), SyncAuth::Verdict::kUnauthenticated);
}

// "exp" and "nbf" are JSON numbers, fractions allowed (RFC 7519's
// NumericDate); a token is valid from nbf up to, not including, exp.
TEST_F(JwtAuthTest, ExpiryAndNotBeforeAreNumbersWithFractions) {
  using std::chrono::milliseconds;
  const auto token = [&](const std::string& times) {
    return Token(key_, JWT_ALG_HS256, (R"({"rooms": ["l1"], )" + times + "}").c_str(), std::nullopt);
  };
  const std::string fractional = token(R"("exp": 1800000060.5)");
  EXPECT_EQ(Check("l1", fractional), SyncAuth::Verdict::kAllowed) << reason_;
  EXPECT_EQ(grant_.expiry, kNowTime + milliseconds(60500)) << "the connection ends at the token's exact expiry";
  EXPECT_EQ(Check("l1", fractional, kNowTime + milliseconds(60499)), SyncAuth::Verdict::kAllowed);
  EXPECT_EQ(Check("l1", fractional, kNowTime + milliseconds(60500)), SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(reason_, "the token has expired");

  const std::string later = token(R"("exp": 1800000600, "nbf": 1800000030.5)");
  EXPECT_EQ(Check("l1", later), SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(reason_, "the token is not valid yet (nbf)");
  EXPECT_EQ(Check("l1", later, kNowTime + milliseconds(30499)), SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(Check("l1", later, kNowTime + milliseconds(30500)), SyncAuth::Verdict::kAllowed) << reason_;
  EXPECT_EQ(Check("l1", token(R"("exp": 1800000600, "nbf": 1799999999.5)")), SyncAuth::Verdict::kAllowed) << reason_;

  EXPECT_EQ(Check("l1", token(R"("exp": "1800000600")")), SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(reason_, "the token's exp is not a number of seconds");
  EXPECT_EQ(Check("l1", token(R"("exp": 1800000600, "nbf": [1])")), SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(reason_, "the token's nbf is not a number of seconds");
  // Times beyond any clock's range are taken as its ends, never overflow.
  EXPECT_EQ(Check("l1", token(R"("exp": 1e300)")), SyncAuth::Verdict::kAllowed) << reason_;
  EXPECT_EQ(Check("l1", token(R"("exp": -1e300)")), SyncAuth::Verdict::kUnauthenticated);
  EXPECT_EQ(Check("l1", token(R"("exp": 1800000600, "nbf": 1e300)")), SyncAuth::Verdict::kUnauthenticated);
}

// The subject binds the client's site id (docs/sync-server.md, "Site ids").
TEST_F(JwtAuthTest, TheGrantCarriesTheSubject) {
  EXPECT_EQ(Check("l1", Token(key_, JWT_ALG_HS256, R"({"rooms": ["l1"], "sub": "alice"})", kNow + 60)),
            SyncAuth::Verdict::kAllowed);
  EXPECT_EQ(grant_.subject, "alice");
  EXPECT_EQ(Check("l1", Token(key_, JWT_ALG_HS256, R"({"rooms": ["l1"]})", kNow + 60)), SyncAuth::Verdict::kAllowed);
  EXPECT_FALSE(grant_.subject.has_value());
}

// Rooms by membership make each user a room: `rooms_claim: sub` grants a
// token exactly the room named by its subject.
TEST(SyncAuthTest, TheSubjectAsRoomsClaimGrantsTheUsersOwnRoomOnly) {
  setenv("SYNC_AUTH_TEST_KEY", "a secret of enough length", 1);
  AuthConfig config;
  config.mode = AuthMode::kJwt;
  config.jwt.secret_env = "SYNC_AUTH_TEST_KEY";
  config.jwt.rooms_claim = "sub";
  std::unique_ptr<SyncAuth> auth;
  ASSERT_TRUE(SyncAuth::Create(config, &auth).ok());
  const std::string token = Token("a secret of enough length", JWT_ALG_HS256, R"({"sub": "alice"})", kNow + 60);
  SyncAuth::Grant grant;
  std::string reason;
  EXPECT_EQ(auth->Check(SyncRequest{"alice", token}, kNowTime, &grant, &reason), SyncAuth::Verdict::kAllowed) << reason;
  EXPECT_EQ(auth->Check(SyncRequest{"bob", token}, kNowTime, &grant, &reason), SyncAuth::Verdict::kForbidden);
  EXPECT_EQ(reason, "the token does not grant room \"bob\" (claim sub)");
  const std::string no_subject = Token("a secret of enough length", JWT_ALG_HS256, R"({"rooms": ["alice"]})", kNow + 60);
  EXPECT_EQ(auth->Check(SyncRequest{"alice", no_subject}, kNowTime, &grant, &reason), SyncAuth::Verdict::kForbidden);
}

TEST(SyncAuthTest, NoAuthAllowsEveryone) {
  std::unique_ptr<SyncAuth> auth;
  ASSERT_TRUE(SyncAuth::Create(AuthConfig{}, &auth).ok());
  std::string reason;
  SyncAuth::Grant grant;
  EXPECT_EQ(auth->Check(SyncRequest{"any", std::nullopt}, kNowTime, &grant, &reason), SyncAuth::Verdict::kAllowed);
  EXPECT_FALSE(grant.expiry.has_value()) << "a connection without a token does not expire";
  EXPECT_FALSE(grant.subject.has_value());
}

TEST(SyncAuthTest, AMissingKeyIsAConfigError) {
  AuthConfig config;
  config.mode = AuthMode::kJwt;
  config.jwt.secret_env = "SYNC_AUTH_TEST_UNSET_VARIABLE";
  std::unique_ptr<SyncAuth> auth;
  const Status s = SyncAuth::Create(config, &auth);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("SYNC_AUTH_TEST_UNSET_VARIABLE"), std::string::npos);
}

}  // namespace
}  // namespace crbridge
