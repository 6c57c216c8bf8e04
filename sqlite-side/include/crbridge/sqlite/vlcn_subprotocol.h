// The vlcn WebSocket subprotocol: how a client names its room (and token)
// when it connects, as base64 of "auth=TOKEN,room=ROOM" (or "room=ROOM")
// without padding, the form @vlcn.io/ws-client sends and a server echoes.
// Stateless functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge {

struct SyncRequest {
  std::string room;
  std::optional<std::string> token;
};

// InvalidArgument for a subprotocol that is not base64 of
// "auth=TOKEN,room=ROOM" or "room=ROOM" (in either order).
Status ParseSubprotocol(std::string_view subprotocol, SyncRequest* request);
// The subprotocol a vlcn client sends for `request` (as ws-client makes it).
std::string EncodeSubprotocol(const SyncRequest& request);

}  // namespace crbridge
