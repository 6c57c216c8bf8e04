// SyncAuth: who may open a sync connection, decided before the WebSocket
// upgrade. A vlcn client names its room (and token) in the subprotocol
// (crbridge/sqlite/vlcn_subprotocol.h); with auth mode jwt the
// token must verify (HMAC signature with the configured algorithm and key,
// an expiry in the future) and its rooms claim must grant the room.
// Immutable after Create: thread-safe.
#pragma once

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

  // Whether `request` may sync, at `now` (Unix seconds); `reason` says why
  // not, for the log and the HTTP body (never the token itself).
  Verdict Check(const SyncRequest& request, int64_t now, std::string* reason) const;

 private:
  SyncAuth(AuthConfig config, std::string key) : config_(std::move(config)), key_(std::move(key)) {}

  AuthConfig config_;
  std::string key_;
};

}  // namespace crbridge
