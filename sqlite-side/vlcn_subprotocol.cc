#include "crbridge/sqlite/vlcn_subprotocol.h"

#include <cstdint>

namespace crbridge {
namespace {

// Base64 (standard alphabet) with or without padding; nullopt when not.
std::optional<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    int value = -1;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    if (c >= '0' && c <= '9') value = c - '0' + 52;
    if (c == '+') value = 62;
    if (c == '/') value = 63;
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  if (count >= 6) return std::nullopt;  // a dangling sextet: not base64
  return out;
}

}  // namespace

std::string EncodeSubprotocol(const SyncRequest& request) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string text = (request.token ? "auth=" + *request.token + "," : std::string()) + "room=" + request.room;
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (const unsigned char c : text) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += kAlphabet[(bits >> count) & 63];
    }
  }
  // Padding left out, as ws-client does.
  if (count > 0) out += kAlphabet[(bits << (6 - count)) & 63];
  return out;
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
