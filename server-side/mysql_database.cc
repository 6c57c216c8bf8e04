#include "mysql_database.h"

#include <mysql.h>

#include <memory>

#include "crbridge/server/mysql_url.h"
#include "socket_wait.h"

namespace crbridge {
namespace {

struct MysqlDeleter {
  void operator()(MYSQL* mysql) const { mysql_close(mysql); }
};
struct MysqlResultDeleter {
  void operator()(MYSQL_RES* result) const { mysql_free_result(result); }
};

Status MysqlError(MYSQL* mysql) {
  return Status::Unavailable("mysql: " + std::string(mysql_error(mysql)) + " (error " +
                             std::to_string(mysql_errno(mysql)) + ")");
}

// Drives one step of Connector/C's non-blocking API to completion: `status`
// is what the *_start call returned, `resume` calls the matching *_cont.
template <typename Resume>
Status Finish(MYSQL* mysql, int status, Resume resume, std::chrono::steady_clock::time_point deadline,
              const std::stop_token& stop) {
  while (status != 0) {
    const SocketReady want = (status & MYSQL_WAIT_WRITE) ? SocketReady::kWrite : SocketReady::kRead;
    if (Status s = WaitForSocket(mysql_get_socket(mysql), want, deadline, stop, "mysql"); !s.ok()) return s;
    status = resume(want == SocketReady::kWrite ? MYSQL_WAIT_WRITE : MYSQL_WAIT_READ);
  }
  return Status::OK();
}

}  // namespace

Status MysqlDatabase::Probe(std::chrono::milliseconds timeout, std::stop_token stop, ServerInfo* info) {
  MysqlUrl url;
  if (Status s = ParseMysqlUrl(url_, &url); !s.ok()) return s;
  const auto deadline = std::chrono::steady_clock::now() + timeout;

  std::unique_ptr<MYSQL, MysqlDeleter> mysql(mysql_init(nullptr));
  if (mysql == nullptr) return Status::Internal("mysql_init failed");
  mysql_options(mysql.get(), MYSQL_OPT_NONBLOCK, nullptr);
  MYSQL* connected = nullptr;
  int status = mysql_real_connect_start(&connected, mysql.get(), url.host.c_str(), url.user.c_str(),
                                        url.password.c_str(), url.database.empty() ? nullptr : url.database.c_str(),
                                        url.port, nullptr, 0);
  auto resume_connect = [&](int event) { return mysql_real_connect_cont(&connected, mysql.get(), event); };
  if (Status s = Finish(mysql.get(), status, resume_connect, deadline, stop); !s.ok()) return s;
  if (connected == nullptr) return MysqlError(mysql.get());

  int query_error = 0;
  status = mysql_real_query_start(&query_error, mysql.get(), "SELECT VERSION()", 16);
  auto resume_query = [&](int event) { return mysql_real_query_cont(&query_error, mysql.get(), event); };
  if (Status s = Finish(mysql.get(), status, resume_query, deadline, stop); !s.ok()) return s;
  if (query_error != 0) return MysqlError(mysql.get());

  MYSQL_RES* raw_result = nullptr;
  status = mysql_store_result_start(&raw_result, mysql.get());
  auto resume_store = [&](int event) { return mysql_store_result_cont(&raw_result, mysql.get(), event); };
  if (Status s = Finish(mysql.get(), status, resume_store, deadline, stop); !s.ok()) return s;
  std::unique_ptr<MYSQL_RES, MysqlResultDeleter> result(raw_result);
  if (result == nullptr) return MysqlError(mysql.get());
  MYSQL_ROW row = mysql_fetch_row(result.get());
  if (row == nullptr || row[0] == nullptr) return Status::Unavailable("mysql: SELECT VERSION() returned no row");
  info->version = row[0];
  info->product = info->version.find("MariaDB") != std::string::npos ? "MariaDB" : "MySQL";
  return Status::OK();
}

}  // namespace crbridge
