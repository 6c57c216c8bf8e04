// Reads tests/data/*.golden: "name<TAB>hex" lines produced by the published
// cr-sqlite packages (tests/interop/golden.mjs).
#pragma once

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace crbridge::testing {

struct GoldenCase {
  std::string name;
  std::vector<uint8_t> bytes;
};

inline std::vector<uint8_t> FromHex(const std::string& hex) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

inline std::vector<GoldenCase> ReadGolden(const std::string& file) {
  std::ifstream in(std::string(CRBRIDGE_SOURCE_DIR) + "/tests/data/" + file);
  if (!in) throw std::runtime_error("cannot read tests/data/" + file);
  std::vector<GoldenCase> cases;
  for (std::string line; std::getline(in, line);) {
    const size_t tab = line.rfind('\t');
    cases.push_back({line.substr(0, tab), FromHex(line.substr(tab + 1))});
  }
  return cases;
}

}  // namespace crbridge::testing
