// ChangeRecorder: records captured app writes in the clocks, as
// server changes: only columns whose mapped value really changed get a new
// col_version, deletes and truncates make rows dead, and a row whose clock
// is already past a transaction (a merge recorded that write first) is
// left alone. Each Record call is one clock transaction, which also stores
// the capture position, so a crash never loses or double-counts a source
// transaction. Not thread-safe; one per capture pipeline, with its own
// (unmarked) shadow store. The same for every source database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crbridge/server/core/captured_change.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

struct RecordReport {
  size_t rows_changed = 0;   // rows whose clock got a new version
  size_t rows_skipped = 0;   // already recorded (by a merge, or before a crash)
  int64_t db_version = 0;    // the version of the changes; 0 when none
  size_t clocks_saturated = 0;  // clock steps that stayed at INT64_MAX (clock_bounds.h)
};

class ChangeRecorder {
 public:
  // `source` is the dialect whose parameters `writer` takes.
  ChangeRecorder(ShadowStore& writer, SourceType source) : writer_(writer), source_(source) {}

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
  Status RecordSnapshot(const CapturedTransaction& rows, const ResolvedTable& table, bool last,
                        const std::optional<std::string>& capture_resume, RecordReport* report);

 private:
  // Records `transactions` in `tx`, numbering changes from `*seq` on; with
  // `resume`, also moves the capture position to the end of the last one.
  Status RecordIn(ShadowTransaction& tx, int64_t version, const std::vector<CapturedTransaction>& transactions,
                  const std::optional<std::string>& resume, int* seq, RecordReport* report);

  ShadowStore& writer_;
  SourceType source_;
};

}  // namespace crbridge
