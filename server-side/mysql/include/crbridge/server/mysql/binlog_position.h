// BinlogPosition: a place in a MySQL/MariaDB server's binary log (a file
// name and a byte offset in it) and its form as one integer offset that
// grows with commit order across files, which is what clocks and the
// capture position compare (SourcePosition::offset). The file's number
// (its numeric extension, "mysql-bin.000123" -> 123) takes the high 32
// bits and the position the low 32. Plain values and stateless functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

struct BinlogPosition {
  std::string file;  // "mysql-bin.000123"
  uint64_t position = 0;
};

// The offset of `position`. InvalidArgument when the file name has no
// numeric extension, or the number or the position does not fit its 32 bits
// (the number below 2^31, so that offsets stay positive).
Status EncodeBinlogOffset(const BinlogPosition& position, int64_t* offset);

// The position of `offset` in the binary log whose files are named
// `base_name`.NNNNNN ("mysql-bin"; the number has at least six digits, as
// the server names them). InvalidArgument for a negative offset.
Status DecodeBinlogOffset(std::string_view base_name, int64_t offset, BinlogPosition* position);

}  // namespace crbridge::mysql
