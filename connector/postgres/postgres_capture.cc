#include "crbridge/connector/postgres/postgres_capture.h"

#include <algorithm>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <thread>

#include "crbridge/connector/capture/capture_batch.h"
#include "crbridge/connector/capture/capture_hold.h"
#include "crbridge/connector/capture/captured_tables.h"
#include "crbridge/connector/capture/column_changes.h"
#include "crbridge/connector/capture/table_snapshot.h"
#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/connector/postgres/pgoutput_change_mapper.h"
#include "crbridge/connector/postgres/pgoutput_decoder.h"
#include "crbridge/connector/postgres/replication_connection.h"
#include "crbridge/mappings/type_mapping.h"
#include "crbridge/server/core/change_recorder.h"
#include "crbridge/server/postgres/postgres_database.h"
#include "crbridge/server/postgres/postgres_errors.h"
#include "crbridge/server/postgres/postgres_shadow_store.h"
#include "crbridge/sqlite/sql_quote.h"
#include "crbridge/sqlite/unix_time.h"

namespace crbridge::postgres {
namespace {

using Clock = std::chrono::steady_clock;

std::string QualifiedSource(const ResolvedTable& t) {
  return QuoteIdentifier(t.mapping->source_schema) + "." + QuoteIdentifier(t.mapping->source_table);
}

// The relation id of each mapped table capture follows.
using FollowedRelations = std::map<uint32_t, const ResolvedTable*>;

// Asks what each mapped table's name names now and tells `captured`: no
// relation; the one crbridge's publication has, which capture follows; or
// one it lacks, made since under that name. `followed` gets the relations
// capture follows. A column the app added to or dropped from a followed
// table ends the check (CheckColumnsFollowed), though no row that shows it
// was streamed yet (clients of the new schema are served from then on).
Status CheckTables(pqxx::connection& sql, const std::string& publication, const std::vector<ResolvedTable>& tables,
                   CapturedTables& captured, FollowedRelations* followed) {
  followed->clear();
  for (const ResolvedTable& t : tables) {
    std::optional<uint32_t> relid;
    bool published = false;
    std::vector<std::string> columns;
    CRBRIDGE_RETURN_IF_ERROR(CatchErrors("looking up " + QualifiedSource(t), [&] {
      pqxx::nontransaction tx(sql);
      const pqxx::row row = tx.exec_params1(
          "SELECT to_regclass($1)::oid, EXISTS (SELECT 1 FROM pg_publication_rel r JOIN pg_publication p ON "
          "p.oid = r.prpubid WHERE p.pubname = $2 AND r.prrelid = to_regclass($1)), "
          "array_to_json(ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 "
          "AND NOT attisdropped ORDER BY attnum))::text",
          QualifiedSource(t), publication);
      if (!row[0].is_null()) relid = row[0].as<uint32_t>();
      published = row[1].as<bool>();
      return ParseColumnNamesJson(row[2].as<std::string>(), &columns);
    }));
    using Named = CapturedTables::Named;
    const Named named = !relid ? Named::kNothing : published ? Named::kTheSameTable : Named::kAnotherTable;
    CRBRIDGE_RETURN_IF_ERROR(captured.Saw(t, named));
    if (named == Named::kTheSameTable) {
      CRBRIDGE_RETURN_IF_ERROR(CheckColumnsFollowed(t, columns));
      (*followed)[*relid] = &t;
    }
  }
  captured.Checked(CapturedTables::Clock::now());
  return Status::OK();
}

// crbridge owns its publication: exactly the mapped tables whose name names
// a table (a table made since under a mapped name joins it here). Then
// `followed` is what capture follows.
Status Publish(pqxx::connection& sql, const std::string& publication, const std::vector<ResolvedTable>& tables,
               CapturedTables& captured, FollowedRelations* followed) {
  CRBRIDGE_RETURN_IF_ERROR(CheckTables(sql, publication, tables, captured, followed));
  std::string list;
  std::vector<std::string> names;
  for (const ResolvedTable& t : tables) {
    if (captured.away(t)) continue;
    names.push_back(QualifiedSource(t));
    list += (list.empty() ? "" : ", ") + names.back();
  }
  // With every table away, the publication keeps what it had.
  if (list.empty()) return Status::OK();
  CRBRIDGE_RETURN_IF_ERROR(CatchErrors("setting up the publication " + publication, [&] {
    pqxx::work tx(sql);
    // Only a table's owner may name it in a publication: one that already
    // publishes exactly the tables whole is left as it is, so a role that
    // owns none of them may use one made for it (docs/server-side.md).
    if (PublicationPublishesExactly(tx, publication, names)) return Status::OK();
    const bool exists = !tx.exec_params("SELECT 1 FROM pg_publication WHERE pubname = $1", publication).empty();
    try {
      tx.exec0((exists ? "ALTER PUBLICATION " : "CREATE PUBLICATION ") + QuoteIdentifier(publication) +
               (exists ? " SET TABLE " : " FOR TABLE ") + list);
      // Every kind of change, whatever the publication was made to publish.
      if (exists) {
        tx.exec0("ALTER PUBLICATION " + QuoteIdentifier(publication) +
                 " SET (publish = 'insert, update, delete, truncate')");
      }
    } catch (const pqxx::undefined_table& e) {
      // The app renamed or dropped a mapped table since the check above:
      // capture starts again, and the check then finds it away.
      return Status::Aborted("a mapped table went away while the publication was set up: " + std::string(e.what()));
    }
    tx.commit();
    return Status::OK();
  }));
  return CheckTables(sql, publication, tables, captured, followed);
}

// Gives every row of `t` that `read` sees its clock, at `position`, in
// batches (the table is never loaded whole); rows the clocks have and the
// table lacks die. The next batch is read while the last one is recorded
// (on the recorder's own connection): `read` is used by one thread at a
// time, the fetching one until its result is taken.
Status SnapshotTable(pqxx::transaction_base& read, const ResolvedTable& t, int64_t position,
                     const std::optional<std::string>& capture_resume, ChangeRecorder& recorder,
                     const CaptureOptions& options, Metrics& metrics, std::stop_token stop) {
  const auto total = read.exec1("SELECT count(*) FROM " + QualifiedSource(t))[0].as<int64_t>();
  TableSnapshot snapshot(t, position, capture_resume, total, recorder, options, metrics);
  std::string select;
  for (const ResolvedColumn& c : t.columns)
    select += (select.empty() ? "" : ", ") + QuoteIdentifier(c.server.name) + "::text";
  read.exec0("DECLARE crbridge_snapshot NO SCROLL CURSOR FOR SELECT " + select + " FROM " + QualifiedSource(t));
  const std::string fetch = "FETCH FORWARD " + std::to_string(options.snapshot_batch_rows) + " FROM crbridge_snapshot";
  const auto fetch_next = [&] { return std::async(std::launch::async, [&] { return read.exec(fetch); }); };
  // Waits, on every way out, for a read in flight before `read` is used again.
  std::future<pqxx::result> next = fetch_next();
  for (;;) {
    if (stop.stop_requested()) return Status::Cancelled("stopped during the snapshot of " + t.mapping->name);
    const pqxx::result rows = next.get();
    const bool last = rows.size() < options.snapshot_batch_rows;
    if (!last) next = fetch_next();
    for (const auto& row : rows) {
      snapshot.AddRow([&](size_t i) -> std::optional<std::string_view> {
        const pqxx::field field = row[static_cast<int>(i)];
        return field.is_null() ? std::nullopt : std::optional<std::string_view>(field.c_str());
      });
    }
    CRBRIDGE_RETURN_IF_ERROR(snapshot.Record(last));
    if (last) {
      read.exec0("CLOSE crbridge_snapshot");
      return Status::OK();
    }
  }
}

// Reads the tables `captured` has to read, whole, in the snapshot a slot
// exported at `created`: their rows become changes at its consistent
// point, so the stream's copies of what the read saw are dropped.
Status ReadTables(pqxx::connection& sql, const CreatedSlot& created, const std::optional<std::string>& capture_resume,
                  CapturedTables& captured, ChangeRecorder& recorder, const CaptureOptions& options, Metrics& metrics,
                  std::stop_token stop) {
  const auto position = static_cast<int64_t>(created.consistent_point);
  return CatchErrors("reading the mapped tables", [&] {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> read(sql);
    read.exec0("SET TRANSACTION SNAPSHOT " + QuoteLiteral(created.snapshot_name));
    for (const ResolvedTable* t : captured.ToRead()) {
      try {
        CRBRIDGE_RETURN_IF_ERROR(SnapshotTable(read, *t, position, capture_resume, recorder, options, metrics, stop));
      } catch (const pqxx::undefined_table& e) {
        // The app renamed or dropped the table since capture checked it:
        // capture starts again, and its check then finds it away.
        return Status::Aborted("a mapped table went away before it was read whole: " + std::string(e.what()));
      }
      captured.Read(*t, position);
    }
    read.commit();
    return Status::OK();
  });
}

// A temporary slot's name beside `slot` (slot names have 63 characters at
// most): it lives while a table is read again.
std::string ReadingSlotName(const std::string& slot) { return slot.substr(0, 58) + "_read"; }

// Reads transactions off the stream and records them, a batch at a time.
class Streamer {
 public:
  // Checks the mapped tables on `sql` (CheckTables) while it streams.
  Streamer(ReplicationConnection& stream, ChangeRecorder& recorder, CapturedTables& captured,
           FollowedRelations followed, pqxx::connection& sql, const Config& config,
           const std::vector<ResolvedTable>& tables, std::string own_origin, const CaptureOptions& options,
           Metrics& metrics, uint64_t start)
      : stream_(stream),
        batch_(recorder, options, metrics),
        captured_(captured),
        mapper_(std::move(followed)),
        sql_(sql),
        publication_(config.source.publication),
        tables_(tables),
        own_origin_(std::move(own_origin)),
        options_(options),
        slot_lag_warning_bytes_(config.source.slot_lag_warning_mb << 20),
        metrics_(metrics),
        received_(start),
        confirmed_(start),
        hold_(options) {}

  // Streams until `stop` (then OK) or an error; or until a mapped table is
  // to be read whole again: then what waits is recorded and it returns OK
  // with `*read_again` set, for the caller to read it and stream again.
  Status Run(std::stop_token stop, bool* read_again) {
    *read_again = false;
    auto next_status = Clock::now();
    while (!stop.stop_requested()) {
      const auto now = Clock::now();
      if (captured_.CheckDue(now)) {
        FollowedRelations unchanged;  // what the stream follows changes only when it starts again
        CRBRIDGE_RETURN_IF_ERROR(CheckTables(sql_, publication_, tables_, captured_, &unchanged));
        if (captured_.ReadDue()) {
          *read_again = true;
          return batch_.empty() ? Status::OK() : batch_.Flush();
        }
      }
      // Holding, the slot keeps the WAL until Kafka's backlog drains.
      if (hold_.Holding(now)) {
        if (now >= next_status) {
          CRBRIDGE_RETURN_IF_ERROR(SendStatus(false));
          next_status = now + options_.status_interval;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (batch_.Due(now)) CRBRIDGE_RETURN_IF_ERROR(batch_.Flush());
      if (now >= next_status) {
        CRBRIDGE_RETURN_IF_ERROR(SendStatus(false));
        next_status = now + options_.status_interval;
      }
      // With transactions waiting, a stream that goes quiet even briefly is
      // caught up: they are recorded at once rather than after the delay.
      const auto wait = batch_.empty() ? std::chrono::milliseconds(200) : std::chrono::milliseconds(1);
      std::string data;
      bool got = false;
      if (const Status read = stream_.ReadCopyData(wait, &data, &got); !read.ok()) {
        // Stopped while waiting: what is pending is recorded; the slot is
        // confirmed past it on the next start (replaying it records nothing).
        if (read.code() == Status::Code::kCancelled && stop.stop_requested()) break;
        return read;
      }
      if (!got) {
        // Quiet: what is pending is recorded now rather than later, and
        // the slot may forget it at once (with Kafka, up to what Kafka has).
        if (!batch_.empty()) {
          CRBRIDGE_RETURN_IF_ERROR(batch_.Flush());
          CRBRIDGE_RETURN_IF_ERROR(SendStatus(false));
          next_status = Clock::now() + options_.status_interval;
        }
        continue;
      }
      CopyDataMessage message;
      CRBRIDGE_RETURN_IF_ERROR(DecodeCopyData(data, &message));
      if (const auto* keepalive = std::get_if<PrimaryKeepalive>(&message)) {
        server_end_ = std::max(server_end_, keepalive->wal_end);
        // With nothing in flight, the server's position is ours too, or a
        // quiet database would keep its WAL for us forever.
        if (!in_transaction_ && batch_.empty()) received_ = std::max(received_, keepalive->wal_end);
        if (keepalive->reply_requested) {
          CRBRIDGE_RETURN_IF_ERROR(SendStatus(false));
          next_status = Clock::now() + options_.status_interval;
        }
        continue;
      }
      const auto& xlog = std::get<XLogData>(message);
      server_end_ = std::max(server_end_, xlog.wal_end);
      CRBRIDGE_RETURN_IF_ERROR(OnMessage(xlog.payload));
    }
    return batch_.empty() ? Status::OK() : batch_.Flush();
  }

 private:
  Status OnMessage(std::string_view payload) {
    PgMessage message;
    CRBRIDGE_RETURN_IF_ERROR(decoder_.Decode(payload, &message));
    if (const auto* begin = std::get_if<PgBegin>(&message)) {
      in_transaction_ = true;
      own_ = false;
      current_ = CapturedTransaction{};
      commit_time_ = begin->commit_time;
      final_lsn_ = begin->final_lsn;
    } else if (const auto* origin = std::get_if<PgOrigin>(&message)) {
      // crbridge's own merges: already in the clocks.
      own_ = origin->name == own_origin_;
    } else if (const auto* relation = std::get_if<PgRelation>(&message)) {
      const ResolvedTable* renamed = nullptr;
      CRBRIDGE_RETURN_IF_ERROR(mapper_.OnRelation(*relation, &renamed));
      // A table renamed for a while: what it went through under the other
      // name may not all reach the stream (a restart sets the publication
      // by name), so it is read again once its name is back.
      if (renamed != nullptr && !captured_.Superseded(*renamed, static_cast<int64_t>(final_lsn_))) {
        CRBRIDGE_RETURN_IF_ERROR(
            captured_.Forget(*renamed, "renamed to " + relation->namespace_name + "." + relation->name));
        captured_.CheckSoon();
      }
    } else if (const auto* insert = std::get_if<PgInsert>(&message)) {
      if (!own_) CRBRIDGE_RETURN_IF_ERROR(mapper_.OnInsert(*insert, &current_.rows));
    } else if (const auto* update = std::get_if<PgUpdate>(&message)) {
      if (!own_) CRBRIDGE_RETURN_IF_ERROR(mapper_.OnUpdate(*update, &current_.rows));
    } else if (const auto* del = std::get_if<PgDelete>(&message)) {
      if (!own_) CRBRIDGE_RETURN_IF_ERROR(mapper_.OnDelete(*del, &current_.rows));
    } else if (const auto* truncate = std::get_if<PgTruncate>(&message)) {
      if (!own_) CRBRIDGE_RETURN_IF_ERROR(mapper_.OnTruncate(*truncate, &current_.rows));
    } else if (const auto* commit = std::get_if<PgCommit>(&message)) {
      in_transaction_ = false;
      received_ = std::max(received_, commit->end_lsn);
      current_.end_position = static_cast<int64_t>(commit->end_lsn);
      captured_.DropSuperseded(&current_);
      if (current_.rows.empty()) return Status::OK();
      current_.commit_time_us = PgTimestampToUnixMicros(commit_time_);
      if (batch_.empty()) oldest_commit_time_ = commit_time_;
      batch_.Add(std::move(current_));
      current_ = CapturedTransaction{};
    }
    // Type and logical messages say nothing crbridge records; protocol 1
    // streams no in-progress transactions.
    return Status::OK();
  }

  // Confirms what the clocks hold: everything received, unless a batch is
  // waiting (then up to before it) or a transaction is half read; with
  // Kafka, only before the oldest change it has not acknowledged.
  Status SendStatus(bool reply_now) {
    if (batch_.empty()) {
      if (!in_transaction_) confirmed_ = std::max(confirmed_, received_);
      metrics_.capture_lag_seconds().Set(0);
    } else {
      const int64_t age_us = UnixMicrosNow() - PgTimestampToUnixMicros(oldest_commit_time_);
      metrics_.capture_lag_seconds().Set(static_cast<double>(age_us) / 1e6);
    }
    uint64_t flushed = confirmed_;
    if (options_.unpublished_position) {
      if (const std::optional<int64_t> unpublished = options_.unpublished_position()) {
        flushed = std::min(flushed, static_cast<uint64_t>(*unpublished) - 1);
      }
    }
    const int64_t lag = server_end_ > flushed ? static_cast<int64_t>(server_end_ - flushed) : 0;
    metrics_.capture_lag_bytes().Set(static_cast<double>(lag));
    // Said once each time it crosses the bound, either way.
    if ((lag > slot_lag_warning_bytes_) != lag_warned_) {
      lag_warned_ = !lag_warned_;
      if (lag_warned_) {
        log::Warn("capture", "the replication slot holds back more WAL than slot_lag_warning_mb",
                  {{"bytes", lag}, {"confirmed", FormatLsn(flushed)}});
      } else {
        log::Info("capture", "the replication slot caught up", {{"bytes", lag}});
      }
    }
    return stream_.SendStandbyStatus(received_, flushed, flushed, reply_now);
  }

  ReplicationConnection& stream_;
  CaptureBatch batch_;
  CapturedTables& captured_;
  PgOutputDecoder decoder_;
  PgOutputChangeMapper mapper_;
  pqxx::connection& sql_;
  const std::string publication_;
  const std::vector<ResolvedTable>& tables_;
  std::string own_origin_;
  const CaptureOptions& options_;
  int64_t slot_lag_warning_bytes_;
  Metrics& metrics_;

  bool in_transaction_ = false;
  bool own_ = false;
  PgTimestamp commit_time_ = 0;
  uint64_t final_lsn_ = 0;  // the commit position of the transaction being read
  CapturedTransaction current_;
  PgTimestamp oldest_commit_time_ = 0;
  uint64_t received_;   // the end of the last transaction read whole
  uint64_t confirmed_;  // what the slot may forget
  uint64_t server_end_ = 0;
  bool lag_warned_ = false;
  CaptureHold hold_;
};

}  // namespace

Status PostgresCapture::RunUntilStopped(std::stop_token stop) {
  const std::string& url = config_.source.url;
  const std::string& slot = config_.source.slot;
  const std::string& publication = config_.source.publication;
  std::unique_ptr<PostgresShadowStore> writer;
  CRBRIDGE_RETURN_IF_ERROR(
      PostgresShadowStore::Open(url, config_.metadata_schema, tables_, ShadowStore::Marking::kNone, &writer));
  writer->set_logs_changes(config_.kafka.has_value());
  ChangeRecorder recorder(*writer, SourceType::kPostgres, tables_);
  CRBRIDGE_RETURN_IF_ERROR(ReportStandingRejections(recorder));
  CapturedTables captured(tables_, *writer, options_, metrics_);
  CRBRIDGE_RETURN_IF_ERROR(captured.Load());
  std::unique_ptr<ReplicationConnection> stream;
  CRBRIDGE_RETURN_IF_ERROR(ReplicationConnection::Open(url, stop, &stream));
  const bool failover = config_.source.failover_slot;
  if (failover && stream->server_version() < 170000) {
    return Status::InvalidArgument("source.failover_slot: failover slots need Postgres 17 or newer; the server is " +
                                   std::to_string(stream->server_version() / 10000));
  }
  FoundSlot found;
  CRBRIDGE_RETURN_IF_ERROR(stream->FindSlot(slot, &found));
  // A slot missing before anything was read is one never made yet.
  if (found.lost() && (found.exists || !captured.NoneRead())) {
    CRBRIDGE_RETURN_IF_ERROR(SlotLost(found, *writer, captured, *stream));
    found = FoundSlot{};
  }
  bool slot_exists = found.exists;
  uint64_t confirmed = found.confirmed_flush_lsn;  // the slot's confirmed position
  // The slot follows the config: a failover slot, or one no standby keeps.
  if (slot_exists && stream->server_version() >= 170000 && found.failover != failover) {
    CRBRIDGE_RETURN_IF_ERROR(stream->SetFailover(slot, failover));
    log::Info("capture", "replication slot failover set", {{"slot", slot}, {"failover", failover}});
  }
  std::optional<pqxx::connection> sql;
  CRBRIDGE_RETURN_IF_ERROR(CatchErrors("preparing capture", [&] {
    sql.emplace(url);
    pqxx::nontransaction(*sql).exec0(PostgresShadowStore::kSessionSettings);
    return Status::OK();
  }));

  for (;;) {
    FollowedRelations followed;
    CRBRIDGE_RETURN_IF_ERROR(Publish(*sql, publication, tables_, captured, &followed));
    // The clocks hold every transaction up to the recorded position, and
    // the slot's confirmed position may lag behind it (it is confirmed when
    // the stream is quiet or every status_interval): the stream starts
    // after both, rather than sending again what would only be skipped.
    SourcePosition recorded;
    CRBRIDGE_RETURN_IF_ERROR(writer->CapturePosition(&recorded));
    uint64_t start = std::max(confirmed, static_cast<uint64_t>(recorded.offset));
    if (!slot_exists) {
      // The stream starts where the exported snapshot ends: no gap, no overlap.
      CreatedSlot created;
      CRBRIDGE_RETURN_IF_ERROR(stream->CreateSlot(slot, &created, ReplicationConnection::SlotLife::kPermanent, failover));
      log::Info("capture", "replication slot created",
                {{"slot", slot}, {"consistent_point", FormatLsn(created.consistent_point)}});
      CRBRIDGE_RETURN_IF_ERROR(ReadTables(*sql, created, "", captured, recorder, options_, metrics_, stop));
      start = created.consistent_point;
      slot_exists = true;
    } else if (captured.ReadDue()) {
      // A table is read behind the stream, in the snapshot of a slot that
      // lives while it is read.
      std::unique_ptr<ReplicationConnection> exporter;
      CRBRIDGE_RETURN_IF_ERROR(ReplicationConnection::Open(url, stop, &exporter));
      CreatedSlot created;
      CRBRIDGE_RETURN_IF_ERROR(
          exporter->CreateSlot(ReadingSlotName(slot), &created, ReplicationConnection::SlotLife::kTemporary));
      CRBRIDGE_RETURN_IF_ERROR(ReadTables(*sql, created, std::nullopt, captured, recorder, options_, metrics_, stop));
    }

    if (const Status started = stream->StartReplication(slot, start, publication, 1); !started.ok()) {
      // The server may have invalidated the slot since it was found (it
      // refuses the slot then), or it was dropped: capture starts again,
      // and finds it lost.
      if (started.code() != Status::Code::kInvalidArgument && started.code() != Status::Code::kNotFound) {
        return started;
      }
      FoundSlot now;
      CRBRIDGE_RETURN_IF_ERROR(stream->FindSlot(slot, &now));
      if (now.lost()) {
        return Status::Aborted("the replication slot " + slot + " was lost as streaming started: " + started.message());
      }
      return started;
    }
    log::Info("capture", "streaming", {{"slot", slot}, {"from", FormatLsn(start)}});
    if (options_.on_streaming) options_.on_streaming();
    Streamer streamer(*stream, recorder, captured, std::move(followed), *sql, config_, tables_, writer->origin(),
                      options_, metrics_, start);
    bool read_again = false;
    CRBRIDGE_RETURN_IF_ERROR(streamer.Run(stop, &read_again));
    if (!read_again) return Status::OK();
    // Ending the stream releases the slot; a walsender streams once per
    // connection, so the next stream takes a new one.
    CRBRIDGE_RETURN_IF_ERROR(stream->StopReplication());
    CRBRIDGE_RETURN_IF_ERROR(stream->FindSlot(slot, &found));
    if (found.lost()) return Status::Aborted("the replication slot " + slot + " was lost");
    confirmed = found.confirmed_flush_lsn;
    stream.reset();
    CRBRIDGE_RETURN_IF_ERROR(ReplicationConnection::Open(url, stop, &stream));
  }
}

// The slot is gone, or the server invalidated it: what the app wrote since
// capture last read it will never stream. Every mapped table is forgotten
// (durably: a restart midway reads them all the same) and the slot dropped,
// so that capture makes a new one and reads every table at its snapshot;
// the rows that differ from their clocks become changes, and rows gone
// from a table die.
Status PostgresCapture::SlotLost(const FoundSlot& found, ShadowStore& writer, CapturedTables& captured,
                                 ReplicationConnection& stream) {
  const std::string& slot = config_.source.slot;
  const std::string what = found.exists ? "invalidated by the server (" + *found.invalidated + ")"
                                        : "gone (dropped, or removed by the server)";
  metrics_.capture_slots_lost().Increment();
  // The clocks hold positions of the server's WAL: a server whose WAL is
  // behind them (restored from a backup, or a lagging standby promoted)
  // has another history, which reading the tables again cannot tell apart.
  SourcePosition recorded;
  CRBRIDGE_RETURN_IF_ERROR(writer.CapturePosition(&recorded));
  SystemIdentity identity;
  CRBRIDGE_RETURN_IF_ERROR(stream.IdentifySystem(&identity));
  if (identity.wal_position < static_cast<uint64_t>(recorded.offset)) {
    return Status::InvalidArgument("the replication slot " + slot + " is " + what + ", and the server's WAL (at " +
                                   FormatLsn(identity.wal_position) + ") is behind what crbridge recorded (" +
                                   FormatLsn(static_cast<uint64_t>(recorded.offset)) +
                                   "): the database was restored or a standby promoted. Run `crbridge drop` and "
                                   "start again to take a new snapshot");
  }
  if (config_.source.on_slot_lost == SourceConfig::OnSlotLost::kStop) {
    return Status::InvalidArgument("the replication slot " + slot + " is " + what +
                                   ": changes made since capture last read it cannot be captured "
                                   "(source.on_slot_lost: stop). Run `crbridge drop` and start again to take a new "
                                   "snapshot, or set source.on_slot_lost: resnapshot");
  }
  log::Error("capture", "the replication slot was lost: changes made since capture last read it cannot stream; "
             "a new slot is made and every mapped table is read whole again",
             {{"slot", slot}, {"slot_was", what}});
  if (options_.on_slot_lost) options_.on_slot_lost(what);
  for (const ResolvedTable& t : tables_) CRBRIDGE_RETURN_IF_ERROR(captured.Forget(t, "the replication slot was lost"));
  return found.exists ? stream.DropSlot(slot) : Status::OK();
}

Status PostgresCapture::Drop(const Config& config) {
  std::unique_ptr<ReplicationConnection> stream;
  CRBRIDGE_RETURN_IF_ERROR(ReplicationConnection::Open(config.source.url, std::stop_token(), &stream));
  FoundSlot found;
  CRBRIDGE_RETURN_IF_ERROR(stream->FindSlot(config.source.slot, &found));
  if (found.exists) CRBRIDGE_RETURN_IF_ERROR(stream->DropSlot(config.source.slot));
  return CatchErrors("dropping crbridge's objects", [&] {
    pqxx::connection sql(config.source.url);
    pqxx::work tx(sql);
    tx.exec0("DROP PUBLICATION IF EXISTS " + QuoteIdentifier(config.source.publication));
    tx.exec0("DROP SCHEMA IF EXISTS " + QuoteIdentifier(config.metadata_schema) + " CASCADE");
    const std::string origin = PostgresShadowStore::OriginName(sql.dbname(), config.metadata_schema);
    if (!tx.exec_params("SELECT 1 FROM pg_replication_origin WHERE roname = $1", origin).empty()) {
      tx.exec_params("SELECT pg_replication_origin_drop($1)", origin);
    }
    tx.commit();
    return Status::OK();
  });
}

}  // namespace crbridge::postgres
