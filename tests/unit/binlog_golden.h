// Golden binlog events under tests/data/binlog/: raw events captured from
// the MariaDB fixture by binlog_golden_test (integration; run it with
// CRBRIDGE_WRITE_BINLOG_GOLDEN=1 to capture them again), and the rows they
// decode to, rendered one value a line, so that the unit test decodes the
// same bytes without a server. Header-only; stateless.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "crbridge/connector/mysql/binlog_rows.h"

namespace crbridge::testing {
using namespace crbridge::mysql;  // the dialect under test

inline std::string RenderBinlogValue(const BinlogValue& value) {
  struct Render {
    std::string operator()(const BinlogNull&) const { return "NULL"; }
    std::string operator()(int64_t v) const { return "i:" + std::to_string(v); }
    std::string operator()(uint64_t v) const { return "u:" + std::to_string(v); }
    std::string operator()(double v) const {
      char text[40];
      std::snprintf(text, sizeof text, "d:%.17g", v);
      return text;
    }
    std::string operator()(const std::string& v) const { return "s:" + Escaped(v); }
    std::string operator()(const BinlogBytes& v) const {
      std::string hex = "b:";
      char byte[3];
      for (const char c : v.data) {
        std::snprintf(byte, sizeof byte, "%02x", static_cast<unsigned>(static_cast<uint8_t>(c)));
        hex += byte;
      }
      return hex;
    }
    static std::string Escaped(const std::string& text) {
      std::string out;
      char escape[5];
      for (const char c : text) {
        const auto byte = static_cast<uint8_t>(c);
        if (byte < 0x20 || byte == '\\' || byte == 0x7f) {
          std::snprintf(escape, sizeof escape, "\\x%02x", static_cast<unsigned>(byte));
          out += escape;
        } else {
          out += c;
        }
      }
      return out;
    }
  };
  return std::visit(Render{}, value);
}

// "event 3 row 0 after c_int = i:-5", one line per value of every ROWS
// event, each decoded with the latest TABLE_MAP of its table id.
// `events` are whole events as DecodeBinlogEvent takes them (CRC32 on).
inline std::vector<std::string> RenderBinlogRows(const std::vector<std::string>& events) {
  std::vector<std::string> lines;
  std::map<uint64_t, BinlogTableMap> maps;
  for (size_t e = 0; e < events.size(); ++e) {
    BinlogEvent event;
    const Status decoded = DecodeBinlogEvent(events[e], BinlogChecksum::kCrc32, &event);
    if (!decoded.ok()) {
      lines.push_back("event " + std::to_string(e) + ": " + decoded.ToString());
      continue;
    }
    if (const auto* map = std::get_if<BinlogTableMap>(&event.data)) maps[map->table_id] = *map;
    const auto* rows = std::get_if<BinlogRowsEvent>(&event.data);
    if (rows == nullptr) continue;
    const BinlogTableMap& map = maps[rows->table_id];
    std::vector<BinlogRowChange> changes;
    const Status s = DecodeBinlogRows(map, *rows, &changes);
    if (!s.ok()) {
      lines.push_back("event " + std::to_string(e) + ": " + s.ToString());
      continue;
    }
    for (size_t r = 0; r < changes.size(); ++r) {
      const auto render = [&](const char* image, const BinlogRowImage& values) {
        for (const BinlogColumnValue& v : values) {
          lines.push_back("event " + std::to_string(e) + " row " + std::to_string(r) + " " + image + " " +
                          map.columns[v.column].name + " = " + RenderBinlogValue(v.value));
        }
      };
      render("before", changes[r].before);
      render("after", changes[r].after);
    }
  }
  return lines;
}

}  // namespace crbridge::testing
