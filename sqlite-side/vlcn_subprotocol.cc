#include "crbridge/sqlite/vlcn_subprotocol.h"

#include <cstdint>

#include "crbridge/sqlite/text_encoding.h"

namespace crbridge {

std::string EncodeSubprotocol(const SyncRequest& request) {
  const std::string text = (request.token ? "auth=" + *request.token + "," : std::string()) + "room=" + request.room;
  // Padding left out, as ws-client does.
  return EncodeBase64(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), false);
}

Status ParseSubprotocol(std::string_view subprotocol, SyncRequest* request) {
  *request = SyncRequest{};
  const std::optional<std::string> decoded = DecodeBase64(subprotocol);
  if (!decoded) return Status::InvalidArgument("the subprotocol is not base64");
  bool has_room = false;
  std::string_view rest = *decoded;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view pair = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos) return Status::InvalidArgument("the subprotocol has no key=value pairs");
    const std::string_view key = pair.substr(0, equals);
    const std::string value(pair.substr(equals + 1));
    if (key == "room") {
      request->room = value;
      has_room = true;
    } else if (key == "auth") {
      request->token = value;
    } else {
      return Status::InvalidArgument("the subprotocol names an unknown key \"" + std::string(key) + "\"");
    }
  }
  if (!has_room || request->room.empty()) return Status::InvalidArgument("the subprotocol names no room");
  return Status::OK();
}

}  // namespace crbridge
