// The messages of the vlcn WebSocket sync protocol (@vlcn.io/ws-common
// 0.2.0): one message per binary frame, lib0-encoded, first byte the tag.
// Encoding matches the published encoder byte for byte; decoding accepts
// what the published decoder accepts. Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "crbridge/sqlite/change.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

enum class MessageTag : uint8_t {
  kAnnouncePresence = 1,
  kChanges = 2,
  kRejectChanges = 3,
  kStartStreaming = 4,
  kPing = 7,
  kPong = 8,
  kErr = 10,
};

// A position in a peer's change stream: after `version`, change `seq`.
struct StreamPosition {
  int64_t version = 0;
  int64_t seq = 0;
  friend bool operator==(const StreamPosition&, const StreamPosition&) = default;
};

struct LastSeen {
  SiteId site{};
  StreamPosition position;
  friend bool operator==(const LastSeen&, const LastSeen&) = default;
};

struct AnnouncePresence {
  SiteId sender{};
  std::vector<LastSeen> last_seens;
  std::string schema_name;
  int64_t schema_version = 0;
  friend bool operator==(const AnnouncePresence&, const AnnouncePresence&) = default;
};

struct ChangesMessage {
  SiteId sender{};
  StreamPosition since;
  Changeset changes;
  friend bool operator==(const ChangesMessage&, const ChangesMessage&) = default;
};

struct RejectChanges {
  SiteId whose{};
  StreamPosition since;
  friend bool operator==(const RejectChanges&, const RejectChanges&) = default;
};

struct StartStreaming {
  StreamPosition since;
  std::vector<SiteId> exclude_sites;
  bool local_only = false;
  friend bool operator==(const StartStreaming&, const StartStreaming&) = default;
};

struct Ping {
  friend bool operator==(const Ping&, const Ping&) = default;
};
struct Pong {
  friend bool operator==(const Pong&, const Pong&) = default;
};

struct ErrMessage {
  int64_t request_id = 0;
  std::string message;
  friend bool operator==(const ErrMessage&, const ErrMessage&) = default;
};

using Message =
    std::variant<AnnouncePresence, ChangesMessage, RejectChanges, StartStreaming, Ping, Pong, ErrMessage>;

// Values go on the wire as: integers as i64 (type 1), floats as f64 (2),
// text (3), blobs (5), NULL (0). Changes without a site id are sent with
// site type 0 (NULL).
Blob EncodeMessage(const Message& message);

// A Changes message in two parts: its changes (their count, then each),
// and the message made of a sender, a position and such encoded changes.
// EncodeChangesMessage(s, p, EncodeChanges(c)) is EncodeMessage of
// ChangesMessage{s, p, c}: a room's changes are encoded once and sent to
// each of its clients behind a header of its own.
Blob EncodeChanges(const Changeset& changes);
Blob EncodeChangesMessage(const SiteId& sender, const StreamPosition& since, std::span<const uint8_t> changes);

// The bytes `change` takes in an encoded Changes message, and the most a
// Changes message takes besides its changes: a message's size is known
// before it is encoded.
size_t EncodedSize(const Change& change);
inline constexpr size_t kChangesMessageOverhead = 1 + 16 + 8 + 10 + 10;

// Decodes one frame. Booleans (value type 4) decode as integers 0 and 1.
// A site id is read whenever its type byte is not 0, as the published
// decoder does. Bytes after a complete message are ignored, as there.
// Returns Corruption naming the field for truncated or malformed input,
// and InvalidArgument for tags crbridge does not serve (5, 6, 9, 11) or
// unknown ones. Never reads outside `frame`; allocations are bounded by
// the frame's size.
Status DecodeMessage(std::span<const uint8_t> frame, Message* message);

}  // namespace crbridge
