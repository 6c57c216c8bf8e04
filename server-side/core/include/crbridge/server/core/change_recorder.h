// ChangeRecorder: records captured app writes in the clocks, as
// server changes: only columns whose mapped value really changed get a new
// col_version, deletes and truncates make rows dead, and a row whose clock
// is already past a transaction (a merge recorded that write first) is
// left alone. A row whose values do not map (CapturedRow::rejection) is
// stored as rejected instead, and a later change of it that maps clears
// that (rejected_row.h). Each Record call is one clock transaction, which
// also stores the capture position and the rejections, so a crash never
// loses or double-counts a source transaction. Not thread-safe; one per
// capture pipeline, with its own (unmarked) shadow store. The same for
// every source database.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crbridge/server/core/captured_change.h"
#include "crbridge/server/core/rejected_row.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

class RoomGraph;

struct RecordReport {
  size_t rows_changed = 0;   // rows whose clock got a new version
  size_t rows_skipped = 0;   // already recorded (by a merge, or before a crash)
  int64_t db_version = 0;    // the version of the changes; 0 when none
  size_t clocks_saturated = 0;  // clock steps that stayed at INT64_MAX (clock_bounds.h)
  std::vector<RejectedRow> rejected;  // rows stored as rejected (again)
  std::vector<RejectedRow> cleared;   // rejections a later change ended (table and key)
};

class ChangeRecorder {
 public:
  // `source` is the dialect whose parameters `writer` takes; `tables` (the
  // mapped tables, which must outlive the recorder) say how rooms derive
  // from other rows (room_members, room_via).
  ChangeRecorder(ShadowStore& writer, SourceType source, const std::vector<ResolvedTable>& tables);
  ~ChangeRecorder();

  // Records `transactions` (in commit order) in one clock transaction under
  // one db_version, and stores the last one's end position (with `resume`,
  // what the source's stream restarts from after it) as the capture
  // position. Does not write when they hold no rows (replaying them would
  // record nothing). Unavailable when the connection is lost (nothing
  // recorded).
  Status Record(const std::vector<CapturedTransaction>& transactions, RecordReport* report,
                const std::string& resume = "");

  // Records a batch of the rows of `table` read whole (its snapshot) at
  // `rows.end_position`, in one clock transaction; a row whose clock a
  // later write already recorded is left alone. With `last`, the clocks of
  // rows the table no longer has die (they were deleted unseen), and the
  // snapshot is marked done at that position. With `capture_resume`, the
  // capture position moves to the snapshot's (a first snapshot, where the
  // stream starts); a table read again behind a running stream leaves it.
  // With `last`, rejections of rows it did not see end too.
  Status RecordSnapshot(const CapturedTransaction& rows, const ResolvedTable& table, bool last,
                        const std::optional<std::string>& capture_resume, RecordReport* report);

  // The rejected rows that stand, as stored; read once, then kept up to
  // date by recording.
  Status StandingRejections(std::vector<RejectedRow>* rows);

  // The positions of standing rejections by table name and key
  // (KeyBytes of the packed key).
  using RejectedKeys = std::map<std::string, std::map<std::string, int64_t>>;

 private:
  // Records `transactions` in `tx`, numbering changes from `*seq` on; with
  // `resume`, also moves the capture position to the end of the last one.
  // `rejected` is kept up to date with the rejections it stores and ends.
  Status RecordIn(ShadowTransaction& tx, int64_t version, std::span<const CapturedTransaction> transactions,
                  const std::optional<std::string>& resume, int* seq, RejectedKeys& rejected, RecordReport* report);
  // Runs `record` in one write, with the standing rejections it updates;
  // they count once the write commits.
  Status Write(RecordReport* report,
               const std::function<Status(ShadowTransaction& tx, int64_t version, RejectedKeys& rejected)>& record);

  ShadowStore& writer_;
  SourceType source_;
  std::unique_ptr<const RoomGraph> graph_;
  std::optional<RejectedKeys> rejected_;  // once read
};

}  // namespace crbridge
