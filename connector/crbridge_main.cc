// The crbridge command line: run the daemon, check a config, print the
// version.
#include <CLI/CLI.hpp>

#include <iostream>

#include "crbridge/connector/daemon.h"
#include "crbridge/connector/structured_log.h"
#include "crbridge/mappings/config.h"

namespace {

// Exit codes: 0 success, 1 a runtime failure, 2 bad usage or a bad config.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int LoadOrReport(const std::string& path, crbridge::Config* config) {
  if (crbridge::Status s = crbridge::LoadConfigFile(path, config); !s.ok()) {
    std::cerr << "crbridge: " << s.message() << "\n";
    return kExitUsage;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"crbridge: makes a Postgres or MySQL/MariaDB database a sync peer for cr-sqlite clients"};
  app.require_subcommand(1);

  auto* version = app.add_subcommand("version", "Print the version and exit");

  std::string config_path;
  auto* run = app.add_subcommand("run", "Run the daemon until SIGTERM or SIGINT");
  run->add_option("-c,--config", config_path, "The YAML config file")->required();

  auto* check = app.add_subcommand("check", "Load and validate a config file, then exit");
  check->add_option("-c,--config", config_path, "The YAML config file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  if (version->parsed()) {
    std::cout << "crbridge " << CRBRIDGE_VERSION << "\n";
    return 0;
  }

  crbridge::Config config;
  if (int code = LoadOrReport(config_path, &config); code != 0) return code;

  if (check->parsed()) {
    std::cout << config_path << ": ok (source: " << crbridge::SourceTypeName(config.source.type)
              << ", listen: " << config.server.listen_host << ":" << config.server.listen_port << ")\n";
    return 0;
  }

  const crbridge::Status status = crbridge::RunDaemon(config);
  return status.ok() ? 0 : kExitFailure;
}
