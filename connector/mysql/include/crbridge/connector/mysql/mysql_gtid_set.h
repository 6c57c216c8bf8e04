// MysqlGtidSet: a MySQL GTID set, the transactions a server (or crbridge)
// has seen: for each source uuid, and each tag of it (MySQL 8.3+), the
// ranges of transaction numbers. Capture keeps one as its resume state,
// adding each transaction it reads whole, and streams again from it with
// COM_BINLOG_DUMP_GTID. Sets name many uuids after failovers. A plain
// value; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

class MysqlGtidSet {
 public:
  using Uuid = std::array<uint8_t, 16>;

  // Reads a set as MySQL prints it (@@gtid_executed, SHOW BINARY LOG
  // STATUS): "uuid:1-5:7,uuid2:1-3:tag:1-9" (a tag applies to the ranges
  // after it), whitespace ignored, "" for the empty set. InvalidArgument
  // naming the part that is not a uuid, a tag or a range.
  static Status Parse(std::string_view text, MysqlGtidSet* set);

  // Adds transaction `gno` of `uuid` under `tag` ("" for none).
  void Add(const Uuid& uuid, const std::string& tag, uint64_t gno);

  bool Contains(const Uuid& uuid, const std::string& tag, uint64_t gno) const;

  // MySQL's own form: uuids in order, each once, its untagged ranges first,
  // then each tag in order with its ranges; adjacent ranges joined.
  std::string ToString() const;

  // The set as COM_BINLOG_DUMP_GTID carries it: the number of (uuid, tag)
  // pairs (in the tagged format when a tag is present), then each pair's
  // uuid, tag and ranges (end exclusive).
  std::string Encode() const;

 private:
  // Ranges by first number: the last number of each (inclusive).
  using Ranges = std::map<uint64_t, uint64_t>;
  // Adds first..last (inclusive), joined with the ranges it touches.
  void AddRange(const Uuid& uuid, const std::string& tag, uint64_t first, uint64_t last);

  std::map<std::pair<Uuid, std::string>, Ranges> ranges_;
};

}  // namespace crbridge::mysql
