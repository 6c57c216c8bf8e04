#include "crbridge/server/core/captured_change.h"

#include "crbridge/mappings/type_mapping.h"

namespace crbridge {

void MapCapturedValue(size_t i, std::optional<std::string_view> server_text, CapturedRow* row) {
  const ResolvedTable& t = *row->table;
  Value value = Value::Null();
  if (server_text) {
    if (const Status s = FromServerText(t.columns[i].type, *server_text, &value); !s.ok()) {
      return RejectCapturedValue(i, *server_text, s, row);
    }
  }
  if (i < t.pk_count) {
    row->key[i] = std::move(value);
  } else {
    row->values[i - t.pk_count] = std::move(value);
  }
}

void RejectCapturedValue(size_t i, std::string_view server_text, const Status& why, CapturedRow* row) {
  const ResolvedTable& t = *row->table;
  if (row->rejection.empty()) row->rejection = t.mapping->name + "." + t.columns[i].name + ": " + why.message();
  if (i < t.pk_count) row->key[i] = Value::Text(std::string(server_text));
}

}  // namespace crbridge
