#include "crbridge/connector/sync/room_feed.h"

#include <algorithm>

namespace crbridge {

Changeset ChangesFor(std::span<const Change> changes, const SiteId& client) {
  Changeset out;
  out.reserve(changes.size());
  int64_t version = 0;
  int64_t seq = 0;
  for (const Change& change : changes) {
    if (!change.is_sentinel() && change.site_id == client) continue;
    if (out.empty() || change.db_version != version) {
      version = change.db_version;
      seq = 0;
    }
    out.push_back(change);
    out.back().seq = seq++;
  }
  return out;
}

void RoomFeed::Append(int64_t through, Changeset changes) {
  if (through <= head_) return;
  held_changes_ += changes.size();
  pulls_.push_back(Pull{head_, through, std::move(changes)});
  head_ = through;
  while (pulls_.size() > 1 && held_changes_ > max_changes_) {
    held_changes_ -= pulls_.front().changes.size();
    pulls_.pop_front();
  }
}

RoomFeed::Read RoomFeed::Next(int64_t after, const SiteId& client, Changeset* changes, int64_t* through) const {
  changes->clear();
  if (after >= head_) return Read::kAhead;
  const auto pull = std::find_if(pulls_.begin(), pulls_.end(), [after](const Pull& p) { return p.through > after; });
  if (pull == pulls_.end() || pull->after > after) return Read::kBehind;
  // A client may stand inside a pull (its own pulls end elsewhere); pulls
  // end on version boundaries, so the versions after `after` are whole.
  const auto first = std::find_if(pull->changes.begin(), pull->changes.end(),
                                  [after](const Change& c) { return c.db_version > after; });
  *changes = ChangesFor(std::span(first, pull->changes.end()), client);
  *through = pull->through;
  return Read::kServed;
}

}  // namespace crbridge
