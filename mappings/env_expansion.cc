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
    const std::string_view reference = text.substr(i + 2, close - i - 2);
    const size_t default_mark = reference.find(":-");
    const std::string name(reference.substr(0, default_mark));
    const char* value = name.empty() ? nullptr : std::getenv(name.c_str());
    if (default_mark != std::string_view::npos && (value == nullptr || *value == '\0')) {
      result += reference.substr(default_mark + 2);
    } else if (value == nullptr) {
      return Status::InvalidArgument("environment variable " + name + " is not set");
    } else {
      result += value;
    }
    i = close + 1;
  }
  *out = std::move(result);
  return Status::OK();
}

}  // namespace crbridge
