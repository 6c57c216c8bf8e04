#include "crbridge/connector/daemon/daemon.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <future>

#include "crbridge/connector/daemon/capture_service.h"
#include "crbridge/connector/ops/health.h"
#include "crbridge/connector/ops/rejected_rows.h"
#include "crbridge/connector/ops/http_server.h"
#include "crbridge/connector/kafka/kafka_sink.h"
#include "crbridge/connector/ops/live_check.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/connector/daemon/source_monitor.h"
#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/connector/sync/sync_server.h"
#include "crbridge/server/dialects.h"

namespace crbridge {

Status RunDaemon(const Config& config, const DaemonHooks& hooks) {
  log::SetLevel(config.log.level);
  log::Info("daemon", "starting", {{"version", CRBRIDGE_VERSION}, {"config", config.file},
                                   {"source", SourceTypeName(config.source.type)}});

  // The mappings are checked at start-up when the database answers; a
  // database that is down is waited for (the source monitor retries).
  ServerInfo server;
  ConfigCheck check;
  if (const Status s = LiveCheck(config, std::chrono::seconds(5), &server, &check); s.ok()) {
    for (const Status& problem : check.problems) log::Error("config", "invalid mapping", {{"error", problem.message()}});
    if (!check.problems.empty()) {
      return Status::InvalidArgument(std::to_string(check.problems.size()) + " problems with the mappings in " + config.file);
    }
    log::Info("config", "mappings checked", {{"server", server.product + " " + server.version},
                                             {"tables", check.tables.size()}});
  } else {
    log::Warn("config", "mappings not checked: the source database is unreachable", {{"error", s.ToString()}});
  }

  boost::asio::io_context io;
  // Signals are caught before anything else starts so that an early SIGTERM
  // still shuts down cleanly.
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  Metrics metrics;
  Health health;

  HttpServer http(io, metrics);
  http.Route("/healthz", [&health] {
    return HttpResponse{health.Live() ? 200 : 503, "application/json", health.ToJson() + "\n"};
  });
  http.Route("/readyz", [&health] {
    return HttpResponse{health.Ready() ? 200 : 503, "application/json", health.ToJson() + "\n"};
  });
  http.Route("/metrics", [&metrics] {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics.Render()};
  });
  if (Status s = http.Listen(config.server.listen_host, config.server.listen_port); !s.ok()) {
    log::Error("daemon", "cannot start", {{"error", s.ToString()}});
    return s;
  }
  log::Info("http", "listening", {{"address", config.server.listen_host + ":" + std::to_string(http.port())}});

  std::unique_ptr<SyncAuth> auth;
  if (Status s = SyncAuth::Create(config.auth, &auth); !s.ok()) {
    log::Error("daemon", "cannot start", {{"error", s.ToString()}});
    return s;
  }
  // Every committed change goes to Kafka through the change log, which
  // crbridge's writers fill in their own transactions; they wake the sink.
  std::optional<KafkaSink> kafka;
  if (config.kafka) {
    kafka.emplace(config, metrics);
    kafka->Start();
  }
  std::optional<SyncServer> sync;
  sync.emplace(io, config, std::move(auth), metrics, health, [&kafka] {
    if (kafka) kafka->Wake();
  });
  http.RouteUpgrade(config.server.path, [&sync](boost::asio::ip::tcp::socket socket,
                                               boost::beast::http::request<boost::beast::http::string_body> request) {
    sync->Accept(std::move(socket), std::move(request));
  });

  // The sync server's connections may have died with the database, or
  // wait to be opened again: it checks them when the monitor sees a change.
  SourceMonitor::Options monitor_options;
  monitor_options.on_change = [&sync](bool) { sync->CheckDatabase(); };
  SourceMonitor monitor(NewSourceDatabase(config.source), monitor_options, health, metrics);
  monitor.Start();
  RejectedRows rejected_rows(health, metrics);
  CaptureOptions capture_options;
  capture_options.rejected_rows = &rejected_rows;
  capture_options.on_recorded = [&sync, &kafka](int64_t db_version, int64_t oldest_source_position) {
    if (sync) sync->OnNewVersion(db_version);
    if (kafka) kafka->Recorded(oldest_source_position);
  };
  // A column the app added: the sync server takes the new mappings before
  // capture reads the table again.
  capture_options.on_mapping_changed = [&sync](std::stop_token stop) {
    auto reloaded = std::make_shared<std::promise<void>>();
    std::future<void> done = reloaded->get_future();
    sync->ReloadMappings([reloaded] { reloaded->set_value(); });
    while (!stop.stop_requested() && done.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    }
  };
  if (kafka) {
    capture_options.unpublished_position = [&kafka] { return kafka->UnpublishedSourcePosition(); };
    capture_options.hold = [&kafka] { return kafka->BacklogFull(); };
  }
  CaptureService capture(config, capture_options, health, metrics);
  capture.Start();

  signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;
    log::Info("daemon", "shutting down", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
    health.SetShuttingDown();
    http.Stop();
    if (sync) sync->Stop();
    monitor.Stop();
    capture.Stop();
    if (kafka) kafka->Stop();
    io.stop();
  });
  if (hooks.on_listening) hooks.on_listening(http.port());
  io.run();
  log::Info("daemon", "stopped");
  return Status::OK();
}

}  // namespace crbridge
