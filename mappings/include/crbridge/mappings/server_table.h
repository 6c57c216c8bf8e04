// ServerTable: a table of the source database as its catalog describes it,
// read by the dialect (server-side) and checked against the config here.
// Plain data; thread-compatible.
#pragma once

#include <string>
#include <vector>

namespace crbridge {

struct ServerColumn {
  std::string name;
  // The type as the catalog names it: format_type() on Postgres
  // ("character varying(20)", "timestamp with time zone", "integer[]"),
  // COLUMN_TYPE on MySQL ("int(10) unsigned", "tinyint(1)", "enum('a','b')").
  std::string type;
  bool is_enum = false;  // a Postgres enum type (its values are text)
  bool not_null = false;
  bool has_default = false;  // a default, identity, serial or generated value
  int pk_position = 0;       // 1-based position in the primary key, 0 if not in it
  // The default as the catalog prints it ("''::text", "0", "now()"), or "".
  std::string default_expression;
};

struct ServerTable {
  std::string schema;
  std::string name;
  std::vector<ServerColumn> columns;  // in table order
};

}  // namespace crbridge
