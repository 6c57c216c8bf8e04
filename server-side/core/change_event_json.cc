#include "crbridge/server/core/change_event_json.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "crbridge/sqlite/text_encoding.h"

namespace crbridge {
namespace {

// A value as clients get it, in JSON (docs/kafka.md).
nlohmann::json ValueJson(const Value& value) {
  switch (value.storage_class()) {
    case StorageClass::kInteger: return value.integer();
    case StorageClass::kFloat:
      // JSON has no infinities: they are strings, as the server prints them
      // (and as NaN reaches clients: the text 'NaN').
      if (std::isfinite(value.real())) return value.real();
      return std::isnan(value.real()) ? "NaN" : value.real() > 0 ? "Infinity" : "-Infinity";
    case StorageClass::kText: return value.text();
    case StorageClass::kBlob: return nlohmann::json{{"base64", EncodeBase64(value.blob(), true)}};
    case StorageClass::kNull: break;
  }
  return nullptr;
}

// Text that is not UTF-8 is logged with replacement characters rather than
// failing the write that logs it.
std::string Dump(const nlohmann::json& json) { return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

ChangeEventJson ChangeEventFields(const ResolvedTable& t, const LoggedChange& change) {
  const ClockRow& before = *change.before;
  const ClockRow& after = *change.after;
  ChangeEventJson out;
  out.op = after.cl % 2 == 0 ? 'd' : before.stored && before.cl % 2 == 1 ? 'u' : 'c';
  nlohmann::json key = nlohmann::json::object();
  for (size_t i = 0; i < t.pk_count; ++i) key[t.columns[i].name] = ValueJson((*change.key)[i]);
  nlohmann::json columns = nlohmann::json::object();
  for (size_t i = 0; i + t.pk_count < t.columns.size() && after.cl % 2 == 1; ++i) {
    // A created row (or one back from the dead) is whole in its event: a
    // consumer starts it afresh, and a column of the new life may sit at
    // the clock it had in the old one. (A value capture never saw, an
    // unchanged TOASTed one, cannot be sent.)
    const bool moved = out.op == 'c' || before.versions[i] != after.versions[i] || before.sites[i] != after.sites[i];
    if (!after.versions[i] || !moved || !change.values[i]) continue;
    columns[t.columns[t.pk_count + i].name] = {
        {"value", ValueJson(*change.values[i])}, {"col_version", *after.versions[i]}, {"site", after.sites[i].value_or(0)}};
  }
  out.key = Dump(key);
  out.columns = Dump(columns);
  return out;
}

}  // namespace crbridge
