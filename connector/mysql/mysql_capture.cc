#include "crbridge/connector/mysql/mysql_capture.h"

#include <mysql.h>

#include <cctype>
#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <thread>

#include "crbridge/connector/capture/column_changes.h"
#include "crbridge/connector/mysql/binlog_change_mapper.h"
#include "crbridge/connector/mysql/binlog_stream.h"
#include "crbridge/connector/mysql/mysql_gtid_set.h"
#include "crbridge/connector/capture/capture_batch.h"
#include "crbridge/connector/capture/capture_hold.h"
#include "crbridge/connector/capture/captured_tables.h"
#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/connector/capture/table_snapshot.h"
#include "crbridge/server/mysql/binlog_position.h"
#include "crbridge/server/core/change_recorder.h"
#include "crbridge/server/mysql/mysql_snapshot_reader.h"
#include "crbridge/server/mysql/mysql_url.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/server/core/source_database.h"
#include "crbridge/server/dialects.h"

namespace crbridge::mysql {
namespace {

using Clock = std::chrono::steady_clock;

// MariaDB's GTID state, the last GTID of each replication domain, as
// @@gtid_binlog_pos prints it ("0-1-97,1-2-5"): where a replica resumes.
class GtidState {
 public:
  // `text` is what this class or the server printed; an element without a
  // domain number is kept under domain 0 rather than thrown on (the server
  // refuses the state when the stream starts, with a clear error).
  explicit GtidState(const std::string& text) {
    size_t start = 0;
    while (start < text.size()) {
      const size_t comma = std::min(text.find(',', start), text.size());
      const std::string gtid = text.substr(start, comma - start);
      uint32_t domain = 0;
      std::from_chars(gtid.data(), gtid.data() + gtid.size(), domain);
      last_[domain] = gtid;
      start = comma + 1;
    }
  }

  void Set(uint32_t domain, uint32_t server_id, uint64_t sequence) {
    last_[domain] = std::to_string(domain) + "-" + std::to_string(server_id) + "-" + std::to_string(sequence);
  }

  std::string ToString() const {
    std::string out;
    for (const auto& [domain, gtid] : last_) out += (out.empty() ? "" : ",") + gtid;
    return out;
  }

 private:
  std::map<uint32_t, std::string> last_;
};

// Where capture resumes, advanced by each transaction read whole:
// MariaDB's GTID state or MySQL's executed GTID set, as the server is.
class ResumeState {
 public:
  static Status Parse(MysqlFlavor flavor, const std::string& text, ResumeState* state) {
    state->flavor_ = flavor;
    state->mariadb_ = GtidState(flavor == MysqlFlavor::kMariaDb ? text : "");
    if (flavor == MysqlFlavor::kMysql) return MysqlGtidSet::Parse(text, &state->mysql_);
    return Status::OK();
  }

  void Add(const BinlogMysqlGtid& gtid) { mysql_.Add(gtid.source_uuid, gtid.tag, gtid.gno); }
  void Add(uint32_t domain, uint32_t server_id, uint64_t sequence) { mariadb_.Set(domain, server_id, sequence); }

  std::string ToString() const { return flavor_ == MysqlFlavor::kMysql ? mysql_.ToString() : mariadb_.ToString(); }

 private:
  MysqlFlavor flavor_ = MysqlFlavor::kMariaDb;
  GtidState mariadb_{""};
  MysqlGtidSet mysql_;
};

// Whether `sql` starts with `words` (upper case, one space between),
// whatever their case and the spaces between them.
bool StartsWithWord(const std::string& sql, std::string_view words) {
  size_t at = 0;
  for (const char want : words) {
    if (want == ' ') {
      if (at >= sql.size() || !std::isspace(static_cast<unsigned char>(sql[at]))) return false;
      while (at < sql.size() && std::isspace(static_cast<unsigned char>(sql[at]))) ++at;
      continue;
    }
    if (at >= sql.size() || std::toupper(static_cast<unsigned char>(sql[at])) != want) return false;
    ++at;
  }
  return at == sql.size() || !std::isalnum(static_cast<unsigned char>(sql[at]));
}

// A database and table name as a statement spells them.
struct TableName {
  std::string database;  // "" when the statement does not say
  std::string table;
};

// A name bare or in backquotes (a doubled backquote stands for one).
std::string Unquoted(const std::string& name) {
  if (!name.starts_with('`')) return name;
  std::string out;
  for (size_t i = 1; i + 1 < name.size(); ++i) {
    out += name[i];
    if (name[i] == '`') ++i;
  }
  return out;
}

// The table `statement` names in its groups 1 (schema or table) and 2
// (table), when `sql` is such a statement.
std::optional<TableName> NamedTable(const std::string& sql, const std::regex& statement) {
  std::smatch match;
  if (!std::regex_match(sql, match, statement)) return std::nullopt;
  if (!match[2].matched) return TableName{"", Unquoted(match[1])};
  return TableName{Unquoted(match[1]), Unquoted(match[2])};
}

// The table a TRUNCATE [TABLE] statement empties; nullopt for any other
// statement. The binary log holds the statement as the app sent it.
std::optional<TableName> TruncatedTable(const std::string& sql) {
  static const std::regex kTruncate(
      R"(^\s*TRUNCATE\s+(?:TABLE\s+)?((?:`(?:[^`]|``)+`)|[\w$]+)(?:\s*\.\s*((?:`(?:[^`]|``)+`)|[\w$]+))?(?:[\s;][\s\S]*)?$)",
      std::regex::icase | std::regex::optimize);
  return NamedTable(sql, kTruncate);
}

// The tables a DDL statement renames, drops or creates (a table created
// under a mapped name, or one renamed to or from it, is another table
// than the one captured); none for other statements (ALTER TABLE without
// RENAME, temporary tables). The binary log holds the statement as the app
// sent it. A name it does not spell as a table costs a needless read, never
// a missed one.
std::vector<TableName> TablesRenamedOrReplaced(const std::string& statement) {
  static const std::regex kComment(R"(/\*[\s\S]*?\*/)");
  static const std::regex kAllNames(R"(^\s*(?:RENAME\s+TABLES?|DROP\s+TABLES?)\s+([\s\S]*)$)", std::regex::icase);
  static const std::regex kCreate(
      R"(^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\s\S]*)$)", std::regex::icase);
  static const std::regex kAlterRename(R"(^\s*ALTER\s+[\s\S]*\bTABLE\s+([\s\S]*\bRENAME\b[\s\S]*)$)",
                                       std::regex::icase);
  static const std::regex kName(R"(((?:`(?:[^`]|``)+`)|[\w$]+)(?:\s*\.\s*((?:`(?:[^`]|``)+`)|[\w$]+))?)");
  const std::string sql = std::regex_replace(statement, kComment, " ");
  std::smatch match;
  bool first_only = false;
  if (std::regex_match(sql, match, kCreate)) {
    first_only = true;
  } else if (!std::regex_match(sql, match, kAllNames) && !std::regex_match(sql, match, kAlterRename)) {
    return {};
  }
  std::vector<TableName> names;
  const std::string rest = match[1];
  for (auto it = std::sregex_iterator(rest.begin(), rest.end(), kName); it != std::sregex_iterator(); ++it) {
    const std::smatch& name = *it;
    names.push_back(name[2].matched ? TableName{Unquoted(name[1]), Unquoted(name[2])} : TableName{"", Unquoted(name[1])});
    if (first_only) break;
  }
  return names;
}

// The table an ALTER TABLE statement alters; nullopt for any other
// statement.
std::optional<TableName> AlteredTable(const std::string& sql) {
  static const std::regex kAlter(
      R"(^\s*ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?((?:`(?:[^`]|``)+`)|[\w$]+)(?:\s*\.\s*((?:`(?:[^`]|``)+`)|[\w$]+))?[\s\S]*$)",
      std::regex::icase | std::regex::optimize);
  return NamedTable(sql, kAlter);
}

Status SnapshotTable(MysqlSnapshotReader& reader, const ResolvedTable& t, int64_t position,
                     const std::optional<std::string>& capture_resume, ChangeRecorder& recorder,
                     const CaptureOptions& options, Metrics& metrics, std::stop_token stop) {
  int64_t total = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.CountRows(t, &total));
  TableSnapshot snapshot(t, position, capture_resume, total, recorder, options, metrics);
  return reader.ReadTable(
      t, options.snapshot_batch_rows,
      [&](const MysqlSnapshotReader::Field& field) {
        snapshot.AddRow(field);
        return Status::OK();
      },
      [&](bool last) {
        if (stop.stop_requested()) return Status::Cancelled("stopped during the snapshot of " + t.mapping->name);
        return snapshot.Record(last);
      });
}

// Asks whether each mapped table's name names a table now and tells
// `captured`. The binary log tells every change of a name (as DDL), so the
// table there is the one capture follows.
Status CheckTables(SourceDatabase& source, const std::vector<ResolvedTable>& tables, CapturedTables& captured) {
  for (const ResolvedTable& t : tables) {
    ServerTable found_table;
    bool found = false;
    CRBRIDGE_RETURN_IF_ERROR(source.ReadTable(t.mapping->source_schema, t.mapping->source_table, &found_table, &found));
    CRBRIDGE_RETURN_IF_ERROR(
        captured.Saw(t, found ? CapturedTables::Named::kTheSameTable : CapturedTables::Named::kNothing));
  }
  captured.Checked(CapturedTables::Clock::now());
  return Status::OK();
}

// Reads transactions off the binlog and records them, a batch at a time.
class BinlogStreamer {
 public:
  BinlogStreamer(BinlogStream& stream, ChangeRecorder& recorder, CapturedTables& captured, SourceDatabase& source,
                 const std::vector<ResolvedTable>& tables, std::string default_database, std::string metadata_database,
                 ResumeState start_state, const CaptureOptions& options, Metrics& metrics)
      : stream_(stream),
        batch_(recorder, options, metrics),
        captured_(captured),
        source_(source),
        tables_(tables),
        default_database_(default_database),
        mapper_(tables, std::move(default_database)),
        metadata_database_(std::move(metadata_database)),
        state_(std::move(start_state)),
        hold_(options) {}

  // The GTID state after the last transaction read whole.
  std::string gtid_state() const { return state_.ToString(); }

  // Streams until `stop` (then OK) or an error; or until a mapped table is
  // to be read whole again: then what waits is recorded and it returns OK
  // with `*read_again` set, for the caller to read it and stream again.
  Status Run(std::stop_token stop, bool* read_again) {
    *read_again = false;
    while (!stop.stop_requested()) {
      // DDL tells of every renamed or replaced table: only a table away or
      // to read needs asking after.
      if (!captured_.Settled() && captured_.CheckDue(Clock::now())) {
        CRBRIDGE_RETURN_IF_ERROR(CheckTables(source_, tables_, captured_));
        if (captured_.ReadDue()) {
          *read_again = true;
          return batch_.empty() ? Status::OK() : batch_.Flush(state_.ToString());
        }
      }
      // Holding, the binlog keeps what is not read until Kafka's backlog drains.
      if (hold_.Holding(Clock::now())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      BinlogEvent event;
      if (const Status s = stream_.Next(&event); !s.ok()) {
        if (s.code() == Status::Code::kCancelled && stop.stop_requested()) break;
        return s;
      }
      CRBRIDGE_RETURN_IF_ERROR(OnEvent(event));
      // With transactions waiting, a stream that goes quiet even briefly is
      // caught up: they are recorded at once rather than after the delay
      // (an app updating a row faster than capture records it would keep
      // that row out of pulls, as its values are ahead of its clock).
      if (batch_.Due(Clock::now()) || (!batch_.empty() && !stream_.EventWithin(std::chrono::milliseconds(1)))) {
        CRBRIDGE_RETURN_IF_ERROR(batch_.Flush(state_.ToString()));
      }
    }
    return batch_.empty() ? Status::OK() : batch_.Flush(state_.ToString());
  }

 private:
  Status OnEvent(const BinlogEvent& event) {
    if (const auto* gtid = std::get_if<BinlogMariaDbGtid>(&event.data)) {
      StartGroup();
      standalone_ = (gtid->flags & kMariaDbGtidStandalone) != 0;
      gtid_ = {gtid->domain_id, event.header.server_id, gtid->sequence};
    } else if (const auto* mysql_gtid = std::get_if<BinlogMysqlGtid>(&event.data)) {
      // Without GTIDs capture could not resume where it stopped.
      if (mysql_gtid->anonymous) {
        return Status::InvalidArgument("the binary log holds a transaction without a GTID: capture needs "
                                       "gtid_mode = ON (and enforce_gtid_consistency = ON)");
      }
      StartGroup();
      // One DDL statement, unless a "BEGIN" follows.
      standalone_ = true;
      mysql_gtid_ = *mysql_gtid;
    } else if (const auto* table = std::get_if<BinlogTableMap>(&event.data)) {
      // crbridge's writes start with the update of its version counter.
      if (table->database == metadata_database_ && table->table == "clock") own_ = true;
      CRBRIDGE_RETURN_IF_ERROR(mapper_.OnTableMap(*table));
    } else if (const auto* rows = std::get_if<BinlogRowsEvent>(&event.data)) {
      if (!own_) CRBRIDGE_RETURN_IF_ERROR(mapper_.OnRows(*rows, &current_.rows));
    } else if (std::holds_alternative<BinlogXid>(event.data)) {
      return EndGroup(event);
    } else if (const auto* prepare = std::get_if<BinlogXaPrepare>(&event.data)) {
      return prepare->one_phase ? EndGroup(event) : EndPreparedXa(event, "XA PREPARE");
    } else if (const auto* query = std::get_if<BinlogQuery>(&event.data)) {
      if (in_group_ && (query->sql == "BEGIN" || StartsWithWord(query->sql, "XA START"))) {
        standalone_ = false;
        return Status::OK();
      }
      // MariaDB ends an XA transaction's first part with the statement.
      if (in_group_ && StartsWithWord(query->sql, "XA PREPARE")) return EndPreparedXa(event, query->sql);
      // DDL and non-transactional groups end with their statement.
      if (!in_group_ || !(standalone_ || query->sql == "COMMIT")) return Status::OK();
      if (!own_) {
        AddTruncate(*query);
        CRBRIDGE_RETURN_IF_ERROR(ForgetRenamedOrReplaced(*query));
        CRBRIDGE_RETURN_IF_ERROR(CheckAddedColumns(*query));
      }
      return EndGroup(event);
    } else if (std::holds_alternative<BinlogHeartbeat>(event.data)) {
      // The server had nothing for a heartbeat period: what waits is recorded now.
      if (!batch_.empty()) return batch_.Flush(state_.ToString());
    }
    return Status::OK();
  }

  // A TRUNCATE is DDL on MySQL and MariaDB: the binlog holds the statement,
  // not a delete per row. Every row of a mapped table it empties dies, as
  // with pgoutput's Truncate.
  void AddTruncate(const BinlogQuery& query) {
    const std::optional<TableName> name = TruncatedTable(query.sql);
    if (!name) return;
    const std::string& database = name->database.empty() ? query.database : name->database;
    for (const ResolvedTable& t : tables_) {
      const std::string& source = t.mapping->source_schema.empty() ? default_database_ : t.mapping->source_schema;
      if (source == database && t.mapping->source_table == name->table) {
        current_.rows.push_back(CapturedRow{CapturedRow::Kind::kTruncate, &t, {}, {}});
      }
    }
  }

  // A mapped table that DDL renamed, dropped or created is read whole
  // again once its name names a table: its writes under another name never
  // reach capture as its own.
  // An ALTER TABLE of a mapped table may add or drop a column before any
  // row shows it: its columns are read from the catalog
  // (CheckColumnsFollowed), so that clients of the new schema are served
  // before the app writes it, and merges stop writing a dropped one.
  Status CheckAddedColumns(const BinlogQuery& query) {
    const std::optional<TableName> altered = AlteredTable(query.sql);
    if (!altered) return Status::OK();
    const std::string& database = altered->database.empty() ? query.database : altered->database;
    for (const ResolvedTable& t : tables_) {
      const std::string& source = t.mapping->source_schema.empty() ? default_database_ : t.mapping->source_schema;
      if (source != database || t.mapping->source_table != altered->table) continue;
      ServerTable now;
      bool found = false;
      CRBRIDGE_RETURN_IF_ERROR(source_.ReadTable(t.mapping->source_schema, t.mapping->source_table, &now, &found));
      if (!found) continue;
      std::vector<std::string> columns;
      for (const ServerColumn& column : now.columns) columns.push_back(column.name);
      CRBRIDGE_RETURN_IF_ERROR(CheckColumnsFollowed(t, columns));
    }
    return Status::OK();
  }

  Status ForgetRenamedOrReplaced(const BinlogQuery& query) {
    int64_t position = 0;
    CRBRIDGE_RETURN_IF_ERROR(EncodeBinlogOffset(BinlogPosition{stream_.file_name(), stream_.position()}, &position));
    for (const TableName& name : TablesRenamedOrReplaced(query.sql)) {
      const std::string& database = name.database.empty() ? query.database : name.database;
      for (const ResolvedTable& t : tables_) {
        const std::string& source = t.mapping->source_schema.empty() ? default_database_ : t.mapping->source_schema;
        if (source != database || t.mapping->source_table != name.table || captured_.Superseded(t, position)) continue;
        CRBRIDGE_RETURN_IF_ERROR(captured_.Forget(t, "DDL renamed, dropped or created it: " + query.sql));
        captured_.CheckSoon();
      }
    }
    return Status::OK();
  }

  // The first part of an XA transaction ends prepared: its rows are
  // committed, or not, by a later XA COMMIT or XA ROLLBACK, which the
  // binary log holds apart from them. Capture does not keep them until
  // then: with rows of mapped tables it stops, saying so, rather than record
  // rows that may be rolled back or drop rows that commit.
  Status EndPreparedXa(const BinlogEvent& event, const std::string& statement) {
    if (!own_ && !current_.rows.empty()) {
      return Status::InvalidArgument("an XA transaction wrote mapped tables (" + statement +
                                     "): crbridge cannot capture two-phase XA transactions; commit such writes "
                                     "without XA, or with XA COMMIT ... ONE PHASE");
    }
    return EndGroup(event);
  }

  void StartGroup() {
    in_group_ = true;
    own_ = false;
    mysql_gtid_.reset();
    current_ = CapturedTransaction{};
  }

  Status EndGroup(const BinlogEvent& event) {
    in_group_ = false;
    if (mysql_gtid_) {
      state_.Add(*mysql_gtid_);
    } else {
      state_.Add(gtid_.domain, gtid_.server_id, gtid_.sequence);
    }
    CRBRIDGE_RETURN_IF_ERROR(
        EncodeBinlogOffset(BinlogPosition{stream_.file_name(), stream_.position()}, &current_.end_position));
    captured_.DropSuperseded(&current_);
    if (current_.rows.empty()) return Status::OK();
    current_.commit_time_us = static_cast<int64_t>(event.header.timestamp) * 1000000;
    batch_.Add(std::move(current_));
    current_ = CapturedTransaction{};
    return Status::OK();
  }

  struct Gtid {
    uint32_t domain = 0;
    uint32_t server_id = 0;
    uint64_t sequence = 0;
  };

  BinlogStream& stream_;
  CaptureBatch batch_;
  CapturedTables& captured_;
  SourceDatabase& source_;
  const std::vector<ResolvedTable>& tables_;
  const std::string default_database_;
  BinlogChangeMapper mapper_;
  std::string metadata_database_;
  ResumeState state_;
  bool in_group_ = false;
  bool own_ = false;
  bool standalone_ = false;
  Gtid gtid_;                                 // MariaDB's
  std::optional<BinlogMysqlGtid> mysql_gtid_;  // or MySQL's
  CapturedTransaction current_;
  CaptureHold hold_;
};

}  // namespace

namespace {

Status PurgedGtid(const std::string& state, const Status& refused) {
  return Status::InvalidArgument("the binary log no longer holds GTID " + state +
                                 " (purged while crbridge was away): changes made since cannot be captured. Run "
                                 "`crbridge drop` and start again to take a new snapshot (" + refused.message() + ")");
}

// Without these settings the binary log lacks app writes or the names
// and keys to map them; they may have changed since crbridge started.
Status CheckServerSettings(const SourceConfig& source) {
  std::vector<std::string> problems;
  CRBRIDGE_RETURN_IF_ERROR(NewSourceDatabase(source)->CheckSettings(&problems));
  if (problems.empty()) return Status::OK();
  std::string message = "the server cannot feed capture:";
  for (const std::string& problem : problems) message += " " + problem + ";";
  message.back() = '.';
  return Status::InvalidArgument(message);
}

}  // namespace

Status MysqlCapture::RunUntilStopped(std::stop_token stop) {
  const std::string& url = config_.source.url;
  MysqlUrl parsed;
  CRBRIDGE_RETURN_IF_ERROR(ParseMysqlUrl(url, &parsed));
  CRBRIDGE_RETURN_IF_ERROR(CheckServerSettings(config_.source));
  std::unique_ptr<ShadowStore> writer;
  CRBRIDGE_RETURN_IF_ERROR(OpenShadowStore(config_, tables_, ShadowStore::Marking::kNone, &writer));
  writer->set_logs_changes(config_.kafka.has_value());
  ChangeRecorder recorder(*writer, SourceType::kMysql, tables_);
  CRBRIDGE_RETURN_IF_ERROR(ReportStandingRejections(recorder));
  CapturedTables captured(tables_, *writer, options_, metrics_);
  CRBRIDGE_RETURN_IF_ERROR(captured.Load());
  SourcePosition stored;
  CRBRIDGE_RETURN_IF_ERROR(writer->CapturePosition(&stored));
  const std::unique_ptr<SourceDatabase> source = NewSourceDatabase(config_.source);

  // Never streamed: every table is read from one snapshot, and the stream
  // starts where it ends. Later, a table added to the config or to read
  // again is read from a snapshot of its own, behind the stream: changes
  // the stream still brings from before it are dropped.
  bool first_start = stored.offset == 0;
  std::string start_state = stored.resume;
  for (;;) {
    CRBRIDGE_RETURN_IF_ERROR(CheckTables(*source, tables_, captured));
    if (first_start || captured.ReadDue()) {
      std::unique_ptr<MysqlSnapshotReader> reader;
      CRBRIDGE_RETURN_IF_ERROR(MysqlSnapshotReader::Open(url, &reader));
      int64_t offset = 0;
      CRBRIDGE_RETURN_IF_ERROR(EncodeBinlogOffset(reader->position(), &offset));
      std::optional<std::string> capture_resume;
      if (first_start) {
        start_state = reader->gtid_state();
        capture_resume = start_state;
        log::Info("capture", "snapshot taken", {{"binlog_file", reader->position().file},
                                                {"binlog_position", reader->position().position},
                                                {"gtid", start_state}});
      }
      for (const ResolvedTable* t : captured.ToRead()) {
        CRBRIDGE_RETURN_IF_ERROR(
            SnapshotTable(*reader, *t, offset, capture_resume, recorder, options_, metrics_, stop));
        captured.Read(*t, offset);
      }
      first_start = false;
    }

    BinlogStreamOptions stream_options;
    stream_options.server_id = config_.source.server_id;
    stream_options.start = BinlogStart::AtGtid(start_state);
    std::unique_ptr<BinlogStream> stream;
    const Status opened = BinlogStream::Open(url, stream_options, stop, &stream);
    if (opened.code() == Status::Code::kNotFound) return PurgedGtid(start_state, opened);
    CRBRIDGE_RETURN_IF_ERROR(opened);
    log::Info("capture", "streaming", {{"gtid", start_state}});
    if (options_.on_streaming) options_.on_streaming();
    ResumeState resume;
    CRBRIDGE_RETURN_IF_ERROR(ResumeState::Parse(stream->server_version().flavor, start_state, &resume));
    BinlogStreamer streamer(*stream, recorder, captured, *source, tables_, parsed.database, config_.metadata_schema,
                            std::move(resume), options_, metrics_);
    // The server refuses an unknown GTID state when the dump starts, which
    // the first read reports.
    bool read_again = false;
    const Status streamed = streamer.Run(stop, &read_again);
    if (streamed.code() == Status::Code::kNotFound) return PurgedGtid(start_state, streamed);
    if (!streamed.ok() || !read_again) return streamed;
    start_state = streamer.gtid_state();
  }
}

Status MysqlCapture::Drop(const Config& config) {
  MysqlUrl url;
  CRBRIDGE_RETURN_IF_ERROR(ParseMysqlUrl(config.source.url, &url));
  const std::string& metadata = config.metadata_schema;
  // A metadata database that holds app tables too would take them along.
  bool app_database = metadata == url.database;
  for (const TableMapping& mapping : config.tables) app_database |= mapping.source_schema == metadata;
  if (app_database) {
    return Status::InvalidArgument("the metadata database " + metadata +
                                   " holds the app's tables; drop crbridge's tables in it by hand");
  }
  std::unique_ptr<MYSQL, decltype(&mysql_close)> mysql(mysql_init(nullptr), &mysql_close);
  if (mysql == nullptr) return Status::Internal("mysql_init failed");
  // The config allows identifiers only: nothing to escape.
  const std::string drop = "DROP DATABASE IF EXISTS `" + metadata + "`";
  if (mysql_real_connect(mysql.get(), url.host.c_str(), url.user.c_str(), url.password.c_str(), nullptr, url.port,
                         nullptr, 0) == nullptr ||
      mysql_real_query(mysql.get(), drop.data(), drop.size()) != 0) {
    return Status::Unavailable("mysql: dropping " + metadata + ": " + mysql_error(mysql.get()) + " (error " +
                               std::to_string(mysql_errno(mysql.get())) + ")");
  }
  return Status::OK();
}

}  // namespace crbridge::mysql
