// The fields of a change-log row (docs/kafka.md) that are the same on every
// dialect: the operation and the key and changed columns in JSON, as the
// Kafka events carry them. Internal to server-side; stateless.
#pragma once

#include <string>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/shadow_store.h"

namespace crbridge {

struct ChangeEventJson {
  char op = 'c';        // 'c' created, 'u' updated, 'd' deleted
  std::string key;      // {"id": "t1"}, by client column name
  std::string columns;  // {"title": {"value": "milk", "col_version": 2, "site": 0}}, the columns that moved
};

ChangeEventJson ChangeEventFields(const ResolvedTable& t, const LoggedChange& change);

}  // namespace crbridge
