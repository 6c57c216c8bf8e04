#include "crbridge/connector/sync/sync_auth.h"

#include <jwt.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace crbridge {
namespace {

using std::chrono::system_clock;

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};

// A time claim ("exp", "nbf": Unix seconds, a JSON number that may have a
// fraction) as a time point. Seconds beyond [0, 2^32] are taken as those
// bounds (1970 and 2106), which any token means the same by and which
// keep every later duration within the clock's range.
bool ReadTimeClaim(const nlohmann::json& claims, const char* name, std::optional<system_clock::time_point>* time,
                   std::string* reason) {
  const auto claim = claims.find(name);
  if (claim == claims.end()) return true;
  if (!claim->is_number()) {
    *reason = std::string("the token's ") + name + " is not a number of seconds";
    return false;
  }
  const double seconds = std::clamp(claim->get<double>(), 0.0, 4294967296.0);
  *time = system_clock::time_point(
      std::chrono::duration_cast<system_clock::duration>(std::chrono::duration<double>(seconds)));
  return true;
}

}  // namespace

Status SyncAuth::Create(const AuthConfig& config, std::unique_ptr<SyncAuth>* auth) {
  std::string key;
  if (config.mode == AuthMode::kJwt) {
    const char* value = std::getenv(config.jwt.secret_env.c_str());
    if (value == nullptr || *value == '\0') {
      return Status::InvalidArgument("auth.jwt.secret_env: the environment variable " + config.jwt.secret_env +
                                     " holding the token key is not set");
    }
    key = value;
  }
  auth->reset(new SyncAuth(config, std::move(key)));
  return Status::OK();
}

SyncAuth::Verdict SyncAuth::Check(const SyncRequest& request, system_clock::time_point now, Grant* grant,
                                  std::string* reason) const {
  *grant = Grant{};
  if (config_.mode == AuthMode::kNone) return Verdict::kAllowed;
  if (!request.token || request.token->empty()) {
    *reason = "a token is required";
    return Verdict::kUnauthenticated;
  }
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, request.token->c_str(), reinterpret_cast<const unsigned char*>(key_.data()),
                 static_cast<int>(key_.size())) != 0) {
    *reason = "the token does not verify";
    return Verdict::kUnauthenticated;
  }
  const std::unique_ptr<jwt_t, JwtDeleter> jwt(raw);
  // The algorithm is the server's choice, never the token's.
  if (jwt_alg_str(jwt_get_alg(jwt.get())) != config_.jwt.algorithm) {
    *reason = "the token is not signed with " + config_.jwt.algorithm;
    return Verdict::kUnauthenticated;
  }
  // The claims are read as JSON: libjwt's integer getter fails on a number
  // with a fraction, which "exp" and "nbf" may have.
  char* claims_json = jwt_get_grants_json(jwt.get(), nullptr);
  const std::string claims_text = claims_json != nullptr ? claims_json : "";
  std::free(claims_json);
  const nlohmann::json claims = nlohmann::json::parse(claims_text, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) {
    *reason = "the token's claims are not a JSON object";
    return Verdict::kUnauthenticated;
  }
  std::optional<system_clock::time_point> expiry, not_before;
  if (!ReadTimeClaim(claims, "exp", &expiry, reason) || !ReadTimeClaim(claims, "nbf", &not_before, reason)) {
    return Verdict::kUnauthenticated;
  }
  if (!expiry) {
    *reason = "the token has no expiry (exp)";
    return Verdict::kUnauthenticated;
  }
  if (*expiry <= now) {
    *reason = "the token has expired";
    return Verdict::kUnauthenticated;
  }
  if (not_before && *not_before > now) {
    *reason = "the token is not valid yet (nbf)";
    return Verdict::kUnauthenticated;
  }
  const auto rooms = claims.find(config_.jwt.rooms_claim);
  const auto grants = [&](const nlohmann::json& item) { return item.is_string() && item.get<std::string>() == request.room; };
  const bool granted =
      rooms != claims.end() && (grants(*rooms) || (rooms->is_array() && std::any_of(rooms->begin(), rooms->end(), grants)));
  if (!granted) {
    *reason = "the token does not grant room \"" + request.room + "\" (claim " + config_.jwt.rooms_claim + ")";
    return Verdict::kForbidden;
  }
  grant->expiry = expiry;
  if (const auto subject = claims.find("sub"); subject != claims.end() && subject->is_string()) {
    grant->subject = subject->get<std::string>();
  }
  return Verdict::kAllowed;
}

}  // namespace crbridge
