// Health: the state of each of crbridge's components (the source database
// connection, "source", and capture, "capture"), for /healthz and /readyz.
// Thread-safe: components report from their own threads.
#pragma once

#include <map>
#include <mutex>
#include <string>

namespace crbridge {

class Health {
 public:
  struct Component {
    bool ready = false;
    std::string detail;  // what a person needs to know: a version, an error
  };

  // Registers `name` as not ready until it reports.
  void Register(const std::string& name, std::string detail);
  void Report(const std::string& name, bool ready, std::string detail);
  void SetShuttingDown();

  // Live while the process serves and is not shutting down.
  bool Live() const;
  // Ready when live and every registered component is ready.
  bool Ready() const;
  // {"status":"ok"|"unavailable"|"shutting_down","components":{name:{ready,detail}}}
  std::string ToJson() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Component> components_;
  bool shutting_down_ = false;
};

}  // namespace crbridge
