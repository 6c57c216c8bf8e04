#include "crbridge/connector/sync/sync_auth.h"

#include <jwt.h>

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace crbridge {
namespace {

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};

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

SyncAuth::Verdict SyncAuth::Check(const SyncRequest& request, int64_t now, std::string* reason) const {
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
  errno = 0;
  const long expiry = jwt_get_grant_int(jwt.get(), "exp");
  if (errno != 0) {
    *reason = "the token has no expiry (exp)";
    return Verdict::kUnauthenticated;
  }
  if (expiry <= now) {
    *reason = "the token has expired";
    return Verdict::kUnauthenticated;
  }
  char* rooms_json = jwt_get_grants_json(jwt.get(), config_.jwt.rooms_claim.c_str());
  const std::string rooms_text = rooms_json != nullptr ? rooms_json : "";
  std::free(rooms_json);
  const nlohmann::json rooms = nlohmann::json::parse(rooms_text, nullptr, /*allow_exceptions=*/false);
  const auto grants = [&](const nlohmann::json& item) { return item.is_string() && item.get<std::string>() == request.room; };
  const bool granted = grants(rooms) || (rooms.is_array() && std::any_of(rooms.begin(), rooms.end(), grants));
  if (!granted) {
    *reason = "the token does not grant room \"" + request.room + "\" (claim " + config_.jwt.rooms_claim + ")";
    return Verdict::kForbidden;
  }
  return Verdict::kAllowed;
}

}  // namespace crbridge
