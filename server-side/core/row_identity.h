// How the server side names rows and rooms whatever the dialect: a packed
// key's bytes as a map key, and a room column's value as the room's name.
// Internal to server-side; stateless.
#pragma once

#include <string>

#include "crbridge/sqlite/value.h"

namespace crbridge {

// A packed key's bytes as a string: map keys (GCC 12 misreports
// comparisons of byte vectors in maps as over-reads).
std::string KeyBytes(const Blob& key);

// A room column's value as the text that rooms are named by.
std::string RoomText(const Value& value);

}  // namespace crbridge
