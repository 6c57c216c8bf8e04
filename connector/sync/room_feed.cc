#include "crbridge/connector/sync/room_feed.h"

#include <algorithm>

#include "crbridge/sqlite/vlcn_messages.h"

namespace crbridge {
namespace {

// The messages a pull keeps encoded at the most: clients that stand
// elsewhere inside it (after pulls of their own) get theirs unshared.
constexpr size_t kSharedMessagesPerPull = 16;

// Whether a client of site `client` is sent `change` (ChangesFor).
bool SentTo(const Change& change, const SiteId& client, const ChangeFilter& filter) {
  return (change.is_sentinel() || change.site_id != client) && (!filter || filter(change));
}

}  // namespace

Changeset ChangesFor(std::span<const Change> changes, const SiteId& client, const ChangeFilter& filter) {
  Changeset out;
  out.reserve(changes.size());
  int64_t version = 0;
  int64_t seq = 0;
  for (const Change& change : changes) {
    if (!SentTo(change, client, filter)) continue;
    if (out.empty() || change.db_version != version) {
      version = change.db_version;
      seq = 0;
    }
    out.push_back(change);
    out.back().seq = seq++;
  }
  return out;
}

EncodedChanges EncodedFor(std::span<const Change> changes, const SiteId& client, const ChangeFilter& filter) {
  const Changeset sent = ChangesFor(changes, client, filter);
  return EncodedChanges{std::make_shared<const Blob>(EncodeChanges(sent)), sent.size(),
                        sent.empty() ? 0 : sent.back().db_version};
}

size_t ChangesInMessage(std::span<const Change> changes, size_t max_bytes) {
  size_t bytes = kChangesMessageOverhead;
  size_t taken = 0;
  while (taken < changes.size()) {
    size_t row_end = taken;
    size_t row_bytes = 0;
    for (; row_end < changes.size() && PositionOf(changes[row_end]) == PositionOf(changes[taken]); ++row_end) {
      row_bytes += EncodedSize(changes[row_end]);
    }
    if (taken > 0 && bytes + row_bytes > max_bytes) break;
    bytes += row_bytes;
    taken = row_end;
  }
  return taken;
}

void RoomFeed::Append(const PullPosition& through, Changeset changes) {
  if (through <= head_) return;
  size_t bytes = 0;
  for (const Change& change : changes) bytes += EncodedSize(change);
  held_changes_ += changes.size();
  held_bytes_ += bytes;
  pulls_.push_back(Pull{head_, through, std::move(changes), bytes, {}});
  head_ = through;
  Trim();
}

void RoomFeed::Trim() {
  while (pulls_.size() > 1 && (held_changes_ > max_changes_ || held_bytes_ > max_bytes_)) {
    held_changes_ -= pulls_.front().changes.size();
    held_bytes_ -= pulls_.front().bytes;
    pulls_.pop_front();
  }
}

RoomFeed::Read RoomFeed::Next(const PullPosition& after, const SiteId& client, const ChangeFilter& filter,
                              size_t max_bytes, EncodedChanges* changes, PullPosition* through) {
  *changes = EncodedChanges{};
  if (after >= head_) return Read::kAhead;
  const auto pull = std::find_if(pulls_.begin(), pulls_.end(), [&](const Pull& p) { return p.through > after; });
  if (pull == pulls_.end() || pull->after > after) return Read::kBehind;
  // A client may stand inside a pull (its own pulls end elsewhere); it
  // gets the rows after its place.
  const auto first = std::find_if(pull->changes.begin(), pull->changes.end(),
                                  [&](const Change& c) { return PositionOf(c) > after; });
  const std::span<const Change> rest(first, pull->changes.end());
  const size_t count = ChangesInMessage(rest, max_bytes);
  *through = count == rest.size() ? pull->through : PositionOf(rest[count - 1]);
  const std::span<const Change> message = rest.first(count);
  const bool alike =
      std::all_of(message.begin(), message.end(), [&](const Change& c) { return SentTo(c, client, filter); });
  const auto key = std::make_pair(static_cast<size_t>(first - pull->changes.begin()), count);
  if (!alike || (!pull->encoded.contains(key) && pull->encoded.size() >= kSharedMessagesPerPull)) {
    *changes = EncodedFor(message, client, filter);
    return Read::kServed;
  }
  auto [encoded, made] = pull->encoded.try_emplace(key);
  if (made) {
    encoded->second = EncodedFor(message, client, filter);
    pull->bytes += encoded->second.bytes->size();
    held_bytes_ += encoded->second.bytes->size();
  }
  *changes = encoded->second;
  // The bytes just kept count against the bound: an older pull may go (its
  // clients then pull on their own).
  if (made) Trim();
  return Read::kServed;
}

}  // namespace crbridge
