#include "date_time_text.h"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <regex>

namespace crbridge {
namespace {

// Years are astronomical: 1 BC is year 0, 2 BC year -1 (Postgres's
// proleptic Gregorian calendar).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

int64_t DaysInMonth(SourceType source, int64_t year, int64_t month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  // MariaDB does not count its year 0 as a leap year.
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) && !(source == SourceType::kMysql && year == 0);
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// A date or timestamp as a client wrote it.
struct Parsed {
  int64_t year = 0;  // astronomical
  int64_t month = 0, day = 0;
  bool has_time = false;
  int64_t seconds = 0;   // of the day
  std::string fraction;  // digits after the point, as written
  std::optional<int> offset_minutes;
};

// The calendar and the range each server's dates and timestamps take.
struct Range {
  int64_t min_year, max_year;  // astronomical
  size_t max_year_digits;
};

Range RangeOf(SourceType source, bool timestamp) {
  if (source == SourceType::kMysql) return Range{0, 9999, 4};
  // Postgres: from 4713 BC; dates to 5874897, timestamps to 294276.
  return timestamp ? Range{-4712, 294276, 6} : Range{-4712, 5874897, 7};
}

bool Parse(SourceType source, std::string_view input, bool timestamp, Parsed* out, std::string* why) {
  static const std::regex kPattern(
      R"((\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?( BC)?)");
  const std::string text(input);
  std::smatch m;
  const Range range = RangeOf(source, timestamp);
  if (!std::regex_match(text, m, kPattern) || m[4].matched != timestamp || m[1].length() > static_cast<long>(range.max_year_digits) ||
      (source == SourceType::kMysql && m[9].matched)) {
    *why = timestamp ? "expected YYYY-MM-DDTHH:MM:SS[.ffffff]" : "expected YYYY-MM-DD";
    if (source == SourceType::kPostgres) *why += " (' BC' after it for years before 1), 'infinity' or '-infinity'";
    return false;
  }
  const int64_t written_year = std::stoll(m[1]);
  out->year = m[9].matched ? 1 - written_year : written_year;
  out->month = std::stoi(m[2]);
  out->day = std::stoi(m[3]);
  const bool zero_date = source == SourceType::kMysql && (out->month == 0 || out->day == 0);
  if ((source == SourceType::kPostgres && written_year == 0) || out->year < range.min_year ||
      out->year > range.max_year) {
    *why = "the year is out of the server's range";
    return false;
  }
  if (out->month > 12 || out->day > 31 ||
      (!zero_date && (out->month < 1 || out->day < 1 || out->day > DaysInMonth(source, out->year, out->month)))) {
    *why = "not a day of the calendar";
    return false;
  }
  if (timestamp) {
    const int64_t hour = std::stoi(m[4]), minute = std::stoi(m[5]), second = m[6].matched ? std::stoi(m[6]) : 0;
    if (hour > 23 || minute > 59 || second > 59) {
      *why = "not a time of day";
      return false;
    }
    out->has_time = true;
    out->seconds = hour * 3600 + minute * 60 + second;
    out->fraction = m[7].matched ? m[7].str() : "";
    if (m[8].matched) {
      const std::string offset = m[8].str();
      int minutes = 0;
      if (offset != "Z") {
        const int sign = offset[0] == '-' ? -1 : 1;
        const std::string rest = offset.size() > 3 ? offset.substr(offset.size() - 2) : "0";
        minutes = sign * (std::stoi(offset.substr(1, 2)) * 60 + std::stoi(rest));
      }
      out->offset_minutes = minutes;
    }
  }
  return true;
}

// The server's text of `t`: Postgres counts years before 1 as BC, MySQL
// has a year 0 (its zero dates).
std::string Format(SourceType source, const Parsed& t, bool postgres_utc) {
  const bool bc = source == SourceType::kPostgres && t.year <= 0;
  const int64_t year = bc ? 1 - t.year : t.year;
  char buffer[128];
  int length = std::snprintf(buffer, sizeof buffer, "%04lld-%02lld-%02lld", static_cast<long long>(year),
                             static_cast<long long>(t.month), static_cast<long long>(t.day));
  if (t.has_time) {
    std::snprintf(buffer + length, sizeof buffer - static_cast<size_t>(length), " %02lld:%02lld:%02lld",
                  static_cast<long long>(t.seconds / 3600), static_cast<long long>(t.seconds / 60 % 60),
                  static_cast<long long>(t.seconds % 60));
  }
  std::string out = buffer;
  if (!t.fraction.empty()) out += "." + t.fraction;
  if (postgres_utc) out += "+00";
  if (bc) out += " BC";
  return out;
}

bool IsInfinity(SourceType source, std::string_view text) {
  return source == SourceType::kPostgres && (text == "infinity" || text == "-infinity");
}

}  // namespace

bool ClientDate(SourceType source, std::string_view text, std::string* server_text, std::string* why) {
  Parsed parsed;
  if (!IsInfinity(source, text) && !Parse(source, text, false, &parsed, why)) return false;
  server_text->assign(text);
  return true;
}

bool ClientTimestamp(SourceType source, TimestampKind kind, std::string_view text, std::string* server_text,
                     std::string* why) {
  if (IsInfinity(source, text)) {
    server_text->assign(text);
    return true;
  }
  Parsed t;
  if (!Parse(source, text, true, &t, why)) return false;
  if (kind == TimestampKind::kWithoutZone && t.offset_minutes) {
    *why = "the column has no time zone; send the time without an offset";
    return false;
  }
  const bool zero_date = t.month == 0 || t.day == 0;  // MySQL only (Parse)
  if (zero_date) {
    // Nothing to convert: a zero date is written as it is.
    if ((t.offset_minutes && *t.offset_minutes != 0) ||
        (kind == TimestampKind::kMysqlUtc && (t.year != 0 || t.month != 0 || t.day != 0 || t.seconds != 0))) {
      *why = "a zero date takes no offset, and a TIMESTAMP only the zero 0000-00-00T00:00:00";
      return false;
    }
  } else if (t.offset_minutes) {
    const int64_t total = DaysFromCivil(t.year, t.month, t.day) * 86400 + t.seconds - *t.offset_minutes * 60;
    const int64_t days = total >= 0 ? total / 86400 : (total - 86399) / 86400;
    t.seconds = total - days * 86400;
    CivilFromDays(days, &t.year, &t.month, &t.day);
    const Range range = RangeOf(source, true);
    if (t.year < range.min_year || t.year > range.max_year) {
      *why = "the year is out of the server's range";
      return false;
    }
  }
  if (kind == TimestampKind::kMysqlUtc && !zero_date) {
    const int64_t epoch = DaysFromCivil(t.year, t.month, t.day) * 86400 + t.seconds;
    if (epoch < 1 || epoch > INT32_MAX) {
      *why = "a TIMESTAMP holds 1970-01-01T00:00:01Z to 2038-01-19T03:14:07Z";
      return false;
    }
  }
  *server_text = Format(source, t, source == SourceType::kPostgres && kind == TimestampKind::kWithZone);
  return true;
}

bool ClientTime(SourceType source, std::string_view input, std::string* why) {
  const std::string text(input);
  std::smatch m;
  if (source == SourceType::kPostgres) {
    static const std::regex kTime(R"((\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)");
    const bool matched = std::regex_match(text, m, kTime);
    const int64_t hour = matched ? std::stoi(m[1]) : 0, minute = matched ? std::stoi(m[2]) : 0;
    const int64_t second = matched && m[3].matched ? std::stoi(m[3]) : 0;
    const bool midnight_end = hour == 24 && minute == 0 && second == 0 &&
                              (!m[4].matched || m[4].str().find_first_not_of('0') == std::string::npos);
    if (matched && minute <= 59 && second <= 59 && (hour <= 23 || midnight_end)) return true;
    *why = "expected a time of day HH:MM[:SS[.ffffff]]";
    return false;
  }
  static const std::regex kTime(R"(-?(?:(\d{1,2}) )?(\d{1,3}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)");
  if (std::regex_match(text, m, kTime)) {
    const int64_t hours = (m[1].matched ? std::stoi(m[1]) * 24 : 0) + std::stoi(m[2]);
    const int64_t minute = std::stoi(m[3]), second = m[4].matched ? std::stoi(m[4]) : 0;
    if (minute <= 59 && second <= 59 && hours * 3600 + minute * 60 + second <= 838 * 3600 + 59 * 60 + 59) return true;
  }
  *why = "expected a time [-]HH:MM:SS[.ffffff] within -838:59:59 and 838:59:59";
  return false;
}

std::string CanonicalTimestamp(std::string_view server_text, bool utc) {
  std::string out(server_text);
  if (out == "infinity" || out == "-infinity") return out;
  const bool bc = out.ends_with(" BC");
  if (bc) out.resize(out.size() - 3);
  if (const size_t space = out.find(' '); space != std::string::npos) out[space] = 'T';
  if (utc) {
    for (const std::string_view zone : {"+00:00", "+00", "Z"}) {
      if (out.ends_with(zone)) {
        out.resize(out.size() - zone.size());
        break;
      }
    }
    out += 'Z';
  }
  return bc ? out + " BC" : out;
}

}  // namespace crbridge
