#include "sim/spec.h"

#include <gtest/gtest.h>

#include "sim/harness.h"

namespace keel::sim {
namespace {

const char* valid_spec = R"(
title = "Small"
duration_seconds = 5
liveness_seconds = 10
buggify = "off"
[topology]
machines = 3
process = "echo"
[[workload]]
name = "RpcEcho"
requests_per_second = 5
[[fault]]
name = "Attrition"
probability = 0.5
kills = 2
[knobs]
ping_interval_seconds = 0.5
)";

TEST(SpecTest, ParsesAValidSpec) {
  SimSpec spec = parse_spec(valid_spec, "small.toml");
  EXPECT_EQ(spec.title, "Small");
  EXPECT_EQ(spec.machines, 3);
  EXPECT_EQ(spec.process_kind, "echo");
  ASSERT_EQ(spec.workloads.size(), 1u);
  EXPECT_EQ(spec.workloads[0].options.number("requests_per_second", 0), 5);
  ASSERT_EQ(spec.faults.size(), 1u);
  EXPECT_EQ(spec.faults[0].probability, 0.5);
  EXPECT_EQ(spec.knobs.at("ping_interval_seconds"), 0.5);
}

std::string error_of(const std::string& text) {
  try {
    parse_spec(text, "bad.toml");
  } catch (const SpecError& error) {
    return error.message;
  }
  return "";
}

TEST(SpecTest, ExplainsWhatIsWrong) {
  EXPECT_NE(error_of("title = \n").find("bad.toml: line 1"), std::string::npos);
  EXPECT_NE(error_of("title = \"x\"\n[[workload]]\nname=\"RpcEcho\"\n").find("missing [topology]"), std::string::npos);
  EXPECT_NE(error_of("colour = 1\n" + std::string(valid_spec)).find("unknown setting 'colour'"), std::string::npos);
  EXPECT_NE(error_of(std::string(valid_spec).replace(std::string(valid_spec).find("\"off\""), 5, "\"maybe\""))
                .find("buggify must be"),
            std::string::npos);
}

TEST(SpecTest, UnknownWorkloadsOptionsAndKnobsAreErrors) {
  auto run_error = [](const std::string& text) {
    try {
      run_simulation(parse_spec(text, "bad.toml"), 1);
    } catch (const SpecError& error) {
      return error.message;
    }
    return std::string();
  };
  std::string spec = valid_spec;
  EXPECT_NE(run_error(spec + "[[workload]]\nname = \"Nope\"\n").find("unknown workload 'Nope'"), std::string::npos);
  std::string misspelt = spec;
  misspelt.replace(misspelt.find("requests_per_second"), 19, "request_per_second");
  EXPECT_NE(run_error(misspelt).find("RpcEcho has no option 'request_per_second'"), std::string::npos);
  std::string bad_knob = spec;
  bad_knob.replace(bad_knob.find("ping_interval_seconds"), 21, "ping_intervals");
  EXPECT_NE(run_error(bad_knob).find("unknown knob 'ping_intervals'"), std::string::npos);
}

TEST(SpecTest, SmallSpecPassesAndReplays) {
  SimSpec spec = parse_spec(valid_spec, "small.toml");
  RunResult first = run_simulation(spec, 42);
  RunResult second = run_simulation(spec, 42);
  ASSERT_TRUE(first.passed) << (first.problems.empty() ? "" : first.problems.front());
  EXPECT_EQ(first.fingerprint, second.fingerprint);
  EXPECT_EQ(first.tasks_run, second.tasks_run);
  RunResult other = run_simulation(spec, 43);
  EXPECT_NE(first.fingerprint, other.fingerprint);
}

}  // namespace
}  // namespace keel::sim
