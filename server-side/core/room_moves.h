// Rows moving between rooms by column (docs/design.md, "Rows moving
// between rooms"): a clock written with another room than the clock table
// held makes its row leave that room and enter the new one. The writers of
// clocks (capture's recording, the merge) call RecordRoomMoves before they
// write them. Runs on the thread of the ShadowTransaction it is given.
#pragma once

#include <cstdint>
#include <vector>

#include "crbridge/server/core/shadow_store.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

// A clock about to be written under (db_version, seq), with its row's
// packed key.
struct ClockToWrite {
  const Blob* pk;
  ClockRow* clock;
  int64_t db_version;
  int seq;
};

// For each clock of `t` (a table with a room column; callers pass none of
// other tables, so that their writes pay nothing) whose room changes: stores the row's exit from the
// room it leaves (that room's clients get its death at the causal length
// they last saw, made even) and ends its exit from the room it enters, if
// it had one. Its causal length then rises past that exit's and its
// columns count as the server's: the room's clients deleted the row, and
// take it whole again, their own writes included.
Status RecordRoomMoves(ShadowTransaction& tx, const ResolvedTable& t, const std::vector<ClockToWrite>& clocks);

}  // namespace crbridge
