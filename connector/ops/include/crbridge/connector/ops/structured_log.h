// Structured logging: every line crbridge logs is one logfmt record,
//   ts=2026-11-24T21:50:00.123Z level=info component=http msg="listening" address=127.0.0.1:8080
// written to stderr through spdlog. Thread-safe: any thread may log.
#pragma once

#include <fmt/format.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "crbridge/mappings/config.h"

namespace crbridge::log {

// A key and its value, rendered with fmt ("{}").
struct Field {
  template <typename T>
  Field(std::string_view k, const T& v) : key(k), value(fmt::format("{}", v)) {}
  std::string_view key;
  std::string value;
};

// The process-wide minimum level; info until set.
void SetLevel(LogLevel level);

// A logfmt value: every byte that is not printable UTF-8 escaped
// (EscapeUnprintable: \xHH, \n, a backslash doubled), and quoted when it
// needs it: empty, or containing a space, '=', '"', or anything escaped.
std::string QuoteValue(std::string_view value);

// "component=... msg=... k=v ..." without the timestamp and level.
std::string FormatRecord(std::string_view component, std::string_view message, std::initializer_list<Field> fields);

void Debug(std::string_view component, std::string_view message, std::initializer_list<Field> fields = {});
void Info(std::string_view component, std::string_view message, std::initializer_list<Field> fields = {});
void Warn(std::string_view component, std::string_view message, std::initializer_list<Field> fields = {});
void Error(std::string_view component, std::string_view message, std::initializer_list<Field> fields = {});

}  // namespace crbridge::log
