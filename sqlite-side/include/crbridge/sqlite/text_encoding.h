// Bytes as text: base64 (the standard alphabet) and lowercase hex, for the
// vlcn subprotocol, change events and logs. Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace crbridge {

// With `padded`, "=" pads the text to a multiple of four characters.
std::string EncodeBase64(std::span<const uint8_t> bytes, bool padded);
// Base64 with or without padding; nullopt when the text is not base64.
std::optional<std::string> DecodeBase64(std::string_view text);

std::string EncodeHex(std::span<const uint8_t> bytes);

}  // namespace crbridge
