#include "env_expansion.h"

#include <cstdlib>

namespace crbridge {

Status ExpandEnvironment(std::string_view text, std::string* out) {
  std::string result;
  size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, 3) == "$${") {
      result += "${";
      i += 3;
      continue;
    }
    if (text.substr(i, 2) != "${") {
      result += text[i++];
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("unterminated ${ in \"" + std::string(text) + "\"");
    }
    const std::string name(text.substr(i + 2, close - i - 2));
    const char* value = name.empty() ? nullptr : std::getenv(name.c_str());
    if (value == nullptr) {
      return Status::InvalidArgument("environment variable " + name + " is not set");
    }
    result += value;
    i = close + 1;
  }
  *out = std::move(result);
  return Status::OK();
}

}  // namespace crbridge
