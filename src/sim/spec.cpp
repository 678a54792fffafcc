#include "sim/spec.h"

#include <toml++/toml.h>

#include <fmt/format.h>

namespace keel::sim {
namespace {

[[noreturn]] void invalid(const std::string& path, const std::string& message) {
  throw SpecError{fmt::format("{}: {}", path, message)};
}

double number_at(const toml::node& node, const std::string& path, const std::string& key) {
  if (auto integer = node.value<int64_t>(); integer && node.is_integer()) return static_cast<double>(*integer);
  if (auto real = node.value<double>()) return *real;
  invalid(path, fmt::format("'{}' must be a number", key));
}

Options read_options(const toml::table& table, const std::string& path, const std::string& where,
                     const std::set<std::string>& reserved) {
  Options options;
  for (const auto& [key_view, node] : table) {
    const std::string key(key_view.str());
    if (reserved.count(key)) continue;
    if (node.is_number()) {
      options.numbers[key] = number_at(node, path, where + "." + key);
    } else if (node.is_string()) {
      options.texts[key] = *node.value<std::string>();
    } else {
      invalid(path, fmt::format("{}.{} must be a number or a string", where, key));
    }
  }
  return options;
}

std::vector<WorkloadSpec> read_workloads(const toml::table& root, const std::string& path, const char* key) {
  std::vector<WorkloadSpec> result;
  const toml::node* node = root.get(key);
  if (node == nullptr) return result;
  const toml::array* array = node->as_array();
  if (array == nullptr) invalid(path, fmt::format("'{}' must be an array of tables ([[{}]])", key, key));
  for (const toml::node& element : *array) {
    const toml::table* table = element.as_table();
    if (table == nullptr) invalid(path, fmt::format("each [[{}]] entry must be a table", key));
    WorkloadSpec workload;
    auto name = (*table)["name"].value<std::string>();
    if (!name) invalid(path, fmt::format("a [[{}]] entry has no name", key));
    workload.name = *name;
    if (const toml::node* probability = table->get("probability")) {
      workload.probability = number_at(*probability, path, workload.name + ".probability");
      if (workload.probability < 0 || workload.probability > 1) {
        invalid(path, fmt::format("{}.probability must be within [0, 1]", workload.name));
      }
    }
    workload.options = read_options(*table, path, workload.name, {"name", "probability"});
    result.push_back(std::move(workload));
  }
  return result;
}

}  // namespace

double Options::number(const std::string& key, double default_value) const {
  used_.insert(key);
  auto it = numbers.find(key);
  return it == numbers.end() ? default_value : it->second;
}

std::string Options::text(const std::string& key, const std::string& default_value) const {
  used_.insert(key);
  auto it = texts.find(key);
  return it == texts.end() ? default_value : it->second;
}

std::vector<std::string> Options::unused() const {
  std::vector<std::string> keys;
  for (const auto& [key, value] : numbers) {
    if (!used_.count(key)) keys.push_back(key);
  }
  for (const auto& [key, value] : texts) {
    if (!used_.count(key)) keys.push_back(key);
  }
  return keys;
}

SimSpec parse_spec(const std::string& toml_text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(toml_text, path);
  } catch (const toml::parse_error& error) {
    invalid(path, fmt::format("line {}: {}", error.source().begin.line, error.description()));
  }
  static const std::set<std::string> known = {"title",    "duration_seconds", "liveness_seconds", "buggify",
                                              "topology", "workload",         "fault",            "knobs",
                                              "description"};
  for (const auto& [key, node] : root) {
    if (!known.count(std::string(key.str()))) invalid(path, fmt::format("unknown setting '{}'", key.str()));
  }
  SimSpec spec;
  spec.path = path;
  spec.title = root["title"].value_or(std::string("untitled"));
  if (const toml::node* node = root.get("duration_seconds")) spec.duration_seconds = number_at(*node, path, "duration_seconds");
  if (const toml::node* node = root.get("liveness_seconds")) spec.liveness_seconds = number_at(*node, path, "liveness_seconds");
  spec.buggify = root["buggify"].value_or(std::string("random"));
  if (spec.buggify != "on" && spec.buggify != "off" && spec.buggify != "random") {
    invalid(path, "buggify must be \"on\", \"off\" or \"random\"");
  }
  if (spec.duration_seconds <= 0 || spec.liveness_seconds <= 0) {
    invalid(path, "duration_seconds and liveness_seconds must be positive");
  }
  const toml::table* topology = root["topology"].as_table();
  if (topology == nullptr) invalid(path, "missing [topology]");
  if (const toml::node* node = topology->get("machines")) spec.machines = static_cast<int>(number_at(*node, path, "topology.machines"));
  if (const toml::node* node = topology->get("processes_per_machine")) {
    spec.processes_per_machine = static_cast<int>(number_at(*node, path, "topology.processes_per_machine"));
  }
  spec.process_kind = (*topology)["process"].value_or(std::string());
  if (spec.process_kind.empty()) invalid(path, "topology.process must name what each process runs");
  if (spec.machines < 1 || spec.machines > 1000 || spec.processes_per_machine < 1 || spec.processes_per_machine > 16) {
    invalid(path, "topology needs 1..1000 machines and 1..16 processes per machine");
  }
  spec.workloads = read_workloads(root, path, "workload");
  spec.faults = read_workloads(root, path, "fault");
  if (spec.workloads.empty()) invalid(path, "a spec needs at least one [[workload]]");
  if (const toml::table* knobs = root["knobs"].as_table()) {
    for (const auto& [key, node] : *knobs) spec.knobs[std::string(key.str())] = number_at(node, path, "knobs." + std::string(key.str()));
  }
  return spec;
}

}  // namespace keel::sim
