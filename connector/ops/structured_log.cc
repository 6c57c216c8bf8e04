#include "crbridge/connector/ops/structured_log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>

#include "crbridge/sqlite/text_encoding.h"

namespace crbridge::log {
namespace {

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> MakeLogger() {
  auto logger = std::make_shared<spdlog::logger>("crbridge", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  // The level is written by Write: spdlog's own level names ("warning") are
  // compiled into the library and differ from the short ones logfmt uses.
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "ts=%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc));
  logger->flush_on(spdlog::level::trace);
  return logger;
}

spdlog::logger& Logger() {
  static std::once_flag once;
  static std::shared_ptr<spdlog::logger> logger;
  std::call_once(once, [] { logger = MakeLogger(); });
  return *logger;
}

void Write(spdlog::level::level_enum level, std::string_view level_name, std::string_view component,
           std::string_view message, std::initializer_list<Field> fields) {
  spdlog::logger& logger = Logger();
  if (!logger.should_log(level)) return;
  logger.log(level, "level={} {}", level_name, FormatRecord(component, message, fields));
}

}  // namespace

void SetLevel(LogLevel level) { Logger().set_level(ToSpdlog(level)); }

std::string QuoteValue(std::string_view value) {
  // Raw bytes never reach the log: what is not printable UTF-8 is escaped.
  const std::string escaped = EscapeUnprintable(value);
  const bool needs_quotes = value.empty() || escaped != value || escaped.find_first_of(" =\"") != std::string::npos;
  if (!needs_quotes) return escaped;
  std::string out = "\"";
  for (const char c : escaped) {
    if (c == '"') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string FormatRecord(std::string_view component, std::string_view message, std::initializer_list<Field> fields) {
  std::string out = "component=" + QuoteValue(component) + " msg=" + QuoteValue(message);
  for (const Field& field : fields) {
    out += ' ';
    out += field.key;
    out += '=';
    out += QuoteValue(field.value);
  }
  return out;
}

void Debug(std::string_view component, std::string_view message, std::initializer_list<Field> fields) {
  Write(spdlog::level::debug, "debug", component, message, fields);
}
void Info(std::string_view component, std::string_view message, std::initializer_list<Field> fields) {
  Write(spdlog::level::info, "info", component, message, fields);
}
void Warn(std::string_view component, std::string_view message, std::initializer_list<Field> fields) {
  Write(spdlog::level::warn, "warn", component, message, fields);
}
void Error(std::string_view component, std::string_view message, std::initializer_list<Field> fields) {
  Write(spdlog::level::err, "error", component, message, fields);
}

}  // namespace crbridge::log
