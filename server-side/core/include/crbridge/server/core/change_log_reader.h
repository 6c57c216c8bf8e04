// ChangeLogReader: the Kafka sink's side of the change log, the outbox that
// every crbridge write fills in the transaction of its clocks
// (docs/kafka.md): reads events in (db_version, seq) order, deletes those
// Kafka acknowledged, measures what is left, and names the sites the
// events mention. One implementation per dialect, each with a connection
// of its own; OpenChangeLogReader (dialects.h) picks it. Not thread-safe: one reader per
// thread.
//
// Errors: Unavailable when the connection is lost (the reader is then
// unusable: open another), Internal otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/sqlite/change.h"
#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/value.h"

namespace crbridge {

// An event's place in the log. The default precedes every event.
struct ChangeLogPosition {
  int64_t db_version = 0;
  int64_t seq = 0;
};

// One row of the change log as crbridge's writers log it.
struct ChangeLogEvent {
  ChangeLogPosition position;
  std::string table;  // as clients see it
  Blob pk;            // packed primary key
  std::string op;     // "c", "u" or "d"
  int64_t cl = 0;
  std::string key_json;      // {column: value}
  std::string columns_json;  // {column: {value, col_version, site (a site ordinal, 0 the server)}}
  bool from_client = false;
  // App writes: the source position just past the commit of the source
  // transaction (SourcePosition::offset); 0 for client writes.
  int64_t source_position = 0;
  int64_t client_ordinal = 0;  // client writes: the sender's site ordinal
  int64_t source_time_us = 0;
  int64_t recorded_time_us = 0;
};

// What the log holds.
struct ChangeLogBacklog {
  int64_t events = 0;
  // The oldest source position of an app write in it; 0 when there is none.
  int64_t oldest_source_position = 0;
};

class ChangeLogReader {
 public:
  virtual ~ChangeLogReader() = default;

  // The server's site id.
  virtual const SiteId& site_id() const = 0;
  // Stores in *events the first `limit` events after `after`, in order
  // (fewer when the log holds fewer).
  virtual Status ReadAfter(const ChangeLogPosition& after, size_t limit, std::vector<ChangeLogEvent>* events) = 0;
  // Deletes every event up to `through`, inclusive.
  virtual Status DeleteThrough(const ChangeLogPosition& through) = 0;
  virtual Status CountBacklog(ChangeLogBacklog* backlog) = 0;
  // Every client site by ordinal (ordinals never change).
  virtual Status Sites(std::map<int64_t, SiteId>* sites) = 0;
  // A source position as the source's own tools print it.
  virtual std::string FormatSourcePosition(int64_t position) const = 0;
};

}  // namespace crbridge
