#include "crbridge/server/mysql/mysql_url.h"

#include <charconv>

namespace crbridge::mysql {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(std::string_view text, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      *out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const int high = HexDigit(text[i + 1]);
    const int low = HexDigit(text[i + 2]);
    if (high < 0 || low < 0) return false;
    *out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return true;
}

}  // namespace

Status ParseMysqlUrl(std::string_view url, MysqlUrl* out) {
  constexpr std::string_view kScheme = "mysql://";
  if (!url.starts_with(kScheme)) return Status::InvalidArgument("a mysql url starts with mysql://");
  std::string_view rest = url.substr(kScheme.size());

  MysqlUrl result;
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    result.database = std::string(rest.substr(slash + 1));
    if (result.database.find_first_of("?#/") != std::string::npos) {
      return Status::InvalidArgument("mysql url: unexpected characters after the database name");
    }
  }

  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view credentials = authority.substr(0, at);
    const size_t colon = credentials.find(':');
    if (!PercentDecode(credentials.substr(0, colon), &result.user)) {
      return Status::InvalidArgument("mysql url: malformed percent-escape in the user name");
    }
    if (colon != std::string_view::npos && !PercentDecode(credentials.substr(colon + 1), &result.password)) {
      return Status::InvalidArgument("mysql url: malformed percent-escape in the password");
    }
    authority = authority.substr(at + 1);
  }

  const size_t colon = authority.rfind(':');
  const bool bracketed = authority.starts_with('[');
  const size_t host_end = bracketed ? authority.find(']') : colon;
  if (bracketed && host_end == std::string_view::npos) return Status::InvalidArgument("mysql url: unclosed [ in host");
  result.host = std::string(bracketed ? authority.substr(1, host_end - 1) : authority.substr(0, colon));
  if (result.host.empty()) return Status::InvalidArgument("mysql url: the host is missing");
  if (colon != std::string_view::npos && (!bracketed || colon > host_end)) {
    const std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return Status::InvalidArgument("mysql url: the port must be a number from 1 to 65535");
    }
    result.port = static_cast<uint16_t>(value);
  }
  *out = std::move(result);
  return Status::OK();
}

}  // namespace crbridge::mysql
