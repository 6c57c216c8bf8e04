#include "room_moves.h"

#include <map>
#include <string>
#include <utility>

#include "row_identity.h"

namespace crbridge {

Status RecordRoomMoves(ShadowTransaction& tx, const ResolvedTable& t, const std::vector<ClockToWrite>& clocks) {
  std::vector<const ClockToWrite*> moving;
  std::vector<Blob> keys;
  for (const ClockToWrite& write : clocks) {
    const ClockRow& clock = *write.clock;
    if (!clock.stored || !clock.room || !clock.stored_room || *clock.room == *clock.stored_room) continue;
    moving.push_back(&write);
    keys.push_back(*write.pk);
  }
  if (moving.empty()) return Status::OK();
  std::vector<RoomExit> standing;
  CRBRIDGE_RETURN_IF_ERROR(tx.ReadRoomExits(t, keys, &standing));
  std::map<std::pair<std::string, std::string>, int64_t> exit_cl;  // (key, room) -> the exit's causal length
  for (const RoomExit& exit : standing) exit_cl[{KeyBytes(exit.pk), exit.room}] = exit.cl;
  std::vector<RoomExit> left, entered;
  for (const ClockToWrite* write : moving) {
    ClockRow& clock = *write->clock;
    left.push_back(RoomExit{*write->pk, *clock.stored_room, clock.stored_cl + clock.stored_cl % 2, write->db_version,
                            write->seq});
    const auto found = exit_cl.find({KeyBytes(*write->pk), *clock.room});
    if (found == exit_cl.end()) continue;
    entered.push_back(RoomExit{*write->pk, *clock.room, found->second, write->db_version, write->seq});
    // Only a live row changes room: its causal length is odd, the exit's even.
    if (clock.cl < found->second) clock.cl = found->second + 1;
    for (std::optional<int64_t>& site : clock.sites) {
      if (site) site = 0;
    }
  }
  return tx.WriteRoomExits(t, left, entered);
}

}  // namespace crbridge
