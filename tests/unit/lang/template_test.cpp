// Templates: paths, whole-string typing, interpolation, missing segments, records, no re-expansion.
#include <map>

#include <boost/test/unit_test.hpp>

#include "template/template.hpp"

using namespace coworker;
using namespace coworker::tmpl;

namespace {

struct test_scope : scope {
  std::map<std::string, json> values;
  std::map<std::string, run_record> records;
  const json* value(std::string_view root) const override {
    auto it = values.find(std::string(root));
    return it == values.end() ? nullptr : &it->second;
  }
  const run_record* record(std::string_view root) const override {
    auto it = records.find(std::string(root));
    return it == records.end() ? nullptr : &it->second;
  }
};

test_scope make_scope() {
  test_scope s;
  s.values["input"] = json{{"folder", "inbox"}, {"n", 3}};
  run_record emails;
  emails.id = "run-1";
  emails.step_id = "emails";
  emails.operation = "select";
  emails.status = run_status::completed;
  emails.output = share(json::parse(R"({"data":[{"from":"ann","subject":"hi"},{"from":"bob","subject":"yo"}],
                                        "box":{"length":99,"size":1}})"));
  s.records["emails"] = emails;
  s.records["prev"] = emails;
  return s;
}

json resolve(const json& v, const scope& s) {
  std::vector<error> errors;
  auto c = compiled_value::compile(v, "/children/1/input", errors);
  BOOST_REQUIRE(errors.empty());
  auto r = c.resolve(s);
  BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  return *r;
}

error resolve_error(const json& v, const scope& s) {
  std::vector<error> errors;
  auto c = compiled_value::compile(v, "/x", errors);
  BOOST_REQUIRE(errors.empty());
  auto r = c.resolve(s);
  BOOST_REQUIRE(!r.has_value());
  return r.error();
}

std::vector<error> compile_errors(const json& v, const std::string& pointer = "/children/0/input") {
  std::vector<error> errors;
  (void)compiled_value::compile(v, pointer, errors);
  return errors;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(templates)

BOOST_AUTO_TEST_CASE(path_parses_fields_indexes_and_length) {
  auto p = parse_path(" emails.output.data[1].subject.length ", "/p");
  BOOST_REQUIRE(p.has_value());
  BOOST_TEST(p->root == "emails");
  BOOST_REQUIRE_EQUAL(p->segments.size(), 5u);
  BOOST_TEST(p->segments[1].name == "data");
  BOOST_TEST((p->segments[2].k == segment::kind::index));
  BOOST_TEST(p->segments[2].index == 1u);
  BOOST_TEST((p->segments[4].k == segment::kind::length));
}

BOOST_AUTO_TEST_CASE(bad_paths_report_template_syntax_at_the_pointer) {
  for (const char* bad : {"", "  ", "1abc", "a..b", "a.", "a[x]", "a[1", "a b", "a[]", "a.b$"}) {
    auto p = parse_path(bad, "/children/3/input/text");
    BOOST_REQUIRE_MESSAGE(!p.has_value(), "accepted '" << bad << "'");
    BOOST_TEST(p.error().code == "template_syntax");
    BOOST_TEST(p.error().path == "/children/3/input/text");
  }
}

BOOST_AUTO_TEST_CASE(compile_errors_name_the_exact_string) {
  auto errors = compile_errors(json::parse(R"({"a":{"b":["ok","{{}}"]},"c":"{{x..y}}","d":"{{ unclosed"})"));
  BOOST_REQUIRE_EQUAL(errors.size(), 3u);
  BOOST_TEST(errors[0].path == "/children/0/input/a/b/1");
  BOOST_TEST(errors[1].path == "/children/0/input/c");
  BOOST_TEST(errors[2].path == "/children/0/input/d");
  for (const auto& e : errors) BOOST_TEST(e.code == "template_syntax");
}

BOOST_AUTO_TEST_CASE(pointer_escapes_slash_and_tilde_in_keys) {
  auto errors = compile_errors(json{{"a/b", {{"c~d", "{{}}"}}}}, "");
  BOOST_REQUIRE_EQUAL(errors.size(), 1u);
  BOOST_TEST(errors[0].path == "/a~1b/c~0d");
}

BOOST_AUTO_TEST_CASE(constant_values_have_no_references) {
  std::vector<error> errors;
  auto c = compiled_value::compile(json{{"text", "no templates { here }"}}, "", errors);
  BOOST_TEST(c.constant());
  BOOST_TEST(c.references().empty());
  auto t = compiled_value::compile(json::parse(R"({"a":"{{x}}","b":["{{y.z}} and {{w}}"]})"), "/i", errors);
  BOOST_TEST(!t.constant());
  BOOST_REQUIRE_EQUAL(t.references().size(), 3u);
  BOOST_TEST(t.references()[0].pointer == "/i/a");
  BOOST_TEST(t.references()[1].p.root == "y");
  BOOST_TEST(t.references()[2].pointer == "/i/b/0");
}

BOOST_AUTO_TEST_CASE(whole_string_template_keeps_the_value_type) {
  auto s = make_scope();
  BOOST_TEST(resolve("{{emails.output}}", s).is_object());
  BOOST_TEST(resolve("{{emails.output.data}}", s).is_array());
  BOOST_TEST(resolve("{{input.n}}", s) == 3);
  BOOST_TEST(resolve(" {{ input.n }} ", s) == " 3 ");  // surrounding text makes it interpolation
  BOOST_TEST(resolve("{{ input.n }}", s) == 3);        // spaces inside the braces are fine
}

BOOST_AUTO_TEST_CASE(inner_templates_interpolate) {
  auto s = make_scope();
  BOOST_TEST(resolve("from {{emails.output.data[0].from}} in {{input.folder}}", s) == "from ann in inbox");
  BOOST_TEST(resolve("n={{input.n}}", s) == "n=3");
  BOOST_TEST(resolve("first: {{emails.output.data[0]}}", s) == R"(first: {"from":"ann","subject":"hi"})");
}

BOOST_AUTO_TEST_CASE(templates_resolve_inside_objects_and_arrays) {
  auto s = make_scope();
  auto out = resolve(json::parse(R"({"list":["{{input.n}}", {"who":"{{emails.output.data[1].from}}"}], "k": 5})"), s);
  BOOST_TEST(out == json::parse(R"({"list":[3, {"who":"bob"}], "k": 5})"));
}

BOOST_AUTO_TEST_CASE(length_of_array_string_and_object) {
  auto s = make_scope();
  BOOST_TEST(resolve("{{emails.output.data.length}}", s) == 2);
  BOOST_TEST(resolve("{{input.folder.length}}", s) == 5);
  BOOST_TEST(resolve("{{input.length}}", s) == 2);            // an object's number of keys
  BOOST_TEST(resolve("{{emails.output.box.length}}", s) == 99);  // unless it has a "length" field
}

BOOST_AUTO_TEST_CASE(record_fields_are_reachable) {
  auto s = make_scope();
  BOOST_TEST(resolve("{{emails.status}}", s) == "completed");
  BOOST_TEST(resolve("{{prev.stepId}}", s) == "emails");
  BOOST_TEST(resolve("{{emails.error}}", s).is_null());
  BOOST_TEST(resolve("{{emails}}", s)["id"] == "run-1");
}

BOOST_AUTO_TEST_CASE(missing_segment_is_a_template_error_naming_it) {
  auto s = make_scope();
  auto e = resolve_error("{{emails.output.dta}}", s);
  BOOST_TEST(e.code == "template_error");
  BOOST_TEST(e.message.find("'dta'") != std::string::npos);
  BOOST_TEST(e.message.find("emails.output") != std::string::npos);
  BOOST_TEST(resolve_error("{{emails.output.data[5]}}", s).message.find("[5]") != std::string::npos);
  BOOST_TEST(resolve_error("{{nobody.output}}", s).message.find("'nobody'") != std::string::npos);
  BOOST_TEST(resolve_error("{{input.n.x}}", s).code == "template_error");  // a number has no fields
  BOOST_TEST(resolve_error("x {{input.nope}} y", s).code == "template_error");
}

BOOST_AUTO_TEST_CASE(resolved_values_are_never_expanded_again) {
  auto s = make_scope();
  s.values["input"] = json{{"text", "{{input.secret}}"}, {"secret", "leak"}};
  BOOST_TEST(resolve("{{input.text}}", s) == "{{input.secret}}");
  BOOST_TEST(resolve("say {{input.text}}", s) == "say {{input.secret}}");
}

BOOST_AUTO_TEST_SUITE_END()
