// CapturedTables: the mapped tables as a source's capture follows them, so
// that no app write is lost when a table is renamed, dropped or replaced
// (docs/design.md, "Tables renamed, dropped or replaced").
//
// Each table's rows were last read whole at a source position (its
// snapshot). A change of the table at or before that position is in that
// read already: the stream's copy of it is dropped, so a table read again
// while the stream lags behind is never set back by older changes.
//
// What a mapped table's name names is asked of the database at start, every
// CaptureOptions::table_check_interval, and at once when the stream hints
// that it changed (a Relation message under another name, DDL in the
// binlog):
//   - no table: the table is away (renamed or dropped). Said in the log,
//     to CaptureOptions::on_tables_away (/readyz) and in the metric
//     crbridge_capture_table_away until the name is back; its snapshot is
//     forgotten, as writes made meanwhile may never reach the stream.
//   - another table than the one captured (dropped and created again,
//     replaced by a migration): its snapshot is forgotten.
// A forgotten table is read whole again as soon as its name names a table:
// the stream stops, the table is read at a consistent position (its rows
// become changes where they differ from the clocks; rows it no longer has
// die), and the stream goes on. Forgetting is durable (ShadowStore::
// ForgetSnapshot) before the stream moves past what caused it.
//
// Not thread-safe: it lives on its capture's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crbridge/connector/capture/capture.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/server/core/captured_change.h"
#include "crbridge/server/core/shadow_store.h"

namespace crbridge {

class CapturedTables {
 public:
  using Clock = std::chrono::steady_clock;

  // What a mapped table's name names in the database now.
  enum class Named {
    kNothing,       // no table: renamed or dropped
    kTheSameTable,  // the table capture follows
    kAnotherTable,  // a table capture did not follow: dropped and created again, or replaced
  };

  // `tables`, `writer` and `options` must outlive this.
  CapturedTables(const std::vector<ResolvedTable>& tables, ShadowStore& writer, const CaptureOptions& options,
                 Metrics& metrics);

  // Reads each table's snapshot position from the store.
  Status Load();

  // Whether no table was ever read (a first start).
  bool NoneRead() const;
  // The tables to read whole (never read, or forgotten) whose name names a
  // table now, in config order.
  std::vector<const ResolvedTable*> ToRead() const;
  bool ReadDue() const { return !ToRead().empty(); }
  // `t` was read whole at `position` (its snapshot is marked done there).
  void Read(const ResolvedTable& t, int64_t position);

  // Whether a change of `t` at `position` is in its last read already.
  bool Superseded(const ResolvedTable& t, int64_t position) const;
  // Drops the rows of `transaction` that Superseded says are read already.
  void DropSuperseded(CapturedTransaction* transaction) const;

  // `t` must be read whole again; `why` goes to the log. The store forgets
  // its snapshot first, so a restart reads it too.
  Status Forget(const ResolvedTable& t, const std::string& why);
  // What the database said of `t`'s name (`source` spells it); forgets
  // and reports as the header says. Call for every table in one check,
  // then Checked().
  Status Saw(const ResolvedTable& t, Named named);
  // Whether every table is read and none away: nothing for a check to
  // settle (a source whose stream tells every change of name need not ask).
  bool Settled() const;
  // Whether the last check found no table under `t`'s name.
  bool away(const ResolvedTable& t) const { return state(t).named == Named::kNothing; }
  // Ends a check: reports the away tables if they changed, or for the
  // first time.
  void Checked(Clock::time_point now);

  // Whether a check is due: the interval passed, or CheckSoon was called.
  bool CheckDue(Clock::time_point now) const { return now >= next_check_; }
  void CheckSoon() { next_check_ = Clock::time_point::min(); }

 private:
  struct State {
    std::optional<int64_t> snapshot;  // the position of its last read; nullopt: to read
    Named named = Named::kTheSameTable;
  };

  State& state(const ResolvedTable& t) { return states_.at(&t); }
  const State& state(const ResolvedTable& t) const { return states_.at(&t); }
  std::string AwayText() const;

  const std::vector<ResolvedTable>& tables_;
  ShadowStore& writer_;
  const CaptureOptions& options_;
  Metrics& metrics_;
  std::map<const ResolvedTable*, State> states_;
  std::optional<std::string> reported_away_;
  Clock::time_point next_check_ = Clock::time_point::min();
};

}  // namespace crbridge
