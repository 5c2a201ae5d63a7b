// Trace context and spans (docs/tracing.md), decided without an engine: traceparent parsing, span
// ids from run ids, and a run record as an OTLP span.
#include <set>

#include <boost/test/unit_test.hpp>

#include "core/otlp_spans.hpp"
#include "core/trace_context.hpp"

using namespace coworker;

BOOST_AUTO_TEST_SUITE(trace_context_rules)

BOOST_AUTO_TEST_CASE(a_w3c_traceparent_is_read_and_written_back) {
  auto t = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
  BOOST_TEST(t->parent_span_id == "00f067aa0ba902b7");
  BOOST_TEST(t->sampled);
  BOOST_TEST(format_traceparent(*t, "b7ad6b7169203331") == "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01");
  auto unsampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  BOOST_REQUIRE(unsampled.has_value());
  BOOST_TEST(!unsampled->sampled);
  BOOST_TEST(format_traceparent(*unsampled, "b7ad6b7169203331").substr(53) == "00");
}

BOOST_AUTO_TEST_CASE(malformed_traceparents_are_refused_at_their_pointer) {
  for (const char* bad : {"", "00", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
                          "00+4bf92f3577b34da6a3ce929d0e0e4736+00f067aa0ba902b7+01",
                          "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"}) {
    auto t = parse_traceparent(bad);
    BOOST_TEST_INFO("traceparent '" << bad << "'");
    BOOST_REQUIRE(!t.has_value());
    BOOST_TEST(t.error().code == codes::invalid_input);
    BOOST_TEST(t.error().path == "/traceparent");
  }
  BOOST_TEST(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more").has_value());
}

BOOST_AUTO_TEST_CASE(span_and_trace_ids_are_derived_the_same_way_every_time) {
  BOOST_TEST(span_id_of("run-01J0000000000000000000000A") == span_id_of("run-01J0000000000000000000000A"));
  std::set<std::string> spans, traces;
  for (int i = 0; i < 10000; ++i) {
    auto id = "run-" + std::to_string(i);
    auto s = span_id_of(id);
    auto t = trace_id_of(id);
    BOOST_REQUIRE_EQUAL(s.size(), 16u);
    BOOST_REQUIRE_EQUAL(t.size(), 32u);
    BOOST_REQUIRE(parse_traceparent(format_traceparent(trace_context{t, s, true}, s)).has_value());
    spans.insert(s);
    traces.insert(t);
  }
  BOOST_TEST(spans.size() == 10000u);
  BOOST_TEST(traces.size() == 10000u);
}

BOOST_AUTO_TEST_CASE(a_record_becomes_a_span_under_its_owner) {
  run_record top;
  top.id = top.chain_id = "run-top";
  top.operation = "run";
  top.step_id = "order";
  top.status = run_status::completed;
  top.created = 1000;
  top.started = 1001;
  top.finished = 1500;
  top.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  top.parent_span_id = "00f067aa0ba902b7";
  auto s = span_of(top);
  BOOST_TEST(s["traceId"] == top.trace_id);
  BOOST_TEST(s["spanId"] == span_id_of("run-top"));
  BOOST_TEST(s["parentSpanId"] == "00f067aa0ba902b7");
  BOOST_TEST(s["name"] == "order (run)");
  BOOST_TEST(s["kind"] == 2);
  BOOST_TEST(s["startTimeUnixNano"] == "1001000000");
  BOOST_TEST(s["endTimeUnixNano"] == "1500000000");
  BOOST_TEST(s["status"]["code"] == 1);

  run_record step;
  step.id = "run-step";
  step.chain_id = "run-top";
  step.owner_run_id = "run-top";
  step.operation = "classify";
  step.status = run_status::failed;
  step.created = 1100;  // never started: cancelled, say, before its attempt
  step.finished = 1200;
  step.attempts = 3;
  step.trace_id = top.trace_id;
  step.err = run_error{"timeout", "no answer in 100 ms", "run-step", "classify", ""};
  s = span_of(step);
  BOOST_TEST(s["parentSpanId"] == span_id_of("run-top"));
  BOOST_TEST(s["name"] == "classify");
  BOOST_TEST(s["kind"] == 1);
  BOOST_TEST(s["startTimeUnixNano"] == "1100000000");
  BOOST_TEST(s["status"]["code"] == 2);
  BOOST_TEST(s["status"]["message"] == "timeout: no answer in 100 ms");
  bool attempts = false;
  for (const auto& a : s["attributes"])
    if (a["key"] == "coworker.attempts") attempts = a["value"]["intValue"] == "3";
  BOOST_TEST(attempts);
  step.recovered = true;  // failed, but its onError recovered it: the chain went on
  BOOST_TEST(span_of(step)["status"]["code"] == 1);

  auto req = export_request({span_of(top)}, "svc");
  BOOST_TEST(req["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"] == "svc");
  BOOST_TEST(req["resourceSpans"][0]["scopeSpans"][0]["spans"].size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
