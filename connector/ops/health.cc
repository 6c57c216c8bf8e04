#include "crbridge/connector/ops/health.h"

#include <nlohmann/json.hpp>

namespace crbridge {

void Health::Register(const std::string& name, std::string detail) {
  std::lock_guard lock(mutex_);
  components_[name] = Component{false, std::move(detail)};
}

void Health::Report(const std::string& name, bool ready, std::string detail) {
  std::lock_guard lock(mutex_);
  components_[name] = Component{ready, std::move(detail)};
}

void Health::SetShuttingDown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
}

bool Health::Live() const {
  std::lock_guard lock(mutex_);
  return !shutting_down_;
}

bool Health::Ready() const {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return false;
  for (const auto& [name, component] : components_) {
    if (!component.ready) return false;
  }
  return true;
}

std::string Health::ToJson() const {
  std::lock_guard lock(mutex_);
  nlohmann::json body;
  bool all_ready = true;
  body["components"] = nlohmann::json::object();
  for (const auto& [name, component] : components_) {
    body["components"][name] = {{"ready", component.ready}, {"detail", component.detail}};
    all_ready = all_ready && component.ready;
  }
  body["status"] = shutting_down_ ? "shutting_down" : (all_ready ? "ok" : "unavailable");
  // A detail quoting bytes that are not UTF-8 must not fail the response.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace crbridge
