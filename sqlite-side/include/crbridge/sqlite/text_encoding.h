// Bytes as text: base64 (the standard alphabet) and lowercase hex, for the
// vlcn subprotocol, change events and logs; UTF-8 checks, and text made
// safe to show (logs, error messages, /readyz). Stateless functions;
// thread-safe.
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

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or
// code points past U+10FFFF).
bool IsUtf8(std::string_view text);

// `text` made safe to show: a backslash becomes \\, newline, return and tab
// \n, \r and \t, every other control character (C0, DEL, the C1 range
// U+0080-U+009F) and every byte that is not part of well-formed UTF-8
// \xHH. Printable UTF-8 stays as it is, so the result is valid UTF-8,
// printable, and says what the bytes were.
std::string EscapeUnprintable(std::string_view text);

}  // namespace crbridge
