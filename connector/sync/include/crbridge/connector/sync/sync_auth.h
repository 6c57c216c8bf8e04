// SyncAuth: who may open a sync connection, decided before the WebSocket
// upgrade. A vlcn client names its room (and token) in the subprotocol
// (crbridge/sqlite/vlcn_subprotocol.h); with auth mode jwt the
// token must verify (HMAC signature with the configured algorithm and key,
// an expiry in the future, no "not before" in the future) and its rooms
// claim must grant the room. A connection lives no longer than its token
// (SyncAuth::Grant::expiry). Immutable after Create: thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "crbridge/mappings/config.h"
#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/vlcn_subprotocol.h"

namespace crbridge {

class SyncAuth {
 public:
  enum class Verdict {
    kAllowed,
    kUnauthenticated,  // no token, or one that does not verify or has expired: HTTP 401
    kForbidden,        // a valid token that does not grant the room: HTTP 403
  };

  // With mode jwt, the key is read from the environment variable the
  // config names; InvalidArgument when it is unset or empty.
  static Status Create(const AuthConfig& config, std::unique_ptr<SyncAuth>* auth);

  // What an allowed request's token says of its holder (auth mode jwt;
  // both unset with mode none).
  struct Grant {
    std::optional<std::string> subject;  // the token's "sub" claim, when it is a string
    // The token's "exp": the connection may not be used past it.
    std::optional<std::chrono::system_clock::time_point> expiry;
  };

  // Whether `request` may sync at `now`, and then its `grant`; `reason`
  // says why not, for the log and the HTTP body (never the token itself).
  // "exp" and "nbf" are JSON numbers of Unix seconds, fractions allowed.
  Verdict Check(const SyncRequest& request, std::chrono::system_clock::time_point now, Grant* grant,
                std::string* reason) const;

 private:
  SyncAuth(AuthConfig config, std::string key) : config_(std::move(config)), key_(std::move(key)) {}

  AuthConfig config_;
  std::string key_;
};

}  // namespace crbridge
