#include "crbridge/connector/mysql/mysql_gtid_set.h"

#include "binlog_reader.h"
#include "crbridge/connector/mysql/binlog_events.h"

#include <cctype>
#include <charconv>
#include <vector>

namespace crbridge::mysql {
namespace {

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool ParseUuid(std::string_view text, MysqlGtidSet::Uuid* uuid) {
  if (text.size() != 36) return false;
  size_t byte = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      ++i;
      continue;
    }
    uint8_t value = 0;
    const auto [end, error] = std::from_chars(text.data() + i, text.data() + i + 2, value, 16);
    if (error != std::errc() || end != text.data() + i + 2) return false;
    (*uuid)[byte++] = value;
    i += 2;
  }
  return byte == 16;
}

// MySQL's tags: a letter or underscore, then letters, digits and
// underscores, 32 at most; case does not matter (printed in lower case).
bool IsTag(std::string_view text) {
  if (text.empty() || text.size() > 32 || std::isdigit(static_cast<unsigned char>(text[0]))) return false;
  for (const char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

bool ParseNumber(std::string_view text, uint64_t* number) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *number);
  // MySQL's largest: one less, so that a range's end past it still fits.
  return !text.empty() && error == std::errc() && end == text.data() + text.size() && *number > 0 &&
         *number < (uint64_t{1} << 63) - 1;
}

}  // namespace

Status MysqlGtidSet::Parse(std::string_view text, MysqlGtidSet* set) {
  std::string compact;
  for (const char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) compact.push_back(c);
  }
  MysqlGtidSet parsed;
  if (compact.empty()) {
    *set = std::move(parsed);
    return Status::OK();
  }
  for (const std::string_view element : Split(compact, ',')) {
    const std::vector<std::string_view> parts = Split(element, ':');
    Uuid uuid{};
    if (!ParseUuid(parts[0], &uuid)) {
      return Status::InvalidArgument("GTID set \"" + compact + "\": \"" + std::string(parts[0]) + "\" is not a uuid");
    }
    std::string tag;
    for (size_t i = 1; i < parts.size(); ++i) {
      const std::string_view part = parts[i];
      if (IsTag(part)) {
        tag.clear();
        for (const char c : part) tag.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        continue;
      }
      const size_t dash = part.find('-');
      uint64_t first = 0;
      uint64_t last = 0;
      const bool range = ParseNumber(part.substr(0, dash), &first) &&
                         (dash == std::string_view::npos ? (last = first, true)
                                                         : ParseNumber(part.substr(dash + 1), &last)) &&
                         first <= last;
      if (!range) {
        return Status::InvalidArgument("GTID set \"" + compact + "\": \"" + std::string(part) +
                                       "\" is neither a tag nor a range of transaction numbers");
      }
      parsed.AddRange(uuid, tag, first, last);
    }
  }
  *set = std::move(parsed);
  return Status::OK();
}

void MysqlGtidSet::Add(const Uuid& uuid, const std::string& tag, uint64_t gno) { AddRange(uuid, tag, gno, gno); }

void MysqlGtidSet::AddRange(const Uuid& uuid, const std::string& tag, uint64_t first, uint64_t last) {
  Ranges& ranges = ranges_[{uuid, tag}];
  // Joined with every range it overlaps or touches.
  auto at = ranges.upper_bound(first);
  if (at != ranges.begin() && std::prev(at)->second + 1 >= first) --at;
  while (at != ranges.end() && at->first <= last + 1) {
    first = std::min(first, at->first);
    last = std::max(last, at->second);
    at = ranges.erase(at);
  }
  ranges[first] = last;
}

bool MysqlGtidSet::Contains(const Uuid& uuid, const std::string& tag, uint64_t gno) const {
  const auto found = ranges_.find({uuid, tag});
  if (found == ranges_.end()) return false;
  const auto after = found->second.upper_bound(gno);
  return after != found->second.begin() && std::prev(after)->second >= gno;
}

std::string MysqlGtidSet::ToString() const {
  std::string text;
  const Uuid* previous = nullptr;
  for (const auto& [key, ranges] : ranges_) {
    if (ranges.empty()) continue;
    const auto& [uuid, tag] = key;
    if (previous == nullptr || *previous != uuid) {
      if (previous != nullptr) text += ",";
      text += FormatMysqlUuid(uuid);
      previous = &uuid;
    }
    if (!tag.empty()) text += ":" + tag;
    for (const auto& [first, last] : ranges) {
      text += ":" + std::to_string(first);
      if (last != first) text += "-" + std::to_string(last);
    }
  }
  return text;
}

std::string MysqlGtidSet::Encode() const {
  uint64_t pairs = 0;
  bool tagged = false;
  for (const auto& [key, ranges] : ranges_) {
    if (ranges.empty()) continue;
    ++pairs;
    tagged |= !key.second.empty();
  }
  std::string out;
  // The tagged format marks its first and last header bytes with 1 and
  // counts in the six between.
  AppendLittleEndian(&out, tagged ? (uint64_t{1} << 56) | (pairs << 8) | 1 : pairs, 8);
  for (const auto& [key, ranges] : ranges_) {
    if (ranges.empty()) continue;
    const auto& [uuid, tag] = key;
    out.append(reinterpret_cast<const char*>(uuid.data()), uuid.size());
    // A tag's length as a one-byte integer of MySQL's serialization
    // library (length << 1; tags have 32 characters at most), then its bytes.
    if (tagged) {
      out.push_back(static_cast<char>(tag.size() << 1));
      out += tag;
    }
    AppendLittleEndian(&out, ranges.size(), 8);
    for (const auto& [first, last] : ranges) {
      AppendLittleEndian(&out, first, 8);
      AppendLittleEndian(&out, last + 1, 8);
    }
  }
  return out;
}

}  // namespace crbridge::mysql
